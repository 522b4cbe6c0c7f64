import Fluent

/// An image message's width and height (read from the file at upload, so clients can reserve
/// its box before it loads), and a user's bio (a line or two about themselves).
struct AddImageSizeAndBio: AsyncMigration {
    func prepare(on database: any Database) async throws {
        // One column per ALTER: SQLite adds a single column at a time.
        try await database.schema(Message.schema).field("image_width", .int).update()
        try await database.schema(Message.schema).field("image_height", .int).update()
        try await database.schema(User.schema).field("bio", .string).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Message.schema).deleteField("image_width").update()
        try await database.schema(Message.schema).deleteField("image_height").update()
        try await database.schema(User.schema).deleteField("bio").update()
    }
}
