import Fluent

/// `chatr user disable`: a disabled account cannot sign in, and its tokens stop working.
struct AddUserDisabledAt: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(User.schema).field("disabled_at", .datetime).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(User.schema).deleteField("disabled_at").update()
    }
}
