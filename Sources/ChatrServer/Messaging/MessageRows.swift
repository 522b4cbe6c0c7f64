import Fluent
import Foundation
import SQLKit

/// Reading messages with plain SQL. Fluent decodes a model by walking its properties with
/// `Mirror` for every row, and `Message` has 27 of them: on a history page that was about a third
/// of the request. Here each column is decoded straight into the model's fields.
enum MessageRows {
    /// The columns `message(from:)` reads, quoted once (SQLKit would escape 27 identifiers per query).
    static let columnList = SQLRaw(MessageService.messageColumns.map { "\"\($0)\"" }.joined(separator: ", "))

    static func message(from row: any SQLRow) throws -> Message {
        let m = Message()
        m.id = try row.decode(column: "id", as: UUID.self)
        m.conversationID = try row.decode(column: "conversation_id", as: UUID.self)
        m.seq = try row.decode(column: "seq", as: Int64.self)
        m.senderID = try row.decode(column: "sender_id", as: UUID.self)
        m.clientMessageID = try row.decode(column: "client_message_id", as: String?.self)
        m.content = try row.decode(column: "content", as: String.self)
        m.type = Message.Kind(rawValue: try row.decode(column: "type", as: String.self)) ?? .text
        m.status = Message.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .sent
        m.readAt = try row.decode(column: "read_at", as: Date?.self)
        m.fileURL = try row.decode(column: "file_url", as: String?.self)
        m.fileName = try row.decode(column: "file_name", as: String?.self)
        m.fileSize = try row.decode(column: "file_size", as: Int?.self)
        m.fileType = try row.decode(column: "file_type", as: String?.self)
        m.caption = try row.decode(column: "caption", as: String?.self)
        m.audioWaveform = try row.decode(column: "audio_waveform", as: String?.self)
        m.audioDuration = try row.decode(column: "audio_duration", as: Double?.self)
        m.deletedAt = try row.decode(column: "deleted_at", as: Date?.self)
        m.edited = try row.decode(column: "edited", as: Bool.self)
        m.editedAt = try row.decode(column: "edited_at", as: Date?.self)
        m.replyToID = try row.decode(column: "reply_to_id", as: UUID?.self)
        m.replyToContent = try row.decode(column: "reply_to_content", as: String?.self)
        m.replyToSenderName = try row.decode(column: "reply_to_sender_name", as: String?.self)
        m.replyToType = try row.decode(column: "reply_to_type", as: String?.self)
        m.replyToDuration = try row.decode(column: "reply_to_duration", as: Double?.self)
        m.createdAt = try row.decode(column: "created_at", as: Date.self)
        m.updatedAt = try row.decode(column: "updated_at", as: Date?.self)
        return m
    }

    /// Up to `limit` messages of a conversation by sequence number: the newest before `before`
    /// (descending) or the oldest after `after` (ascending). One range scan of the
    /// `(conversation_id, seq)` index.
    static func page(of conversationID: UUID, before: Int64?, after: Int64?, limit: Int, on db: any SQLDatabase) async throws -> [Message] {
        var condition = SQLQueryString("conversation_id = \(bind: conversationID)")
        if let before { condition.appendInterpolation(SQLRaw(" AND seq < ")); condition.appendInterpolation(bind: before) }
        if let after { condition.appendInterpolation(SQLRaw(" AND seq > ")); condition.appendInterpolation(bind: after) }
        let order = SQLRaw(after == nil ? "DESC" : "ASC")
        return try await db.raw("""
            SELECT \(columnList) FROM messages WHERE \(condition) ORDER BY seq \(order) LIMIT \(literal: limit)
            """).all().map(message(from:))
    }
}
