import Fluent
import Foundation
import Logging
import SocketIO
import SQLKit

/// `GET /api/sync`: what changed for a user after a position in the feed (the `changes` table,
/// written by triggers: `CreateChangeFeed`).
///
/// The feed answers with **current state**, not with a replay of events: a message edited three
/// times and reacted to twice after the cursor comes back once, as it is now; a conversation
/// whose messages, read position or members changed comes back as its conversation-list entry
/// (last message, unread count); one the user left or was removed from comes back as
/// `conversation:removed`. Applying a page is therefore idempotent — a client may see the same
/// entry live and again in the feed, or read a page twice, and end up in the same state — and
/// a client that applies every page ends up exactly where a fresh load would put it.
///
/// A page is one range read of the `changes` primary key from the cursor, each row checked
/// against the user's membership (`members` by its unique `(conversation_id, user_id)` index):
/// no scan per conversation.
struct ChangeFeed {
    let services: ChatrServices
    let db: any Database

    static let defaultLimit = 200
    /// A page of 5,000 rows is a few megabytes: a client far behind catches up in few requests.
    static let maxLimit = 5_000

    /// One entry of a page.
    enum Entry {
        case message(MessageDTO)
        case conversation(ConversationList.Item)
        case removed(conversationID: UUID)
    }

    struct Page {
        var entries: [(seq: Int64, entry: Entry)]
        /// Where the next page starts: after the last row read (seen or not by this user).
        var next: Int64
        var hasMore: Bool
    }

    private var sql: any SQLDatabase { db as! any SQLDatabase }

    /// The newest position, and the oldest a cursor may still name (older ones were pruned).
    func bounds() async throws -> (horizon: Int64, latest: Int64) {
        let row = try await sql.raw("""
            SELECT (SELECT seq FROM change_horizon WHERE id = 1) AS horizon, (SELECT COALESCE(MAX(seq), 0) FROM changes) AS latest
            """).first()
        let horizon = try row?.decode(column: "horizon", as: Int64?.self) ?? 0
        let latest = try row?.decode(column: "latest", as: Int64?.self) ?? 0
        return (horizon, max(horizon, latest))
    }

    /// The feed's newest position (what live events carry: at or after their own change).
    func latest() async throws -> Int64 {
        try await bounds().latest
    }

    /// A cursor older than what the feed keeps: the client reloads instead.
    static let expired = ChatrError(.gone, "This cursor is too old: reload your conversations (GET /api/messages/conversations), then sync from the cursor GET /api/sync gives without `since`",
                                    code: "cursor_expired")

    /// Changes for `user` after `since`, at most `limit` rows of the log read. A position this
    /// feed has not reached is refused (400), one it has pruned is gone (410).
    func page(for user: User, since: Int64, limit: Int) async throws -> Page {
        let me = try user.requireID()
        // The upper bound is read first and the page stops there: a change committed while the
        // page is read belongs to the next one (on PostgreSQL numbering follows commit order).
        let (horizon, latest) = try await bounds()
        guard since <= latest else { throw ChatrError.badRequest("This cursor is not from this server", code: "invalid_cursor") }
        guard since >= horizon else { throw ChangeFeed.expired }
        let rows = try await sql.raw("""
            SELECT c.seq, c.kind, c.conversation_id, c.entity_id FROM changes c
            WHERE c.seq > \(bind: since) AND c.seq <= \(bind: latest) AND (c.user_id = \(bind: me) OR (c.user_id IS NULL AND EXISTS (
              SELECT 1 FROM members m WHERE m.conversation_id = c.conversation_id AND m.user_id = \(bind: me) AND m.joined_seq < c.seq)))
            ORDER BY c.seq LIMIT \(literal: limit + 1)
            """).all()
        // Pruned while this page was read: what it read may have a hole — the client reloads.
        if try await bounds().horizon > since { throw ChangeFeed.expired }
        let hasMore = rows.count > limit
        var latestOfMessage: [UUID: Int64] = [:]
        var latestOfConversation: [UUID: Int64] = [:]
        var last = since
        for row in rows.prefix(limit) {
            let seq = try row.decode(column: "seq", as: Int64.self)
            let conversation = try row.decode(column: "conversation_id", as: UUID.self)
            last = seq
            latestOfConversation[conversation] = seq
            if try row.decode(column: "kind", as: String.self) == "message", let message = try row.decode(column: "entity_id", as: UUID?.self) {
                latestOfMessage[message] = seq
            }
        }
        if !hasMore { last = latest }
        guard !latestOfConversation.isEmpty else { return Page(entries: [], next: last, hasMore: hasMore) }

        var entries: [(seq: Int64, entry: Entry)] = []
        let listed = try await ConversationList(services: services, db: db).list(for: user, only: Set(latestOfConversation.keys))
        let mine = Dictionary(listed.compactMap { item in UUID(uuidString: item.conversationId).map { ($0, item) } }, uniquingKeysWith: { a, _ in a })
        for (conversation, seq) in latestOfConversation {
            if let item = mine[conversation] { entries.append((seq, .conversation(item))) } else { entries.append((seq, .removed(conversationID: conversation))) }
        }
        for dto in try await messages(Array(latestOfMessage.keys), viewer: me, in: Set(mine.keys)) {
            if let id = UUID(uuidString: dto.id), let seq = latestOfMessage[id] { entries.append((seq, .message(dto))) }
        }
        // Oldest first; a conversation's entry after its messages (the client shows the newest last).
        entries.sort { $0.seq < $1.seq || ($0.seq == $1.seq && $0.entry.isMessage && !$1.entry.isMessage) }
        return Page(entries: entries, next: last, hasMore: hasMore)
    }

