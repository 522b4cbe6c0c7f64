import Fluent
import Foundation
import SQLKit

/// Runs a `SearchQuery` over the messages a user may read: conversations they are a member of,
/// from when they joined (`members.history_from_seq`), never unsent ones. Words are matched in
/// the full-text index of each database — SQLite's FTS5 table `message_search`, PostgreSQL's
/// `messages.search_vector` (GIN) — both over `messages.search_text` (`SearchText`).
struct MessageSearch {
    let db: any SQLDatabase
    let isPostgres: Bool

    enum Order: String { case relevance, date }

    /// Filters given as parameters rather than typed (`conversationId=`, `from=`, `before=`…).
    struct Scope {
        var conversationID: UUID?
        var senderID: UUID?
        var before: Date?
        var after: Date?
    }

    /// Up to `limit` messages from `offset`, best first (or newest first).
    func run(_ query: SearchQuery, for me: UUID, scope: Scope, order: Order, offset: Int, limit: Int) async throws -> [StoredMessage] {
        var conditions: [SQLQueryString] = ["m.seq > mb.history_from_seq", "m.deleted_at IS NULL", "m.type <> 'system'"]
        if let id = scope.conversationID { conditions.append("m.conversation_id = \(bind: id)") }
        if let id = scope.senderID { conditions.append("m.sender_id = \(bind: id)") }
        if let name = query.from {
            guard let sender = try await userID(username: name) else { return [] }
            conditions.append("m.sender_id = \(bind: sender)")
        }
        var within: [UUID]?
        if let place = query.place {
            let ids = try await conversations(at: place, of: me)
            guard !ids.isEmpty else { return [] }
            conditions.append("m.conversation_id IN (\(binds: ids))")
            within = ids
        }
        switch query.has {
        case .file?: conditions.append("m.file_url IS NOT NULL")
        case .image?: conditions.append("m.file_url IS NOT NULL AND m.type = 'image'")
        case .audio?: conditions.append("m.file_url IS NOT NULL AND m.type IN ('audio', 'voice')")
        case nil: break
        }
        for before in [scope.before, query.before].compactMap({ $0 }) { conditions.append("m.created_at < \(bind: before)") }
        for after in [scope.after, query.after].compactMap({ $0 }) { conditions.append("m.created_at >= \(bind: after)") }

        let columns = SQLRaw(MessageColumns.names.map { "m.\"\($0)\"" }.joined(separator: ", "))
        let members: SQLQueryString = "JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.user_id = \(bind: me)"
        let byDate = SQLRaw("m.created_at DESC, m.id DESC")
        let page = SQLRaw("LIMIT \(limit) OFFSET \(offset)")
        let sql: SQLQueryString
        if !query.hasText {
            sql = "SELECT \(columns) FROM messages m \(members) WHERE \(SQLQueryString.joined(conditions)) ORDER BY \(byDate) \(page)"
        } else {
            // Words are matched only in the user's conversations, inside the index (see
            // `SearchText.conversationToken`), unless they have so many that the list would cost
            // more than it saves; the membership join decides in every case.
            var mine = within ?? scope.conversationID.map { [$0] } ?? []
            if within == nil && scope.conversationID == nil { mine = try await conversationIDs(of: me) }
            guard !mine.isEmpty else { return [] }
            let narrowed = mine.count <= Self.maxNarrowing ? mine.map(SearchText.conversationToken) : []
            let matching: SQLQueryString
            let newestFirst: SQLRaw
            if isPostgres {
                // `to_tsquery` silently drops an operand it makes no lexeme of: a query left with
                // none must find nothing (not everything in the user's conversations).
                let terms: SQLQueryString = "to_tsquery('simple', \(bind: Self.tsquery(query.terms)))"
                let within: SQLQueryString = narrowed.isEmpty ? terms : "\(terms) && to_tsquery('simple', \(bind: Self.tsquery([], within: narrowed)))"
                matching = """
                    FROM messages m \(members) CROSS JOIN (SELECT \(terms) AS terms, \(within) AS query) q
                    WHERE numnode(q.terms) > 0 AND m.search_vector @@ q.query AND \(SQLQueryString.joined(conditions))
                    """
                newestFirst = byDate
            } else {
                matching = """
                    FROM message_search JOIN messages m ON m.rowid = message_search.rowid \(members)
                    WHERE message_search MATCH \(bind: Self.fts5(query.terms, within: narrowed)) AND \(SQLQueryString.joined(conditions))
                    """
                newestFirst = SQLRaw("message_search.rowid DESC")   // the index's own order: no sort
            }
            if order == .date {
                sql = "SELECT \(columns) \(matching) ORDER BY \(byDate) \(page)"
            } else {
                sql = """
                    SELECT \(columns) FROM (SELECT m.*, \(SearchRanking.columns(query.terms)) \(matching) ORDER BY \(newestFirst) LIMIT \(SQLRaw(String(Self.maxRanked)))) m
                    ORDER BY \(SearchRanking.score(query.terms)) DESC, \(byDate) \(page)
                    """
            }
        }
        return try await db.raw(sql).all().map(MessageColumns.stored(from:))
    }

