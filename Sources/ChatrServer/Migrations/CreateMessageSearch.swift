import Fluent
import Foundation
import SQLKit

/// Full-text search over messages (`MessageSearch`). `messages.search_text` holds each message's
/// words as `SearchText` folds them (nil once unsent), written by the message store; each
/// database indexes it:
/// - SQLite: the FTS5 table `message_search`, external content (the text is not stored twice),
///   kept in step by triggers on the messages' rowid. Every message has a row, empty when there
///   is nothing to find, so a trigger never deletes what is not there (which would corrupt it).
/// - PostgreSQL: `messages.search_vector`, a generated `tsvector` column with a GIN index.
///
/// Existing messages are indexed here, with the change feed's update trigger off: filling a new
/// column changes nothing a client sees.
struct CreateMessageSearch: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        if sql.dialect.name == "sqlite" {
            try await sql.raw("DROP TRIGGER messages_feed_update").run()
            try await sql.raw("ALTER TABLE messages ADD COLUMN search_text TEXT").run()
            try await Self.backfill(sql)
            guard let feedTrigger = CreateChangeFeed.sqlite.first(where: { $0.contains("TRIGGER messages_feed_update") }) else {
                throw MigrationError("the change feed's messages_feed_update trigger is missing from CreateChangeFeed")
            }
            try await sql.raw(SQLQueryString(feedTrigger)).run()
            for statement in Self.sqlite { try await sql.raw(SQLQueryString(statement)).run() }
        } else {
            try await sql.raw("ALTER TABLE messages ADD COLUMN search_text TEXT").run()
            try await sql.raw("ALTER TABLE messages DISABLE TRIGGER messages_feed_update").run()
            try await Self.backfill(sql)
            try await sql.raw("ALTER TABLE messages ENABLE TRIGGER messages_feed_update").run()
            for statement in Self.postgres { try await sql.raw(SQLQueryString(statement)).run() }
        }
    }

    static let sqlite = [
        """
        CREATE VIRTUAL TABLE message_search USING fts5(
          search_text, content = 'messages', content_rowid = 'rowid', tokenize = 'unicode61 remove_diacritics 2')
        """,
        "INSERT INTO message_search (message_search) VALUES ('rebuild')",
        """
        CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
          INSERT INTO message_search (rowid, search_text) VALUES (NEW.rowid, NEW.search_text);
        END
        """,
        """
        CREATE TRIGGER messages_search_update AFTER UPDATE OF search_text ON messages BEGIN
          INSERT INTO message_search (message_search, rowid, search_text) VALUES ('delete', OLD.rowid, OLD.search_text);
          INSERT INTO message_search (rowid, search_text) VALUES (NEW.rowid, NEW.search_text);
        END
        """,
        """
        CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
          INSERT INTO message_search (message_search, rowid, search_text) VALUES ('delete', OLD.rowid, OLD.search_text);
        END
        """,
    ]

    static let postgres = [
        "ALTER TABLE messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(search_text, ''))) STORED",
        "CREATE INDEX messages_search_vector ON messages USING GIN (search_vector)",
    ]

    /// Every message's `search_text`, 1,000 at a time in id order.
    private static func backfill(_ sql: any SQLDatabase) async throws {
        var last: UUID?
        while true {
            let after: SQLQueryString = last.map { "AND id > \(bind: $0)" } ?? ""
            let rows = try await sql.raw("""
                SELECT id, conversation_id, content, file_name, caption FROM messages WHERE deleted_at IS NULL \(after) ORDER BY id LIMIT 1000
                """).all()
            guard !rows.isEmpty else { return }
            var values: [any SQLExpression] = []
            for row in rows {
                let message = Message()
                message.conversationID = try row.decode(column: "conversation_id", as: UUID.self)
                message.content = try row.decode(column: "content", as: String.self)
                message.fileName = try row.decode(column: "file_name", as: String?.self)
                message.caption = try row.decode(column: "caption", as: String?.self)
                let id = try row.decode(column: "id", as: UUID.self)
                last = id
                values.append(SQLGroupExpression([SQLBind(id), SQLBind(SearchText.indexed(message))] as [any SQLExpression]))
            }
            try await sql.raw("""
                UPDATE messages SET search_text = v.text
                FROM (SELECT column1 AS id, column2 AS text FROM (VALUES \(SQLList(values))) AS rows) AS v WHERE messages.id = v.id
                """).run()
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        if sql.dialect.name == "sqlite" {
            for trigger in ["messages_search_insert", "messages_search_update", "messages_search_delete"] {
                try await sql.raw(SQLQueryString("DROP TRIGGER IF EXISTS \(trigger)")).run()
            }
            try await sql.raw("DROP TABLE IF EXISTS message_search").run()
        } else {
            try await sql.raw("DROP INDEX IF EXISTS messages_search_vector").run()
            try await sql.raw("ALTER TABLE messages DROP COLUMN IF EXISTS search_vector").run()
        }
        try await sql.raw("ALTER TABLE messages DROP COLUMN search_text").run()
    }

    struct MigrationError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
