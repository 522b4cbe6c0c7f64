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

    @Sendable static func search(_ req: Request) async throws -> Page {
        let me = try req.currentUser
        let meID = try me.requireID()
        let text = try req.query.get(String?.self, at: "q") ?? ""
        let query: SearchQuery
        do {
            query = try SearchQuery.parse(text)
        } catch {
            throw ChatrError.badRequest(error.message, code: error.code)
        }
        let limit = try req.query.get(Int?.self, at: "limit") ?? defaultLimit
        guard (1...maxLimit).contains(limit) else { throw ChatrError.badRequest("limit must be between 1 and \(maxLimit)", code: "invalid_limit") }
        let offset = try cursorOffset(try req.query.get(String?.self, at: "cursor"))
        guard let order = MessageSearch.Order(rawValue: try req.query.get(String?.self, at: "sort") ?? "relevance") else {
            throw ChatrError.badRequest("sort is relevance or date", code: "invalid_sort")
        }
        let scope = MessageSearch.Scope(conversationID: try uuid(req, "conversationId"), senderID: try uuid(req, "from"),
                                        before: try date(req, "before"), after: try date(req, "after"))
        let search = MessageSearch(db: req.db as! any SQLDatabase, isPostgres: req.chatr.config.database.isPostgres)
        let found = try await search.run(query, for: meID, scope: scope, order: order, offset: offset, limit: limit + 1)
        let messages = Array(found.prefix(limit))
        let results = try await hits(messages, query: query, me: meID, req: req)
        return Page(results: results, nextCursor: found.count > limit ? cursorString(offset + limit) : nil)
    }

    /// DTOs in two queries for messages (reactions, users) and two for their conversations.
    private static func hits(_ messages: [Message], query: SearchQuery, me: UUID, req: Request) async throws -> [Hit] {
        guard !messages.isEmpty else { return [] }
        let conversationIDs = Array(Set(messages.map(\.conversationID)))
        let conversations = Dictionary(uniqueKeysWithValues: try await Conversation.query(on: req.db).filter(\.$id ~~ conversationIDs).all().map { ($0.id!, $0) })
        let directIDs = conversations.values.filter { $0.kind == .direct }.map { $0.id! }
        let directMembers = directIDs.isEmpty ? [] : try await Member.query(on: req.db).filter(\.$conversationID ~~ directIDs).all()
        let others = Dictionary(directMembers.filter { $0.userID != me }.map { ($0.conversationID, $0.userID) }, uniquingKeysWith: { a, _ in a })
        let otherUsers = others.isEmpty ? [] : try await User.query(on: req.db).filter(\.$id ~~ Array(Set(others.values))).all()
        let usersByID = Dictionary(uniqueKeysWithValues: otherUsers.map { ($0.id!, $0) })
        var contexts: [UUID: MessageAssembler.Context] = [:]
        for (id, conversation) in conversations {
            let memberIDs = conversation.kind == .direct ? directMembers.filter { $0.conversationID == id }.map(\.userID) : []
            contexts[id] = MessageAssembler.Context(kind: conversation.kind, memberIDs: memberIDs)
        }
        let files = req.chatr.files
        let dtos = try await MessageAssembler(db: req.db, files: files).dtos(messages, contexts: contexts, knownUsers: otherUsers)
        let dtoByID = Dictionary(uniqueKeysWithValues: dtos.map { ($0.id, $0) })
        return messages.compactMap { message in
            guard let conversation = conversations[message.conversationID], let dto = dtoByID[message.id!.wire] else { return nil }
            var summary = ConversationSummary(id: conversation.id!.wire, kind: conversation.kind.rawValue)
            if conversation.kind == .direct {
                summary.user = others[conversation.id!].flatMap { usersByID[$0] }.map { PublicUserDTO($0, files: files, isContact: true) }
            } else {
                summary.group = .init(id: conversation.id!.wire, name: conversation.name ?? "", avatar: conversation.avatar.map(files.url(for:)))
            }
            return Hit(conversation: summary, message: dto, snippet: snippet(of: message, terms: query.terms))
        }
    }

    /// The first field with a match (else the first field), cut to about 160 characters around
    /// the first match, with "…" where it was cut.
    static func snippet(of message: Message, terms: [SearchQuery.Term], width: Int = 160) -> Snippet? {
        let fields = SearchText.searchableFields(of: message)
        guard !fields.isEmpty else { return nil }
        let chosen = fields.first { !SearchText.matches(of: terms, in: $0.text).isEmpty } ?? fields[0]
        let characters = Array(chosen.text)
        var offsets: [Int] = [0]   // UTF-16 offset of each character, and of the end
        for character in characters { offsets.append(offsets.last! + character.utf16.count) }
        let ranges = SearchText.matches(of: terms, in: chosen.text)
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

    private static func uuid(_ req: Request, _ name: String) throws -> UUID? {
        guard let raw = try req.query.get(String?.self, at: name) else { return nil }
        guard let id = UUID(uuidString: raw) else { throw ChatrError.badRequest("\(name) must be an id", code: "invalid_\(name)") }
        return id
    }

    /// An ISO 8601 date-time, or a day (`2026-01-31`, its start in UTC).
    private static func date(_ req: Request, _ name: String) throws -> Date? {
        guard let raw = try req.query.get(String?.self, at: name) else { return nil }
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
