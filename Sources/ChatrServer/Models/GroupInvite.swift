import Fluent
import Foundation

// @unchecked like every Fluent model: safe because an instance is used by one task at a time
// (docs/DECISIONS.md, "Concurrency").
/// An invite link to a group, made by an owner or admin: whoever holds the token may join until
/// it is revoked, expires or is used up.
final class GroupInvite: Model, @unchecked Sendable {
    static let schema = "group_invites"

    @ID(key: .id) var id: UUID?
    /// 16 random bytes, base64url: the secret in the link.
    @Field(key: "token") var token: String
    @Field(key: "group_id") var groupID: UUID
    @Field(key: "created_by") var createdBy: UUID
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "expires_at") var expiresAt: Date?
    @OptionalField(key: "max_uses") var maxUses: Int?
    @Field(key: "uses") var uses: Int
    @OptionalField(key: "revoked_at") var revokedAt: Date?

    init() {}

    func isUsable(at now: Date) -> Bool {
        revokedAt == nil && (expiresAt.map { $0 > now } ?? true) && (maxUses.map { uses < $0 } ?? true)
    }
}
