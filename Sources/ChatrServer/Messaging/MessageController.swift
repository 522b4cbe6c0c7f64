import Fluent
import SocketIO
import Vapor

/// `/api/messages` (SPEC §6, messages part). Thin: decode, call `MessageService`, publish the
/// events it returns, encode.
struct MessageController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let secured = routes.grouped(UserAuthMiddleware())
        let messages = secured.grouped("api", "messages")
        messages.get("conversations", use: Self.conversations)
        messages.put("conversations", ":conversationId", "mute", use: ConversationMute.update)
        secured.get("api", "users", "conversations", use: Self.conversations)
        messages.get("history", use: Self.history)
        messages.post(use: Self.send)
        messages.post("read", use: Self.read)
        messages.get(":messageId", "edits", use: Self.edits)
        messages.patch(":messageId", "waveform", use: Self.waveform)
    }

    static func service(_ req: Request) -> MessageService { MessageService(services: req.chatr, db: req.db) }

    struct ConversationsResponse: Content {
        var conversations: [ConversationList.Item]
        init(conversations: [ConversationList.Item]) { self.conversations = conversations }
        init(from decoder: any Decoder) throws { throw ChatrError.badRequest("not decodable") }
    }

    @Sendable static func conversations(_ req: Request) async throws -> ConversationsResponse {
        ConversationsResponse(conversations: try await ConversationList(services: req.chatr, db: req.db).list(for: try req.currentUser))
    }

    /// `{messages, hasMore}`, written from the messages' `SocketValue`s by the Socket.IO JSON
    /// writer — the same JSON as `JSONEncoder` would write, in a fraction of the time (history is
    /// the most frequent read).
    struct HistoryResponse: AsyncResponseEncodable {
        var messages: [MessageDTO]
        var hasMore: Bool
        /// Only for `around=`: whether newer messages follow the page.
        var hasMoreAfter: Bool?

        func encodeResponse(for request: Request) async throws -> Response {
            var keys: [SocketObject.Entry] = [.init(key: "messages", value: .array(messages.map(\.socketValue))), .init(key: "hasMore", value: .bool(hasMore))]
            if let hasMoreAfter { keys.append(.init(key: "hasMoreAfter", value: .bool(hasMoreAfter))) }
            let body: SocketValue = .object(SocketObject(distinctKeys: keys))
            var bytes: [UInt8] = []
            bytes.reserveCapacity(1024 * messages.count + 32)
            JSONCodec.write(body, into: &bytes)
            var headers = HTTPHeaders()
            headers.contentType = .json
            return Response(status: .ok, headers: headers, body: .init(buffer: ByteBuffer(bytes: bytes)))
        }
    }

    /// A history request's query, decoded at once: each `req.query.get` parses the whole query
    /// string again (seven of them were 4 % of a history page's CPU).
    struct HistoryQuery: Decodable {
        var otherUserId, groupId, conversationId: String?
        var limit: Int?
        var before, after, around: String?

        var pageSize: Int { limit ?? MessageRules.historyDefault }

        /// A message-id cursor (`before`, `after`, `around`).
        static func cursor(_ value: String?, _ name: String) throws -> UUID? {
            guard let value else { return nil }
            guard let id = UUID(uuidString: value) else { throw ChatrError.badRequest("Invalid \(name) cursor", code: "invalid_cursor") }
            return id
        }
    }

    @Sendable static func history(_ req: Request) async throws -> HistoryResponse {
        let query = try req.query.decode(HistoryQuery.self)
        let address = try Conversations.address(user: query.otherUserId, group: query.groupId, conversation: query.conversationId)
        let page = try await service(req).history(address, for: try req.currentUser, limit: query.pageSize,
                                                  before: try HistoryQuery.cursor(query.before, "before"),
                                                  after: try HistoryQuery.cursor(query.after, "after"),
                                                  around: try HistoryQuery.cursor(query.around, "around"))
        return HistoryResponse(messages: page.messages, hasMore: page.hasMore, hasMoreAfter: page.hasMoreAfter)
    }

    struct SendBody: Content {
        var recipientId: String?
        var groupId: String?
        var conversationId: String?
        var content: String
        var type: String?
        var clientMessageId: String?
        var replyToId: String?
    }

    @Sendable static func send(_ req: Request) async throws -> Response {
        let body = try req.content.decode(SendBody.self)
        let input = try MessageService.SendInput(recipientId: body.recipientId, groupId: body.groupId, conversationId: body.conversationId,
                                                 content: body.content, type: body.type, clientMessageId: body.clientMessageId,
                                                 replyToId: body.replyToId)
        let result = try await SendCommand(services: req.chatr, db: req.db).run(input, from: try req.currentUser)
        return try await result.message.encodeResponse(status: result.created ? .created : .ok, for: req)
    }

    struct ReadBody: Content {
        var conversationId: String?
        var otherUserId: String?
        var groupId: String?
        var upToMessageId: String?
    }

    struct ReadResponse: Content { var success: Bool }

    @Sendable static func read(_ req: Request) async throws -> ReadResponse {
        let body = try req.content.decode(ReadBody.self)
        let address = try Conversations.address(user: body.otherUserId, group: body.groupId, conversation: body.conversationId)
        let upTo = try body.upToMessageId.map { raw -> UUID in
            guard let id = UUID(uuidString: raw) else { throw ChatrError.badRequest("Invalid upToMessageId") }
            return id
        }
        let events = try await service(req).markRead(address, upTo: upTo, by: try req.currentUser)
        await req.chatr.publishChanges(events, db: req.db)
        return ReadResponse(success: true)
    }

    struct EditsResponse: Content {
        var messageId: String
        var edits: [MessageService.EditEntry]
        init(messageId: String, edits: [MessageService.EditEntry]) { self.messageId = messageId; self.edits = edits }
        init(from decoder: any Decoder) throws { throw ChatrError.badRequest("not decodable") }
    }

    @Sendable static func edits(_ req: Request) async throws -> EditsResponse {
        guard let id = req.parameters.get("messageId").flatMap(UUID.init(uuidString:)) else { throw ChatrError.notFound("Message not found") }
        return EditsResponse(messageId: id.wire, edits: try await service(req).edits(of: id, for: try req.currentUser))
    }

    struct WaveformBody: Content {
        var waveform: [Double]
        var duration: Double?
    }

    @Sendable static func waveform(_ req: Request) async throws -> ReadResponse {
        guard let id = req.parameters.get("messageId").flatMap(UUID.init(uuidString:)) else { throw ChatrError.notFound("Message not found") }
        let body = try req.content.decode(WaveformBody.self)
        await req.chatr.publishChanges(try await service(req).setWaveform(id, waveform: body.waveform, duration: body.duration, by: try req.currentUser), db: req.db)
        return ReadResponse(success: true)
    }
}

extension MessageDTO: Content {}
