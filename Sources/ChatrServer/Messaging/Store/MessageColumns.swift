import Foundation
import SQLKit

/// The one mapping between a `messages` row and a message, for plain SQL. Fluent decodes a model
/// by walking its properties with `Mirror` for every row, and `Message` has 29 of them: on a
/// history page that was about a third of the request. Here each column is read and written
/// straight. (Messages read here are for showing, as `StoredMessage` values; one that will be
/// changed is loaded with Fluent, which then writes only the fields that changed.)
enum MessageColumns {
    static let names = ["id", "conversation_id", "seq", "sender_id", "client_message_id", "content", "type", "status", "read_at",
                        "file_url", "file_name", "file_size", "file_type", "caption", "audio_waveform", "audio_duration", "image_width", "image_height", "deleted_at",
                        "edited", "edited_at", "reply_to_id", "reply_to_content", "reply_to_sender_name", "reply_to_type",
                        "reply_to_duration", "created_at", "updated_at"]

    /// The column list, quoted once (SQLKit would escape 28 identifiers per query).
    static let list = SQLRaw(names.map { "\"\($0)\"" }.joined(separator: ", "))

    /// What an insert writes: `names` and the search index's text, which is never read back.
    static let insertNames = names + ["search_text"]
    static let insertList = SQLRaw(insertNames.map { "\"\($0)\"" }.joined(separator: ", "))

    /// The values of `insertNames`, in order; `seq` is a bind or an expression.
    static func values(_ m: Message, seq: any SQLExpression) -> [any SQLExpression] {
        [SQLBind(m.id!), SQLBind(m.conversationID), seq, SQLBind(m.senderID), SQLBind(m.clientMessageID),
         SQLBind(m.content), SQLBind(m.type.rawValue), SQLBind(m.status.rawValue), SQLBind(m.readAt),
         SQLBind(m.fileURL), SQLBind(m.fileName), SQLBind(m.fileSize), SQLBind(m.fileType), SQLBind(m.caption),
         SQLBind(m.audioWaveform), SQLBind(m.audioDuration), SQLBind(m.imageWidth), SQLBind(m.imageHeight), SQLBind(m.deletedAt), SQLBind(m.edited), SQLBind(m.editedAt),
         SQLBind(m.replyToID), SQLBind(m.replyToContent), SQLBind(m.replyToSenderName), SQLBind(m.replyToType),
         SQLBind(m.replyToDuration), SQLBind(m.createdAt), SQLBind(m.createdAt), SQLBind(SearchText.indexed(m))]
    }

    /// Messages with their sequence numbers, in one multi-row INSERT (the batch writer's, and
    /// `chatr bench-seed`'s bulk load — Fluent's per-model path is too slow for millions).
    static func insert(_ rows: [(message: Message, seq: Int64)], into db: any SQLDatabase) async throws {
        guard !rows.isEmpty else { return }
        var insert = db.insert(into: Message.schema).columns(insertNames)
        for row in rows { insert = insert.values(values(row.message, seq: SQLBind(row.seq))) }
        try await insert.run()
    }

    static func stored(from row: any SQLRow) throws -> StoredMessage {
        StoredMessage(
            id: try row.decode(column: "id", as: UUID.self),
            conversationID: try row.decode(column: "conversation_id", as: UUID.self),
            seq: try row.decode(column: "seq", as: Int64.self),
            senderID: try row.decode(column: "sender_id", as: UUID.self),
            clientMessageID: try row.optional("client_message_id", as: String.self),
            content: try row.decode(column: "content", as: String.self),
            type: Message.Kind(rawValue: try row.decode(column: "type", as: String.self)) ?? .text,
            status: Message.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .sent,
            readAt: try row.optional("read_at", as: Date.self),
            fileURL: try row.optional("file_url", as: String.self),
            fileName: try row.optional("file_name", as: String.self),
            fileSize: try row.optional("file_size", as: Int.self),
            fileType: try row.optional("file_type", as: String.self),
            caption: try row.optional("caption", as: String.self),
            audioWaveform: try row.optional("audio_waveform", as: String.self),
            audioDuration: try row.optional("audio_duration", as: Double.self),
            imageWidth: try row.optional("image_width", as: Int.self),
            imageHeight: try row.optional("image_height", as: Int.self),
            deletedAt: try row.optional("deleted_at", as: Date.self),
            edited: try row.decode(column: "edited", as: Bool.self),
            editedAt: try row.optional("edited_at", as: Date.self),
            replyToID: try row.optional("reply_to_id", as: UUID.self),
            replyToContent: try row.optional("reply_to_content", as: String.self),
            replyToSenderName: try row.optional("reply_to_sender_name", as: String.self),
            replyToType: try row.optional("reply_to_type", as: String.self),
            replyToDuration: try row.optional("reply_to_duration", as: Double.self),
            createdAt: try row.decode(column: "created_at", as: Date.self))
    }
}

extension SQLRow {
    /// An optional column: NULL is checked first, and a value decoded as the plain type. Decoding
    /// `T?` goes through `Optional`'s `Decodable` (and, on SQLite, a dynamic cast) per column, and
    /// most of a message's eighteen optional columns are NULL.
    func optional<T: Decodable>(_ column: String, as type: T.Type) throws -> T? {
        // `decodeNil` is also true for a column the row does not have: a misspelt name would
        // read as NULL. Debug builds (the tests) say so.
        assert(contains(column: column), "no column \(column) in the row")
        return try decodeNil(column: column) ? nil : decode(column: column, as: T.self)
    }
}