    /// Conversations listed inside the index query at most; beyond, the join alone narrows.
    static let maxNarrowing = 500

    /// Relevance ranks the last this many matches stored (`SearchRanking`): SQLite's rowid order,
    /// which its index gives without a sort, PostgreSQL's `created_at` — the same in practice, as
    /// messages are stored as they are sent. A word in more of one's messages than this is common
    /// enough that the newest of them are what one looks for; `sort=date` pages through all.
    static let maxRanked = 2_000

    /// FTS5 syntax: each word a quoted string, a prefix `"word"*`, a phrase `"two words"`, all
    /// ANDed, and one of the conversation tokens. Terms hold letters and digits only, so nothing
    /// needs escaping.
    static func fts5(_ terms: [SearchQuery.Term], within conversations: [String] = []) -> String {
        var parts = terms.map { term in
            switch term {
            case .word(let word): "\"\(word)\""
            case .prefix(let prefix): "\"\(prefix)\"*"
            case .phrase(let words): "\"\(words.joined(separator: " "))\""
            }
        }
        if !conversations.isEmpty { parts.append("(" + conversations.map { "\"\($0)\"" }.joined(separator: " OR ") + ")") }
        return parts.joined(separator: " AND ")
    }

    /// `to_tsquery` syntax: quoted lexemes, `:*` for a prefix, `<->` for "followed by", `&` for
    /// AND, `|` for OR.
    static func tsquery(_ terms: [SearchQuery.Term], within conversations: [String] = []) -> String {
        var parts = terms.map { term in
            switch term {
            case .word(let word): "'\(word)'"
            case .prefix(let prefix): "'\(prefix)':*"
            case .phrase(let words): "(" + words.map { "'\($0)'" }.joined(separator: " <-> ") + ")"
            }
        }
        if !conversations.isEmpty { parts.append("(" + conversations.map { "'\($0)'" }.joined(separator: " | ") + ")") }
        return parts.joined(separator: " & ")
    }

    private func conversationIDs(of me: UUID) async throws -> [UUID] {
        try await db.raw("SELECT conversation_id FROM members WHERE user_id = \(bind: me)").all().map { try $0.decode(column: "conversation_id", as: UUID.self) }
    }

    private func userID(username: String) async throws -> UUID? {
        try await db.raw("SELECT id FROM users WHERE username_key = \(bind: "@" + username.lowercased())").first()?.decode(column: "id", as: UUID.self)
    }

    /// The user's conversations a place names: the direct one with a username, or their groups
    /// whose folded name is the folded text (several groups may share a name).
    private func conversations(at place: SearchQuery.Place, of me: UUID) async throws -> [UUID] {
        switch place {
        case .direct(let username):
            guard let other = try await userID(username: username) else { return [] }
            return try await db.raw("""
                SELECT c.id FROM conversations c
                JOIN members a ON a.conversation_id = c.id AND a.user_id = \(bind: me)
                JOIN members b ON b.conversation_id = c.id AND b.user_id = \(bind: other)
                WHERE c.kind = 'direct'
                """).all().map { try $0.decode(column: "id", as: UUID.self) }
        case .group(let name):
            let wanted = SearchText.fold(name)
            return try await db.raw("""
                SELECT c.id, c.name FROM conversations c JOIN members mb ON mb.conversation_id = c.id AND mb.user_id = \(bind: me)
                WHERE c.kind = 'group'
                """).all().compactMap { row in
                    SearchText.fold(try row.decode(column: "name", as: String?.self) ?? "") == wanted ? try row.decode(column: "id", as: UUID.self) : nil
                }
        }
    }
}

private extension SQLQueryString {
    static func joined(_ parts: [SQLQueryString]) -> SQLQueryString {
        var result: SQLQueryString = ""
        for (index, part) in parts.enumerated() {
            if index > 0 { result.appendLiteral(" AND ") }
            result.appendInterpolation(part)
        }
        return result
    }
}
