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
/// Existing messages are indexed here, in one transaction. The change feed's update trigger is
/// re-made so that it does not fire when only `search_text` changes (the backfill, and nothing
/// else: an edit or unsend changes the content or `deleted_at` too) — filling a new column
/// changes nothing a client must hear about, and other nodes' edits meanwhile still reach the
/// feed. (Nodes of the previous version, in a rolling upgrade, store messages without
/// `search_text` until they are upgraded: those are not found.)
struct CreateMessageSearch: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.transaction { database in
            let sql = database as! any SQLDatabase
            let isSQLite = sql.dialect.name == "sqlite"
            try await sql.raw("ALTER TABLE messages ADD COLUMN search_text TEXT").run()
            for statement in isSQLite ? Self.sqliteFeedTrigger : Self.postgresFeedTrigger { try await sql.raw(SQLQueryString(statement)).run() }
            try await Self.backfill(sql)
            for statement in isSQLite ? Self.sqlite : Self.postgres { try await sql.raw(SQLQueryString(statement)).run() }
        }
    }

    /// `messages_feed_update` of `CreateChangeFeed`, but not for an update of `search_text` alone.
    static let sqliteFeedTrigger = [
        "DROP TRIGGER messages_feed_update",
        """
        CREATE TRIGGER messages_feed_update AFTER UPDATE ON messages
        WHEN OLD.search_text IS NEW.search_text OR OLD.content IS NOT NEW.content OR OLD.deleted_at IS NOT NEW.deleted_at BEGIN
          INSERT INTO changes (kind, conversation_id, entity_id) VALUES ('message', NEW.conversation_id, NEW.id);
        END
        """,
    ]
    static let postgresFeedTrigger = [
        "DROP TRIGGER messages_feed_update ON messages",
        """
        CREATE TRIGGER messages_feed_update AFTER UPDATE ON messages FOR EACH ROW
        WHEN (OLD.search_text IS NOT DISTINCT FROM NEW.search_text OR OLD.content IS DISTINCT FROM NEW.content
              OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
        EXECUTE FUNCTION chatr_feed_messages()
        """,
    ]

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
        let isSQLite = sql.dialect.name == "sqlite"
        if isSQLite {
            for trigger in ["messages_search_insert", "messages_search_update", "messages_search_delete"] {
                try await sql.raw(SQLQueryString("DROP TRIGGER IF EXISTS \(trigger)")).run()
            }
            try await sql.raw("DROP TABLE IF EXISTS message_search").run()
        } else {
            try await sql.raw("DROP INDEX IF EXISTS messages_search_vector").run()
            try await sql.raw("ALTER TABLE messages DROP COLUMN IF EXISTS search_vector").run()
        }
        // The feed's trigger as CreateChangeFeed made it.
        try await sql.raw(SQLQueryString(isSQLite ? "DROP TRIGGER messages_feed_update" : "DROP TRIGGER messages_feed_update ON messages")).run()
        guard let original = (isSQLite ? CreateChangeFeed.sqlite : CreateChangeFeed.postgres)
                .first(where: { $0.contains("TRIGGER messages_feed_update") }) else {
            throw MigrationError("the change feed's messages_feed_update trigger is missing from CreateChangeFeed")
        }
        try await sql.raw(SQLQueryString(original)).run()
        try await sql.raw("ALTER TABLE messages DROP COLUMN search_text").run()
    }

    struct MigrationError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
