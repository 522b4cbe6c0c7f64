import Fluent
import SQLKit

/// SQLite only: a stored message moves its conversation's `last_seq` and `last_message_at`
/// itself, so a send is a single `INSERT … SELECT last_seq + 1 … RETURNING` — one round trip to
/// SQLite instead of BEGIN, UPDATE, INSERT, COMMIT. Message inserts to SQLite are serialised
/// by the `MessageBatchWriter`, so reading `last_seq` inside the INSERT cannot race. `MAX` keeps bulk inserts in
/// any order correct. PostgreSQL keeps the UPDATE … RETURNING (its row lock orders concurrent sends).
struct AddSQLiteSeqTrigger: AsyncMigration {
    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase, sql.dialect.name == "sqlite" else { return }
        try await sql.raw("""
            CREATE TRIGGER IF NOT EXISTS messages_advance_conversation AFTER INSERT ON messages
            BEGIN
              UPDATE conversations
              SET last_seq = MAX(last_seq, NEW.seq), last_message_at = MAX(COALESCE(last_message_at, NEW.created_at), NEW.created_at)
              WHERE id = NEW.conversation_id;
            END
            """).run()
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase, sql.dialect.name == "sqlite" else { return }
        try await sql.raw("DROP TRIGGER IF EXISTS messages_advance_conversation").run()
    }
}
