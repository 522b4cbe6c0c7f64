import Logging
import Fluent
import Foundation
import SQLKit

/// What the SQLite and PostgreSQL stores share: everything but the insert.
protocol SQLMessageStore: MessageStore {
    var db: any Database { get }
}

extension SQLMessageStore {
    /// Both drivers are SQL databases; the store is the one place that relies on it for messages.
    var sql: any SQLDatabase { db as! any SQLDatabase }

    func message(_ id: UUID) async throws -> Message? {
        try await Message.find(id, on: db)
    }

    func message(sender: UUID, clientMessageID: String) async throws -> Message? {
        try await Message.query(on: db).filter(\.$senderID == sender).filter(\.$clientMessageID == clientMessageID).first()
    }

    func page(of conversationID: UUID, before: Int64?, after: Int64?, floor: Int64, limit: Int) async throws -> [StoredMessage] {
        // One range scan of the `(conversation_id, seq)` index.
        var condition = SQLQueryString("conversation_id = \(bind: conversationID) AND seq > \(bind: floor)")
        if let before { condition.appendInterpolation(SQLRaw(" AND seq < ")); condition.appendInterpolation(bind: before) }
        if let after { condition.appendInterpolation(SQLRaw(" AND seq > ")); condition.appendInterpolation(bind: after) }
        let order = SQLRaw(after == nil ? "DESC" : "ASC")
        return try await sql.raw("""
            SELECT \(MessageColumns.list) FROM messages WHERE \(condition) ORDER BY seq \(order) LIMIT \(literal: limit)
            """).all().map(MessageColumns.stored(from:))
    }

    func newest(in conversationID: UUID, notFrom user: UUID) async throws -> Message? {
        try await Message.query(on: db).filter(\.$conversationID == conversationID).filter(\.$senderID != user)
            .sort(\.$seq, .descending).first()
    }

    func lastMessages(ofConversationsOf member: UUID) async throws -> [StoredMessage] {
        // The last message is the one whose seq is the conversation's last_seq: no sort, no scan.
        try await sql.raw("""
            SELECT \(SQLRaw(MessageColumns.names.map { "m.\"\($0)\"" }.joined(separator: ", "))) FROM messages m
            JOIN conversations c ON c.id = m.conversation_id AND m.seq = c.last_seq
            JOIN members mb ON mb.conversation_id = c.id AND mb.user_id = \(bind: member) AND m.seq > mb.history_from_seq
            """).all().map(MessageColumns.stored(from:))
    }

    func senders(in conversationID: UUID, after: Int64, upTo: Int64, notFrom user: UUID) async throws -> Set<UUID> {
        guard upTo > after else { return [] }
        return Set(try await sql.raw("""
            SELECT DISTINCT sender_id FROM messages
            WHERE conversation_id = \(bind: conversationID) AND seq > \(bind: after) AND seq <= \(bind: upTo) AND sender_id <> \(bind: user)
              AND type <> 'system'
            """).all().map { try $0.decode(column: "sender_id", as: UUID.self) })
    }

    func unreadCounts(of member: UUID) async throws -> [UUID: Int] {
        var unread: [UUID: Int] = [:]
        // Per conversation, at most `maxUnreadCount` rows are counted (the LIMIT stops the scan).
        for row in try await sql.raw("""
            SELECT mb.conversation_id AS conversation_id, (SELECT COUNT(*) FROM (
                SELECT 1 FROM messages m
                WHERE m.conversation_id = mb.conversation_id
                  AND m.seq > (CASE WHEN mb.last_read_seq > mb.history_from_seq THEN mb.last_read_seq ELSE mb.history_from_seq END)
                  AND m.sender_id <> \(bind: member) AND m.deleted_at IS NULL AND m.type <> 'system'
                LIMIT \(unsafeRaw: String(MessageRules.maxUnreadCount))) AS unread_rows) AS unread
            FROM members mb WHERE mb.user_id = \(bind: member)
            """).all() {
            unread[try row.decode(column: "conversation_id", as: UUID.self)] = try row.decode(column: "unread", as: Int.self)
        }
        return unread
    }

    func save(_ message: Message) async throws {
        message.keepSearchTextCurrent()
        try await message.save(on: db)
    }