    /// The messages as `viewer` sees them (their own read state in groups), in the conversations
    /// they still belong to.
    private func messages(_ ids: [UUID], viewer: UUID, in conversations: Set<UUID>) async throws -> [MessageDTO] {
        guard !ids.isEmpty else { return [] }
        // Raw rows, as history reads them: decoding a thousand Fluent models costs more than the query.
        let rows = try await sql.raw("SELECT \(MessageColumns.list) FROM messages WHERE id IN (\(binds: ids))").all()
            .map(MessageColumns.stored(from:)).filter { conversations.contains($0.conversationID) }
        let conversationIDs = Array(Set(rows.map(\.conversationID)))
        guard !conversationIDs.isEmpty else { return [] }
        let conversationRows = try await Conversation.query(on: db).filter(\.$id ~~ conversationIDs).all()
        let members = Dictionary(grouping: try await Member.query(on: db).filter(\.$conversationID ~~ conversationIDs).all(), by: \.conversationID)
        // Not what was said before the viewer joined (an old message reacted to since).
        let floors = Dictionary(members.values.joined().filter { $0.userID == viewer }.map { ($0.conversationID, $0.historyFromSeq) },
                                uniquingKeysWith: max)
        let messages = rows.filter { $0.seq > floors[$0.conversationID] ?? 0 }
        let contexts = Dictionary(conversationRows.map { conversation in
            let list = members[conversation.id!] ?? []
            var context = MessageAssembler.Context(conversation: conversation, members: list)
            if conversation.kind == .group {
                context.groupReads = (viewer, Dictionary(list.map { ($0.userID, $0.lastReadSeq) }, uniquingKeysWith: max))
            }
            return (conversation.id!, context)
        }, uniquingKeysWith: { a, _ in a })
        return try await MessageAssembler(db: db, files: services.files).dtos(messages, contexts: contexts)
    }

    /// Forgets changes older than `age`; cursors from before them answer 410 from then on.
    /// Returns how many rows went.
    @discardableResult
    func prune(olderThan age: Duration, now: Date) async throws -> Int {
        let cutoff = Int64(now.timeIntervalSince1970) - age.components.seconds
        // Never the newest row: on SQLite the next number is the highest kept plus one.
        guard let row = try await sql.raw("""
            SELECT MAX(seq) AS seq FROM changes WHERE at < \(bind: cutoff) AND seq < (SELECT MAX(seq) FROM changes)
            """).first(),
              let upTo = try row.decode(column: "seq", as: Int64?.self) else { return 0 }
        // The horizon moves first: a reader between the two statements is sent to reload, never
        // handed a page with a hole in it.
        try await sql.raw("UPDATE change_horizon SET seq = \(bind: upTo) WHERE id = 1 AND seq < \(bind: upTo)").run()
        let gone = try await sql.raw("SELECT COUNT(*) AS n FROM changes WHERE seq <= \(bind: upTo)").first()?.decode(column: "n", as: Int.self) ?? 0
        try await sql.raw("DELETE FROM changes WHERE seq <= \(bind: upTo)").run()
        return gone
    }
}

extension ChangeFeed.Entry {
    var isMessage: Bool { if case .message = self { return true } else { return false } }

    /// `{cursor, type, …}`: `message` with the message, `conversation` with its list entry,
    /// `conversation:removed` with its id.
    func socketValue(cursor: String) throws -> SocketValue {
        switch self {
        case .message(let dto):
            return ["cursor": .string(cursor), "type": "message", "message": dto.socketValue]
        case .conversation(let item):
            return ["cursor": .string(cursor), "type": "conversation", "conversation": try EventPayload.encode(item)]
        case .removed(let id):
            return ["cursor": .string(cursor), "type": "conversation:removed", "conversationId": .string(id.wire)]
        }
    }
}

extension ChatrServices {
    /// Publishes the events of a change, each stamped with `cursor`: the feed's position read
    /// after the change was stored — at or after the change's own rows, so a client holding it
    /// knows a sync from there would not bring this change again.
    func publishChanges(_ events: [RealtimeEvent], db: any Database) async {
        guard !events.isEmpty else { return }
        do {
            let position = try await feedPosition.read { [self] in try await ChangeFeed(services: self, db: db).latest() }
            let cursor = SocketValue.string(syncCursors.string(for: position))
            self.events.publish(events.map { event in
                guard case .object(var payload) = event.payload else { return event }
                var stamped = event
                payload["cursor"] = cursor
                stamped.payload = .object(payload)
                return stamped
            })
        } catch {
            // The change is stored; its events still go out, without a position.
            Logger(label: "chatr.sync").error("could not read the feed position for \(events.map(\.name)): \(String(reflecting: error))")
            self.events.publish(events)
        }
    }
}
