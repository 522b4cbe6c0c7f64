import Fluent
import Foundation

/// Where messages are kept. Every piece of message SQL and the mapping between `messages` rows
/// and `Message` live behind this protocol; `MessageService` keeps only the rules. There is one
/// implementation per database, because the fast paths differ: SQLite has one writer and batches
/// sends (`SQLiteMessageStore`), PostgreSQL takes concurrent sends in one statement each
/// (`PostgresMessageStore`). Everything else they share (`SQLMessageStore`).
protocol MessageStore: Sendable {
    /// Stores a new message with the conversation's next sequence number, which it returns
    /// (`message.seq` is ignored). A repeated `(sender, clientMessageID)` throws the database's
    /// constraint error and stores nothing.
    func insert(_ message: Message) async throws -> Int64

    func message(_ id: UUID) async throws -> Message?
    /// The message a sender already sent with this client id (an idempotent retry).
    func message(sender: UUID, clientMessageID: String) async throws -> Message?
    /// Up to `limit` messages by sequence number, none at or below `floor` (what a member who
    /// joined later does not see): the newest before `before` (newest first), or the oldest after
    /// `after` (oldest first).
    func page(of conversationID: UUID, before: Int64?, after: Int64?, floor: Int64, limit: Int) async throws -> [StoredMessage]
    /// The newest message of a conversation that `user` did not send.
    func newest(in conversationID: UUID, notFrom user: UUID) async throws -> Message?
    /// The last message of every conversation `member` belongs to (if from after they joined).
    func lastMessages(ofConversationsOf member: UUID) async throws -> [StoredMessage]
    /// Who sent the messages with `after < seq <= upTo`, other than `user` (whom a read reached).
    func senders(in conversationID: UUID, after: Int64, upTo: Int64, notFrom user: UUID) async throws -> Set<UUID>
    /// Per conversation of `member`: messages from others after their read position (and after
    /// they joined), not unsent.
    func unreadCounts(of member: UUID) async throws -> [UUID: Int]

    /// Writes a message's changed fields (status, unsend, waveform…).
    func save(_ message: Message) async throws
    /// Others' `sent`/`delivered` messages up to `seq` become `read` at `date`.
    func markRead(in conversationID: UUID, upTo seq: Int64, notFrom reader: UUID, at date: Date) async throws
    /// Replaces the text, keeping the previous one in the edit history — both or neither.
    func edit(_ message: Message, to content: String, by editor: UUID, at date: Date) async throws
    /// The previous texts of a message, oldest first.
    func edits(of messageID: UUID) async throws -> [MessageEdit]
}

/// Which store the application uses, decided once from its database.
enum MessageStorage: Sendable {
    /// Sends go through the application's one batch writer (group commit) on both.
    case sqlite(MessageBatchWriter)
    case postgres(MessageBatchWriter)

    func on(_ db: any Database) -> any MessageStore {
        switch self {
        case .sqlite(let writer): SQLiteMessageStore(db: db, writer: writer)
        case .postgres(let writer): PostgresMessageStore(db: db, writer: writer)
        }
    }

    var writer: MessageBatchWriter {
        switch self {
        case .sqlite(let writer), .postgres(let writer): writer
        }
    }
}
