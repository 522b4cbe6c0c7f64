import Fluent
import SQLKit

struct CreateSessions: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Session.schema)
            .id()
            .field("user_id", .uuid, .required, .references(User.schema, "id", onDelete: .cascade))
            .field("jti", .string, .required)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .field("revoked_at", .datetime)
            .field("user_agent", .string)
            .unique(on: "jti")
            .create()
        try await (database as! any SQLDatabase).create(index: "sessions_user_id")
            .on(Session.schema).column("user_id").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Session.schema).delete()
    }
}
