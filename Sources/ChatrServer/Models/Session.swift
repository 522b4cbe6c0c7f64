import Fluent
import Foundation

// @unchecked like every Fluent model: safe because an instance is used by one task at a time
// (docs/DECISIONS.md, "Concurrency").
/// One issued JWT, by its `jti`. A token is valid only while its session exists, is not revoked
/// and has not expired — this is what makes logout real.
final class Session: Model, @unchecked Sendable {
    static let schema = "sessions"

    @ID(key: .id) var id: UUID?
    @Field(key: "user_id") var userID: UUID
    @Field(key: "jti") var jti: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "expires_at") var expiresAt: Date
    @OptionalField(key: "revoked_at") var revokedAt: Date?
    @OptionalField(key: "user_agent") var userAgent: String?

    init() {}

    init(userID: UUID, jti: String, createdAt: Date, expiresAt: Date, userAgent: String?) {
        self.userID = userID
        self.jti = jti
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.userAgent = userAgent
    }
}