    func markRead(in conversationID: UUID, upTo seq: Int64, notFrom reader: UUID, at date: Date) async throws {
        try await Message.query(on: db)
            .filter(\.$conversationID == conversationID).filter(\.$senderID != reader).filter(\.$seq <= seq)
            .filter(\.$status ~~ [.sent, .delivered])
            .set(\.$status, to: .read).set(\.$readAt, to: date)
            .update()
    }

    func edit(_ message: Message, to content: String, by editor: UUID, at date: Date) async throws {
        let messageID = try message.requireID()
        try await db.transaction { db in
            try await MessageEdit(messageID: messageID, editedByID: editor, previousContent: message.content, editedAt: date).create(on: db)
            message.content = content
            message.edited = true
            message.editedAt = date
            message.keepSearchTextCurrent()
            try await message.save(on: db)
        }
    }

    func edits(of messageID: UUID) async throws -> [MessageEdit] {
        try await MessageEdit.query(on: db).filter(\.$messageID == messageID).sort(\.$editedAt).all()
    }
}

/// PostgreSQL: sends are stored in batches by the application's `MessageBatchWriter` (group
/// commit: one transaction, one WAL flush, for every send that queued while the previous batch
/// was written); a batch of one is a single statement.
struct PostgresMessageStore: SQLMessageStore {
    let db: any Database
    let writer: MessageBatchWriter

    func insert(_ message: Message) async throws -> Int64 {
        try await writer.insert(message, on: sql)
    }

    /// A batch in one transaction; if that fails (a repeated clientMessageId), each on its own.
    static func store(_ messages: [Message], on db: any SQLDatabase) async -> [Result<Int64, any Error>] {
        let asked = ContinuousClock.now
        do {
            return try await db.withSession { session -> [Result<Int64, any Error>] in
                ChatrMetrics.shared.poolWait.record(ContinuousClock.now - asked)
                if messages.count > 1, let seqs = try? await insertAll(messages, on: session) { return seqs.map { .success($0) } }
                var outcomes: [Result<Int64, any Error>] = []
                for message in messages {
                    do { outcomes.append(.success(try await insertOne(message, on: session))) } catch { outcomes.append(.failure(error)) }
                }
                return outcomes
            }
        } catch {
            // No connection at all (the database is down, the pool timed out): every send hears it.
            Logger(label: "chatr.messages").error("could not store \(messages.count) messages: \(String(reflecting: error))")
            return messages.map { _ in .failure(ChatrError(.serviceUnavailable, "The database is unavailable; try again")) }
        }
    }

    /// One transaction: the conversations' rows locked in id order (batches of other instances
    /// queue behind, never deadlock), numbers taken from `last_seq`, every message in one INSERT,
    /// the conversations moved on in one UPDATE. Atomic: a failure stores nothing.
    static func insertAll(_ messages: [Message], on db: any SQLDatabase) async throws -> [Int64] {
        try await db.raw("BEGIN").run()
        do {
            let ids = Array(Set(messages.map(\.conversationID))).sorted { $0.uuidString < $1.uuidString }
            let rows = try await db.raw("SELECT id, last_seq FROM conversations WHERE id IN (\(binds: ids)) ORDER BY id FOR UPDATE").all()
            var last: [UUID: Int64] = [:]
            for row in rows { last[try row.decode(column: "id", as: UUID.self)] = try row.decode(column: "last_seq", as: Int64.self) }
            var seqs: [Int64] = []
            var latest: [UUID: Date] = [:]
            for message in messages {
                guard let previous = last[message.conversationID] else { throw ChatrError.notFound("Conversation not found") }
                last[message.conversationID] = previous + 1
                seqs.append(previous + 1)
                latest[message.conversationID] = max(latest[message.conversationID] ?? message.createdAt, message.createdAt)
            }
            try await MessageColumns.insert(zip(messages, seqs).map { ($0, $1) }, into: db)
            let moved = SQLList(ids.map { id in SQLGroupExpression([SQLBind(id), SQLBind(last[id]!), SQLBind(latest[id]!)] as [any SQLExpression]) })
            try await db.raw("""
                UPDATE conversations AS c SET last_seq = v.seq, last_message_at = GREATEST(COALESCE(c.last_message_at, v.at), v.at)
                FROM (VALUES \(moved)) AS v(id, seq, at) WHERE c.id = v.id
                """).run()
            try await db.raw("COMMIT").run()
            return seqs
        } catch {
            try? await db.raw("ROLLBACK").run()
            throw error
        }
    }

