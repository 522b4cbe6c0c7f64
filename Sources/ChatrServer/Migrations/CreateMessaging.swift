import Fluent
import SQLKit

/// Conversations, members, messages, edits and reactions, with the indexes SPEC §3 asks for:
/// history by (conversation, seq); a user's memberships; conversations by last activity;
/// unread counts by (conversation, seq); idempotent sends by (sender, clientMessageId).
struct CreateMessaging: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await database.schema(Conversation.schema)
            .id()
            .field("kind", .string, .required)
            .field("direct_key", .string)
            .field("name", .string)
            .field("description", .string)
            .field("owner_id", .uuid, .references(User.schema, "id", onDelete: .setNull))
            .field("avatar", .string)
            .field("last_seq", .int64, .required)
            .field("last_message_at", .datetime)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .unique(on: "direct_key")
            .create()
        try await sql.create(index: "conversations_last_message_at").on(Conversation.schema).column("last_message_at").run()

        try await database.schema(Member.schema)
            .id()
            .field("conversation_id", .uuid, .required, .references(Conversation.schema, "id", onDelete: .cascade))
            .field("user_id", .uuid, .required, .references(User.schema, "id", onDelete: .cascade))
            .field("role", .string, .required)
            .field("joined_at", .datetime, .required)
            .field("last_read_message_id", .uuid)
            .field("last_read_seq", .int64, .required)
            .field("last_read_at", .datetime)
            .unique(on: "conversation_id", "user_id")
            .create()
        try await sql.create(index: "members_user_id").on(Member.schema).column("user_id").run()

        try await database.schema(Message.schema)
            .id()
            .field("conversation_id", .uuid, .required, .references(Conversation.schema, "id", onDelete: .cascade))
            .field("seq", .int64, .required)
            .field("sender_id", .uuid, .required, .references(User.schema, "id", onDelete: .cascade))
            .field("client_message_id", .string)
            .field("content", .string, .required)
            .field("type", .string, .required)
            .field("status", .string, .required)
            .field("read_at", .datetime)
            .field("file_url", .string)
            .field("file_name", .string)
            .field("file_size", .int)
            .field("file_type", .string)
            .field("caption", .string)
            .field("audio_waveform", .string)
            .field("audio_duration", .double)
            .field("deleted_at", .datetime)
            .field("edited", .bool, .required)
            .field("edited_at", .datetime)
            .field("reply_to_id", .uuid)
            .field("reply_to_content", .string)
            .field("reply_to_sender_name", .string)
            .field("reply_to_type", .string)
            .field("reply_to_duration", .double)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime)
            .unique(on: "conversation_id", "seq")
            .unique(on: "sender_id", "client_message_id")
            .create()

        try await database.schema(MessageEdit.schema)
            .id()
            .field("message_id", .uuid, .required, .references(Message.schema, "id", onDelete: .cascade))
            .field("edited_by_id", .uuid, .required, .references(User.schema, "id", onDelete: .cascade))
            .field("previous_content", .string, .required)
            .field("edited_at", .datetime, .required)
            .create()
        try await sql.create(index: "message_edits_message_id").on(MessageEdit.schema).column("message_id").run()

        try await database.schema(Reaction.schema)
            .id()
            .field("message_id", .uuid, .required, .references(Message.schema, "id", onDelete: .cascade))
            .field("user_id", .uuid, .required, .references(User.schema, "id", onDelete: .cascade))
            .field("emoji", .string, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "message_id", "user_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        for schema in [Reaction.schema, MessageEdit.schema, Message.schema, Member.schema, Conversation.schema] {
            try await database.schema(schema).delete()
        }
    }
}
