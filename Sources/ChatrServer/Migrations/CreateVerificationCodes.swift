import Fluent
import SQLKit

struct CreateVerificationCodes: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(VerificationCode.schema)
            .id()
            .field("user_id", .uuid, .required, .references(User.schema, "id", onDelete: .cascade))
            .field("purpose", .string, .required)
            .field("code_hash", .string, .required)
            .field("expires_at", .datetime, .required)
            .field("attempts", .int, .required)
            .field("consumed_at", .datetime)
            .field("created_at", .datetime, .required)
            .create()
        // Every lookup is "the newest code of this user for this purpose".
        try await (database as! any SQLDatabase).create(index: "verification_codes_user_purpose")
            .on(VerificationCode.schema).column("user_id").column("purpose").column("created_at").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(VerificationCode.schema).delete()
    }
}
