import Fluent
import Foundation

// @unchecked like every Fluent model: safe because an instance is used by one task at a time
// (docs/DECISIONS.md, "Concurrency").
/// One device's Web Push subscription: where its push service takes messages for it
/// (`endpoint`, unique) and the keys to encrypt them with. It belongs to the session that made
/// it, so signing out of that device stops its notifications.
final class PushSubscription: Model, @unchecked Sendable {
    static let schema = "push_subscriptions"

    @ID(key: .id) var id: UUID?
    @Field(key: "user_id") var userID: UUID
    @Field(key: "session_id") var sessionID: UUID
    @Field(key: "endpoint") var endpoint: String
    /// The browser's P-256 public key and auth secret, base64url as it sent them.
    @Field(key: "p256dh") var p256dh: String
    @Field(key: "auth") var auth: String
    /// Off: the push says "New message" and nothing about who or what.
    @Field(key: "previews") var previews: Bool
    @Field(key: "created_at") var createdAt: Date

    init() {}
}
