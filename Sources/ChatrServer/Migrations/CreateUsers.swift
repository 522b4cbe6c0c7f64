import Fluent

struct CreateUsers: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(User.schema)
            .id()
            .field("email", .string)
            .field("phone_number", .string)
            .field("username", .string, .required)
            .field("username_key", .string, .required)
            .field("display_name", .string, .required)
            .field("first_name", .string)
            .field("last_name", .string)
            .field("password_hash", .string, .required)
            .field("profile_image", .string)
            .field("cover_image", .string)
            .field("email_verified", .bool, .required)
            .field("phone_verified", .bool, .required)
            .field("two_factor_secret", .string)
            .field("two_factor_enabled", .bool, .required)
            .field("show_online_status", .bool, .required)
            .field("last_seen", .datetime)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .unique(on: "username_key")
            .unique(on: "email")
            .unique(on: "phone_number")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(User.schema).delete()
    }
}
