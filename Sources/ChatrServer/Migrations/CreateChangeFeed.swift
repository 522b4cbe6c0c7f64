import Fluent
import SQLKit

/// The change feed behind `GET /api/sync` (`ChangeFeed`): one row per change a client must see,
/// numbered in commit order. Triggers write the rows, in the same statement as the change, so no
/// code path (REST or socket, message store or group service) can change something without it
/// reaching the feed, and a crash cannot separate the two.
///
/// | kind | written when | seen by |
/// |---|---|---|
/// | `message` | a message is stored or updated (edit, unsend, status, waveform); a reaction comes, changes or goes | the conversation's members who joined before it |
/// | `read` | a member's read position moves | that member (their other devices) |
/// | `membership` | a member is added or removed (a group deleted removes everyone) | that member |
/// | `conversation` | a group's name, description, avatar or owner changes; a member comes or goes | the conversation's members |
///
/// `members.joined_seq` is the feed position of the member's arrival: a member never sees a
/// change from before they joined. `members.history_from_seq` is the conversation's last message
/// number when they joined: members see history from when they joined (SPEC §6) — someone
/// added to a group, or back after leaving it, does not read what was said before. On PostgreSQL the rows are written under a transaction-scoped
/// advisory lock, so sequence order is commit order (a reader never sees seq 11 while seq 10 is
/// still uncommitted, which would let a client's cursor jump over it). SQLite has one writer.
/// Lock order on PostgreSQL is always the conversation's row, then the feed's lock: sends lock
/// their conversations first (the batch writer's `FOR UPDATE`), so the member triggers lock the
/// conversation before writing to the feed — a member leaving, whose transaction then updates
/// the group, cannot deadlock with a rename or a send.
///
/// A read in a group changes who has read the messages it covers (`readBy`, seen by their
/// senders): each such message gets a row for its sender.
struct CreateChangeFeed: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        if sql.dialect.name == "sqlite" {
            for statement in Self.sqlite { try await sql.raw(SQLQueryString(statement)).run() }
        } else {
            for statement in Self.postgres { try await sql.raw(SQLQueryString(statement)).run() }
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let isSQLite = sql.dialect.name == "sqlite"
        for trigger in ["messages_feed_insert", "messages_feed_update", "reactions_feed_insert", "reactions_feed_update",
                        "reactions_feed_delete", "members_feed_insert", "members_feed_read", "members_feed_delete",
                        "conversations_feed_update"] {
            let table = trigger.components(separatedBy: "_").first!
            try await sql.raw(SQLQueryString(isSQLite ? "DROP TRIGGER IF EXISTS \(trigger)" : "DROP TRIGGER IF EXISTS \(trigger) ON \(table)")).run()
        }
        if !isSQLite {
            for function in ["chatr_feed_messages()", "chatr_feed_reactions()", "chatr_feed_member_insert()", "chatr_feed_member_read()",
                             "chatr_feed_member_delete()", "chatr_feed_conversation()", "chatr_feed(text, uuid, uuid, uuid)"] {
                try await sql.raw(SQLQueryString("DROP FUNCTION IF EXISTS \(function)")).run()
            }
        }
        try await sql.raw("DROP TABLE IF EXISTS changes").run()
        try await sql.raw("DROP TABLE IF EXISTS change_horizon").run()
        try await sql.raw("ALTER TABLE members DROP COLUMN joined_seq").run()
        try await sql.raw("ALTER TABLE members DROP COLUMN history_from_seq").run()
    }

    static let sqlite: [String] = [
        """
        CREATE TABLE changes (
          seq INTEGER PRIMARY KEY,
          kind TEXT NOT NULL,
          conversation_id BLOB NOT NULL,
          user_id BLOB,
          entity_id BLOB,
          at INTEGER NOT NULL DEFAULT (strftime('%s', 'now'))
        )
        """,
        // A rowid, not AUTOINCREMENT (which writes `sqlite_sequence` on every insert): numbers
        // only grow because `ChangeFeed.prune` never deletes the newest row.
        // What `prune` deleted up to: a cursor before it answers 410.
        "CREATE TABLE change_horizon (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL)",
        "INSERT INTO change_horizon (id, seq) VALUES (1, 0)",
        "ALTER TABLE members ADD COLUMN joined_seq INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE members ADD COLUMN history_from_seq INTEGER NOT NULL DEFAULT 0",
        """
        CREATE TRIGGER messages_feed_insert AFTER INSERT ON messages BEGIN
          INSERT INTO changes (kind, conversation_id, entity_id) VALUES ('message', NEW.conversation_id, NEW.id);
        END
        """,
        """
        CREATE TRIGGER messages_feed_update AFTER UPDATE ON messages BEGIN
          INSERT INTO changes (kind, conversation_id, entity_id) VALUES ('message', NEW.conversation_id, NEW.id);
        END
        """,
        """
        CREATE TRIGGER reactions_feed_insert AFTER INSERT ON reactions BEGIN
          INSERT INTO changes (kind, conversation_id, entity_id)
          SELECT 'message', conversation_id, id FROM messages WHERE id = NEW.message_id;
        END
        """,
        """
        CREATE TRIGGER reactions_feed_update AFTER UPDATE ON reactions BEGIN
          INSERT INTO changes (kind, conversation_id, entity_id)
          SELECT 'message', conversation_id, id FROM messages WHERE id = NEW.message_id;
        END
        """,
        """
        CREATE TRIGGER reactions_feed_delete AFTER DELETE ON reactions BEGIN
          INSERT INTO changes (kind, conversation_id, entity_id)
          SELECT 'message', conversation_id, id FROM messages WHERE id = OLD.message_id;
        END
        """,
        // The new member's own row first: its number is where their view of the conversation starts.
        """
        CREATE TRIGGER members_feed_insert AFTER INSERT ON members BEGIN
          INSERT INTO changes (kind, conversation_id, user_id, entity_id) VALUES ('membership', NEW.conversation_id, NEW.user_id, NEW.user_id);
          UPDATE members SET joined_seq = last_insert_rowid(),
            history_from_seq = (SELECT last_seq FROM conversations WHERE id = NEW.conversation_id) WHERE id = NEW.id;
          INSERT INTO changes (kind, conversation_id) VALUES ('conversation', NEW.conversation_id);
        END
        """,
        """
        CREATE TRIGGER members_feed_read AFTER UPDATE OF last_read_seq ON members WHEN NEW.last_read_seq <> OLD.last_read_seq BEGIN
          INSERT INTO changes (kind, conversation_id, user_id, entity_id) VALUES ('read', NEW.conversation_id, NEW.user_id, NEW.user_id);
          INSERT INTO changes (kind, conversation_id, user_id, entity_id)
          SELECT 'message', m.conversation_id, m.sender_id, m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id AND c.kind = 'group'
          WHERE m.conversation_id = NEW.conversation_id AND m.seq > OLD.last_read_seq AND m.seq <= NEW.last_read_seq AND m.sender_id <> NEW.user_id;
        END
        """,
        """
        CREATE TRIGGER members_feed_delete AFTER DELETE ON members BEGIN
          INSERT INTO changes (kind, conversation_id, user_id, entity_id) VALUES ('membership', OLD.conversation_id, OLD.user_id, OLD.user_id);
          INSERT INTO changes (kind, conversation_id) VALUES ('conversation', OLD.conversation_id);
        END
        """,
        """
        CREATE TRIGGER conversations_feed_update AFTER UPDATE OF name, description, avatar, owner_id ON conversations BEGIN
          INSERT INTO changes (kind, conversation_id) VALUES ('conversation', NEW.id);
        END
        """,
    ]

    static let postgres: [String] = [
        """
        CREATE TABLE changes (
          seq BIGSERIAL PRIMARY KEY,
          kind TEXT NOT NULL,
          conversation_id UUID NOT NULL,
          user_id UUID,
          entity_id UUID,
          at BIGINT NOT NULL DEFAULT (extract(epoch FROM now())::bigint)
        )
        """,
        "CREATE TABLE change_horizon (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL)",
        "INSERT INTO change_horizon (id, seq) VALUES (1, 0)",
        "ALTER TABLE members ADD COLUMN joined_seq BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE members ADD COLUMN history_from_seq BIGINT NOT NULL DEFAULT 0",
        // Every feed row goes through here: the lock (held to commit) makes numbering order commit order.
        """
        CREATE FUNCTION chatr_feed(k text, conversation uuid, member uuid, entity uuid) RETURNS bigint AS $$
        DECLARE s bigint;
        BEGIN
          PERFORM pg_advisory_xact_lock(7305040917);
          INSERT INTO changes (kind, conversation_id, user_id, entity_id) VALUES (k, conversation, member, entity) RETURNING seq INTO s;
          RETURN s;
        END $$ LANGUAGE plpgsql
        """,
        """
        CREATE FUNCTION chatr_feed_messages() RETURNS trigger AS $$
        BEGIN PERFORM chatr_feed('message', NEW.conversation_id, NULL, NEW.id); RETURN NULL; END $$ LANGUAGE plpgsql
        """,
        """
        CREATE FUNCTION chatr_feed_reactions() RETURNS trigger AS $$
        DECLARE r record; c uuid;
        BEGIN
          IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
          SELECT conversation_id INTO c FROM messages WHERE id = r.message_id;
          IF c IS NOT NULL THEN PERFORM chatr_feed('message', c, NULL, r.message_id); END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql
        """,
        """
        CREATE FUNCTION chatr_feed_member_insert() RETURNS trigger AS $$
        BEGIN
          PERFORM 1 FROM conversations WHERE id = NEW.conversation_id FOR NO KEY UPDATE;
          NEW.joined_seq := chatr_feed('membership', NEW.conversation_id, NEW.user_id, NEW.user_id);
          NEW.history_from_seq := COALESCE((SELECT last_seq FROM conversations WHERE id = NEW.conversation_id), 0);
          PERFORM chatr_feed('conversation', NEW.conversation_id, NULL, NULL);
          RETURN NEW;
        END $$ LANGUAGE plpgsql
        """,
        """
        CREATE FUNCTION chatr_feed_member_read() RETURNS trigger AS $$
        BEGIN
          PERFORM chatr_feed('read', NEW.conversation_id, NEW.user_id, NEW.user_id);
          INSERT INTO changes (kind, conversation_id, user_id, entity_id)
          SELECT 'message', m.conversation_id, m.sender_id, m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id AND c.kind = 'group'
          WHERE m.conversation_id = NEW.conversation_id AND m.seq > OLD.last_read_seq AND m.seq <= NEW.last_read_seq AND m.sender_id <> NEW.user_id
          ORDER BY m.seq;
          RETURN NULL;
        END $$ LANGUAGE plpgsql
        """,
        """
        CREATE FUNCTION chatr_feed_member_delete() RETURNS trigger AS $$
        BEGIN
          PERFORM 1 FROM conversations WHERE id = OLD.conversation_id FOR NO KEY UPDATE;
          PERFORM chatr_feed('membership', OLD.conversation_id, OLD.user_id, OLD.user_id);
          PERFORM chatr_feed('conversation', OLD.conversation_id, NULL, NULL);
          RETURN NULL;
        END $$ LANGUAGE plpgsql
        """,
        """
        CREATE FUNCTION chatr_feed_conversation() RETURNS trigger AS $$
        BEGIN PERFORM chatr_feed('conversation', NEW.id, NULL, NULL); RETURN NULL; END $$ LANGUAGE plpgsql
        """,
        "CREATE TRIGGER messages_feed_insert AFTER INSERT ON messages FOR EACH ROW EXECUTE FUNCTION chatr_feed_messages()",
        "CREATE TRIGGER messages_feed_update AFTER UPDATE ON messages FOR EACH ROW EXECUTE FUNCTION chatr_feed_messages()",
        "CREATE TRIGGER reactions_feed_insert AFTER INSERT ON reactions FOR EACH ROW EXECUTE FUNCTION chatr_feed_reactions()",
        "CREATE TRIGGER reactions_feed_update AFTER UPDATE ON reactions FOR EACH ROW EXECUTE FUNCTION chatr_feed_reactions()",
        "CREATE TRIGGER reactions_feed_delete AFTER DELETE ON reactions FOR EACH ROW EXECUTE FUNCTION chatr_feed_reactions()",
        "CREATE TRIGGER members_feed_insert BEFORE INSERT ON members FOR EACH ROW EXECUTE FUNCTION chatr_feed_member_insert()",
        """
        CREATE TRIGGER members_feed_read AFTER UPDATE OF last_read_seq ON members FOR EACH ROW
        WHEN (NEW.last_read_seq IS DISTINCT FROM OLD.last_read_seq) EXECUTE FUNCTION chatr_feed_member_read()
        """,
        "CREATE TRIGGER members_feed_delete AFTER DELETE ON members FOR EACH ROW EXECUTE FUNCTION chatr_feed_member_delete()",
        """
        CREATE TRIGGER conversations_feed_update AFTER UPDATE OF name, description, avatar, owner_id ON conversations
        FOR EACH ROW EXECUTE FUNCTION chatr_feed_conversation()
        """,
    ]
}
