import Fluent
import Foundation

// @unchecked like every Fluent model: safe because an instance is used by one task at a time
// (docs/DECISIONS.md, "Concurrency").
/// A one-time code sent by email or SMS. Only its keyed hash is stored.
final class VerificationCode: Model, @unchecked Sendable {
    static let schema = "verification_codes"

    enum Purpose: String, Codable, Sendable {
        case email, phone, login
        case passwordReset = "password_reset"
    }

    @ID(key: .id) var id: UUID?
    @Field(key: "user_id") var userID: UUID
    @Enum(key: "purpose") var purpose: Purpose
    @Field(key: "code_hash") var codeHash: String
    @Field(key: "expires_at") var expiresAt: Date
    @Field(key: "attempts") var attempts: Int
    @OptionalField(key: "consumed_at") var consumedAt: Date?
    @Field(key: "created_at") var createdAt: Date

    init() {}

    init(userID: UUID, purpose: Purpose, codeHash: String, expiresAt: Date, createdAt: Date) {
        self.userID = userID
        self.purpose = purpose
        self.codeHash = codeHash
        self.expiresAt = expiresAt
        self.attempts = 0
        self.createdAt = createdAt
    }
}