    /// The conversation's `last_seq` and `last_message_at` move and the message is stored in one
    /// statement (`WITH … UPDATE … RETURNING` feeding the INSERT) — one round trip instead of
    /// BEGIN, UPDATE, INSERT, COMMIT. If the INSERT fails (a repeated clientMessageId) the whole
    /// statement, UPDATE included, is undone.
    static func insertOne(_ m: Message, on db: any SQLDatabase) async throws -> Int64 {
        let rows = try await db.raw("""
            WITH c AS (
              UPDATE conversations SET last_seq = last_seq + 1, last_message_at = \(bind: m.createdAt)
              WHERE id = \(bind: m.conversationID) RETURNING last_seq
            )
            INSERT INTO messages (\(MessageColumns.insertList))
            SELECT \(SQLList(MessageColumns.values(m, seq: SQLRaw("c.last_seq")))) FROM c
            RETURNING seq
            """).all()
        guard let row = rows.first else { throw ChatrError.notFound("Conversation not found") }
        return try row.decode(column: "seq", as: Int64.self)
    }
}

/// SQLite: one writer at a time, so sends are stored in batches by the application's
/// `MessageBatchWriter` (group commit); the insert trigger (`AddSQLiteSeqTrigger`) moves the
/// conversation.
struct SQLiteMessageStore: SQLMessageStore {
    let db: any Database
    let writer: MessageBatchWriter

    func insert(_ message: Message) async throws -> Int64 {
        try await writer.insert(message, on: sql)
    }

    /// Stores `messages` with one INSERT; if that fails, each on its own (so only the bad ones fail).
    static func store(_ messages: [Message], on db: any SQLDatabase) async -> [Result<Int64, any Error>] {
        if messages.count > 1, let seqs = try? await insertAll(messages, on: db) {
            return seqs.map { .success($0) }
        }
        var outcomes: [Result<Int64, any Error>] = []
        for message in messages {
            do { outcomes.append(.success(try await insertOne(message, on: db))) } catch { outcomes.append(.failure(error)) }
        }
        return outcomes
    }

    /// One read of the conversations' `last_seq`, one INSERT of every message; returns the
    /// sequence numbers in the order of `messages`. Atomic: a failure stores nothing. Only the
    /// batch writer may call it: nothing else writes `last_seq` while a batch runs.
    static func insertAll(_ messages: [Message], on db: any SQLDatabase) async throws -> [Int64] {
        let conversationIDs = Array(Set(messages.map(\.conversationID)))
        let rows = try await db.raw("SELECT id, last_seq FROM conversations WHERE id IN (\(binds: conversationIDs))").all()
        var last: [UUID: Int64] = [:]
        for row in rows { last[try row.decode(column: "id", as: UUID.self)] = try row.decode(column: "last_seq", as: Int64.self) }
        var seqs: [Int64] = []
        seqs.reserveCapacity(messages.count)
        for message in messages {
            guard let previous = last[message.conversationID] else { throw ChatrError.notFound("Conversation not found") }
            let seq = previous + 1
            last[message.conversationID] = seq
            seqs.append(seq)
        }
        try await MessageColumns.insert(zip(messages, seqs).map { ($0, $1) }, into: db)
        return seqs
    }

    /// `INSERT … SELECT last_seq + 1 FROM conversations … RETURNING seq`: the sequence number taken
    /// and the message stored in one statement.
    static func insertOne(_ m: Message, on db: any SQLDatabase) async throws -> Int64 {
        let rows = try await db.raw("""
            INSERT INTO messages (\(MessageColumns.insertList))
            SELECT \(SQLList(MessageColumns.values(m, seq: SQLRaw("c.last_seq + 1")))) FROM conversations c WHERE c.id = \(bind: m.conversationID)
            RETURNING seq
            """).all()
        guard let row = rows.first else { throw ChatrError.notFound("Conversation not found") }
        return try row.decode(column: "seq", as: Int64.self)
    }
}

extension Message {
    /// Sets `searchText` only when it changes: Fluent writes every field assigned, and on SQLite
    /// a written `search_text` re-indexes the message (a status change must not).
    func keepSearchTextCurrent() {
        let text = SearchText.indexed(self)
        if searchText != text { searchText = text }
    }
}
