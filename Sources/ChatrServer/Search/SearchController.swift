import Fluent
import Foundation
import SQLKit
import Vapor

/// `GET /api/search?q=…` (SPEC §5, issue 17): messages of the user's conversations, best match
/// first (`sort=date`: newest first), 20 a page (`limit` up to 50) with an opaque `cursor` for
/// the next. Each hit has its conversation, the message, and a snippet with the ranges of the
/// matched words — offsets, not markup, so the client renders it safely.
struct SearchController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.grouped(UserAuthMiddleware()).get("api", "search", use: Self.search)
    }

    static let defaultLimit = 20
    static let maxLimit = 50

    struct Snippet: Content {
        struct Highlight: Content { var start: Int; var length: Int }
        /// `content`, `fileName` or `caption`.
        var field: String
        var text: String
        /// UTF-16 offsets into `text` (what JavaScript string indexes count).
        var highlights: [Highlight]
    }

    struct ConversationSummary: Content {
        struct GroupSummary: Content { var id: String; var name: String; var avatar: String? }
        var id: String
        var kind: String
        /// The other person of a direct conversation; null for a group.
        var user: PublicUserDTO?
        /// Null for a direct conversation.
        var group: GroupSummary?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(kind, forKey: .kind)
            try c.encode(user, forKey: .user)
            try c.encode(group, forKey: .group)
        }
    }

    struct Hit: Content {
        var conversation: ConversationSummary
        var message: MessageDTO
        /// Null for a message with no text, file name or caption.
        var snippet: Snippet?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(conversation, forKey: .conversation)
            try c.encode(message, forKey: .message)
            try c.encode(snippet, forKey: .snippet)
        }
    }

    struct Page: Content {
        var results: [Hit]
        /// Null on the last page.
        var nextCursor: String?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(results, forKey: .results)
            try c.encode(nextCursor, forKey: .nextCursor)
        }
    }

    /// The query string, parsed once (each `req.query.get` parses all of it again).
    struct Parameters: Decodable {
        var q: String?
        var limit: String?
        var cursor: String?
        var sort: String?
        var conversationId: String?
        var from: String?
        var before: String?
        var after: String?
    }

    @Sendable static func search(_ req: Request) async throws -> Page {
        let me = try req.currentUser
        let meID = try me.requireID()
        let parameters = try req.query.decode(Parameters.self)
        let query: SearchQuery
        do {
            query = try SearchQuery.parse(parameters.q ?? "")
        } catch {
            throw ChatrError.badRequest(error.message, code: error.code)
        }
        guard let limit = parameters.limit.map({ Int($0) }) ?? defaultLimit, (1...maxLimit).contains(limit) else {
            throw ChatrError.badRequest("limit must be between 1 and \(maxLimit)", code: "invalid_limit")
        }
        let offset = try cursorOffset(parameters.cursor)
        guard let order = MessageSearch.Order(rawValue: parameters.sort ?? "relevance") else {
            throw ChatrError.badRequest("sort is relevance or date", code: "invalid_sort")
        }
        let scope = MessageSearch.Scope(conversationID: try uuid(parameters.conversationId, "conversationId"), senderID: try uuid(parameters.from, "from"),
                                        before: try date(parameters.before, "before"), after: try date(parameters.after, "after"))
        let search = MessageSearch(db: req.db as! any SQLDatabase, isPostgres: req.chatr.config.database.isPostgres)
        let found = try await search.run(query, for: meID, scope: scope, order: order, offset: offset, limit: limit + 1)
        let messages = Array(found.prefix(limit))
        let results = try await hits(messages, query: query, me: me, req: req)
        return Page(results: results, nextCursor: found.count > limit ? cursorString(offset + limit) : nil)
    }

    /// A hit's conversation as one query finds it: the group's name and picture, or the other
    /// person of a direct chat.
    private struct Place {
        var kind: Conversation.Kind
        var name: String?
        var avatar: String?
        var other: User?
    }

    /// DTOs in two queries: the conversations with the other people of direct ones, then the
    /// messages' reactions (and the senders of group messages).
    private static func hits(_ messages: [StoredMessage], query: SearchQuery, me user: User, req: Request) async throws -> [Hit] {
        guard !messages.isEmpty else { return [] }
        let me = try user.requireID()
        let conversationIDs = Array(Set(messages.map(\.conversationID)))
        let sql = req.db as! any SQLDatabase
        var places: [UUID: Place] = [:]
        for row in try await sql.raw("""
            SELECT c.id AS place_id, c.kind AS place_kind, c.name AS place_name, c.avatar AS place_avatar, u.* FROM conversations c
            LEFT JOIN members o ON c.kind = 'direct' AND o.conversation_id = c.id AND o.user_id <> \(bind: me)
            LEFT JOIN users u ON u.id = o.user_id
            WHERE c.id IN (\(binds: conversationIDs))
            """).all() {
            let kind = try row.decode(column: "place_kind", as: Conversation.Kind.self)
            let hasOther = try kind == .direct && !row.decodeNil(column: "id")
            let other = hasOther ? try row.decode(fluentModel: User.self) : nil
            places[try row.decode(column: "place_id", as: UUID.self)] = Place(
                kind: kind, name: try row.decode(column: "place_name", as: String?.self),
                avatar: try row.decode(column: "place_avatar", as: String?.self), other: other)
        }
        let contexts = places.mapValues { place in
            MessageAssembler.Context(kind: place.kind, memberIDs: place.kind == .direct ? [me] + [place.other?.id].compactMap { $0 } : [])
        }
        let files = req.chatr.files
        // The senders of direct messages are the other person or oneself: no query for them.
        let dtos = try await MessageAssembler(db: req.db, files: files).dtos(messages, contexts: contexts,
                                                                             knownUsers: places.values.compactMap(\.other) + [user])
        let dtoByID = Dictionary(uniqueKeysWithValues: dtos.map { ($0.id, $0) })
        return messages.compactMap { message in
            guard let place = places[message.conversationID], let dto = dtoByID[message.id.wire] else { return nil }
            var summary = ConversationSummary(id: message.conversationID.wire, kind: place.kind.rawValue)
            if place.kind == .direct {
                summary.user = place.other.map { PublicUserDTO($0, files: files, isContact: true) }
            } else {
                summary.group = .init(id: message.conversationID.wire, name: place.name ?? "", avatar: place.avatar.map(files.url(for:)))
            }
            return Hit(conversation: summary, message: dto, snippet: snippet(of: message, terms: query.terms))
        }
    }

    /// The first field with a match (else the first field), cut to about 160 characters around
    /// the first match, with "…" where it was cut.
    static func snippet(of message: StoredMessage, terms: [SearchQuery.Term], width: Int = 160) -> Snippet? {
        let fields = SearchText.searchableFields(content: message.content, fileName: message.fileName, caption: message.caption)
        guard !fields.isEmpty else { return nil }
        let (chosen, ranges) = fields.lazy.map { ($0, SearchText.matches(of: terms, in: $0.text)) }.first { !$0.1.isEmpty } ?? (fields[0], [])
        let characters = Array(chosen.text)
        var offsets: [Int] = [0]   // UTF-16 offset of each character, and of the end
        for character in characters { offsets.append(offsets.last! + character.utf16.count) }
        guard characters.count > width else {
            return Snippet(field: chosen.field, text: chosen.text, highlights: ranges.map { .init(start: $0.lowerBound, length: $0.count) })
        }
        let firstMatch = ranges.first.map { range in offsets.firstIndex(of: range.lowerBound) ?? 0 } ?? 0
        let start = max(0, min(firstMatch - width / 3, characters.count - width))
        let end = min(characters.count, start + width)
        let prefix = start > 0 ? "…" : ""
        let text = prefix + String(characters[start..<end]) + (end < characters.count ? "…" : "")
        let shift = offsets[start] - prefix.utf16.count
        let highlights = ranges.filter { $0.lowerBound >= offsets[start] && $0.upperBound <= offsets[end] }
            .map { Snippet.Highlight(start: $0.lowerBound - shift, length: $0.count) }
        return Snippet(field: chosen.field, text: text, highlights: highlights)
    }

    private static func cursorOffset(_ raw: String?) throws -> Int {
        guard let raw else { return 0 }
        guard raw.hasPrefix("o"), let offset = Int(raw.dropFirst()), offset >= 0, offset <= 10_000 else {
            throw ChatrError.badRequest("Malformed cursor: use the nextCursor of a previous page", code: "invalid_cursor")
        }
        return offset
    }

    private static func cursorString(_ offset: Int) -> String? { offset <= 10_000 ? "o\(offset)" : nil }

    private static func uuid(_ raw: String?, _ name: String) throws -> UUID? {
        guard let raw else { return nil }
        guard let id = UUID(uuidString: raw) else { throw ChatrError.badRequest("\(name) must be an id", code: "invalid_\(name)") }
        return id
    }

    /// An ISO 8601 date-time, or a day (`2026-01-31`, its start in UTC).
    private static func date(_ raw: String?, _ name: String) throws -> Date? {
        guard let raw else { return nil }
        let full = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        guard let date = full.date(from: raw) ?? fractional.date(from: raw) ?? day.date(from: raw) else {
            throw ChatrError.badRequest("\(name) must be a date like 2026-01-31 or 2026-01-31T12:00:00Z", code: "invalid_\(name)")
        }
        return date
    }
}
