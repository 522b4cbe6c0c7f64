import Fluent
import SQLKit

/// Invite links (issue 15): a group is joined with a token an owner or admin made, no longer by
/// knowing its id.
struct CreateGroupInvites: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(GroupInvite.schema)
            .id()
            .field("token", .string, .required)
            .field("group_id", .uuid, .required, .references(Conversation.schema, "id", onDelete: .cascade))
            .field("created_by", .uuid, .required, .references(User.schema, "id", onDelete: .cascade))
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime)
            .field("max_uses", .int)
            .field("uses", .int, .required)
            .field("revoked_at", .datetime)
            .unique(on: "token")
            .create()
        try await (database as! any SQLDatabase).create(index: "group_invites_group_id").on(GroupInvite.schema).column("group_id").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(GroupInvite.schema).delete()
    }
}
