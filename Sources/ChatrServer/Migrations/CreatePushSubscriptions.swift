import Fluent
import SQLKit

/// Web Push (issue 17): each device's subscription, and a per-member mute of a conversation's
/// notifications (`members.muted_until`: null, or until when; "until turned off" is a far date).
struct CreatePushSubscriptions: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(PushSubscription.schema)
            .id()
            .field("user_id", .uuid, .required, .references(User.schema, "id", onDelete: .cascade))
            .field("session_id", .uuid, .required, .references(Session.schema, "id", onDelete: .cascade))
            .field("endpoint", .string, .required)
            .field("p256dh", .string, .required)
            .field("auth", .string, .required)
            .field("previews", .bool, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "endpoint")
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "push_subscriptions_user_id").on(PushSubscription.schema).column("user_id").run()
        try await sql.create(index: "push_subscriptions_session_id").on(PushSubscription.schema).column("session_id").run()
        try await database.schema(Member.schema).field("muted_until", .datetime).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Member.schema).deleteField("muted_until").update()
        try await database.schema(PushSubscription.schema).delete()
    }
}
