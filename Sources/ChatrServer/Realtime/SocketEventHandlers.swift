import Fluent
import SocketIO
import Vapor

/// The client → server events of SPEC §7 for one socket. Each handler decodes its payload,
/// calls a service, publishes the events it returns and acks `{ok:true,…}`; failures ack
/// `{ok:false, error}` — or, when no ack was asked for, arrive as an `error` event.
struct SocketEventHandlers {
    static let typing = TypingTracker()

    let socket: Socket
    let socketUser: SocketUser
    let app: Application
    let limiter = SocketRateLimiter()

    var services: ChatrServices { app.chatr }
    var messages: MessageService { MessageService(services: services, db: app.db) }
    var user: User { socketUser.current }

    func register() {
        handle("message:send") { args in
            let body = try decode(SendPayload.self, args)
            if let uploaded = body.messageId {
                return ["message": EventPayload.encode(try await messages.uploaded(try uuid(uploaded, "messageId"), by: user))]
            }
            let input = try MessageController.sendInput(recipientId: body.recipientId, groupId: body.groupId, conversationId: body.conversationId,
                                                        content: body.content ?? "", type: body.type, clientMessageId: body.clientMessageId,
                                                        replyToId: body.replyToId)
            let result = try await messages.send(from: user, input)
            services.events.publish(result.events)
            return ["message": EventPayload.encode(result.message)]
        }
        handle("group:message:send") { args in
            let body = try decode(SendPayload.self, args)
            guard body.groupId != nil else { throw ChatrError.badRequest("groupId is required") }
            let input = try MessageController.sendInput(recipientId: nil, groupId: body.groupId, conversationId: nil, content: body.content ?? "",
                                                        type: body.type, clientMessageId: body.clientMessageId, replyToId: body.replyToId)
            let result = try await messages.send(from: user, input)
            services.events.publish(result.events)
            return ["message": EventPayload.encode(result.message)]
        }
        handle("group:join") { args in
            let outcome = try await GroupService(services: services, db: app.db).join(try groupID(args), user: user)
            services.events.publish(outcome.events)
            return ["group": EventPayload.encode(outcome.value)]
        }
        handle("group:leave") { args in
            services.events.publish(try await GroupService(services: services, db: app.db).leave(try groupID(args), user: user))
            return [:]
        }
        handle("message:received") { args in
            services.events.publish(try await messages.markDelivered(try messageID(args), by: user))
            return [:]
        }
        handle("message:read") { args in
            services.events.publish(try await messages.markRead(upTo: try messageID(args), by: user))
            return [:]
        }
        handle("message:react") { args in
            let body = try decode(ReactPayload.self, args)
            let outcome = try await messages.react(try uuid(body.messageId, "messageId"), emoji: body.emoji, by: user)
            services.events.publish(outcome.events)
            return ["reactions": EventPayload.encode(outcome.value)]
        }
        handle("message:unsend") { args in
            services.events.publish(try await messages.unsend(try messageID(args), by: user))
            return [:]
        }
        handle("message:edit") { args in
            let body = try decode(EditPayload.self, args)
            let outcome = try await messages.edit(try uuid(body.messageId, "messageId"), content: body.content, by: user)
            services.events.publish(outcome.events)
            return ["message": EventPayload.encode(outcome.value)]
        }
        handle("typing:start") { args in try await typing(args, isTyping: true) }
        handle("typing:stop") { args in try await typing(args, isTyping: false) }
        handle("ghost:typing") { args in
            let body = try decode(GhostPayload.self, args)
            guard body.text.count <= MessageRules.maxGhostText else {
                throw ChatrError.badRequest("Ghost text must be at most \(MessageRules.maxGhostText) characters", code: "ghost_too_long")
            }
            let (conversation, _) = try await conversationFor(recipientId: body.recipientId, groupId: nil)
            guard let other = try await otherMember(of: conversation) else { throw ChatrError.badRequest("No recipient") }
            services.events.publish([RealtimeEvent("ghost:typing", to: .user(other), value: [
                "userId": .string(user.id!.wire), "username": .string(user.username), "text": .string(body.text), "type": "direct",
            ])])
            return [:]
        }
        handle("audio:recording") { args in
            let body = try decode(RecordingPayload.self, args)
            let (conversation, _) = try await conversationFor(recipientId: body.recipientId, groupId: body.groupId)
            services.events.publish([RealtimeEvent("audio:recording", to: .conversation(conversation.id!), except: .user(user.id!), value: [
                "userId": .string(user.id!.wire), "username": .string(user.username), "isRecording": .bool(body.isRecording),
                "groupId": conversation.kind == .group ? .string(conversation.id!.wire) : .null,
            ])])
            return [:]
        }
        handle("audio:listening") { args in
            let body = try decode(ListeningPayload.self, args)
            services.events.publish(try await messages.listening(try uuid(body.messageId, "messageId"), isListening: body.isListening,
                                                                 isEnded: body.isEnded ?? false, by: user))
            return [:]
        }
        handle("presence:update") { args in
            guard let raw = args.first?.stringValue ?? args.first?["status"]?.stringValue,
                  let status = PresenceRegistry.Status(rawValue: raw) else {
                throw ChatrError.badRequest("Status must be online, away or offline", code: "invalid_status")
            }
            services.presence.setStatus(user.id!, status)
            if user.showOnlineStatus { try await announce(status) }
            return ["status": .string(status.rawValue)]
        }
        handle("presence:request") { args in
            guard let list = args.first?.arrayValue else { throw ChatrError.badRequest("Send an array of user ids", code: "invalid_payload") }
            guard list.count <= MessageRules.maxPresenceRequest else {
                throw ChatrError.badRequest("At most \(MessageRules.maxPresenceRequest) ids per request", code: "too_many_ids")
            }
            let ids = try list.map { try uuid($0.stringValue ?? "", "user id") }
            let users = ids.isEmpty ? [] : try await User.query(on: app.db).filter(\.$id ~~ ids).all()
            let answer: [SocketValue] = users.map { other in
                let status = Presence.visibleStatus(of: other, registry: services.presence)
                let lastSeen = other.showOnlineStatus ? other.lastSeen.map { SocketValue.string(ISO8601.string(from: $0)) } ?? .null : .null
                return ["userId": .string(other.id!.wire), "status": .string(status.rawValue), "lastSeen": lastSeen]
            }
            socket.emit("presence:response", .array(answer))
            return ["users": .array(answer)]
        }
        handle("settings:update") { args in
            let body = try decode(SettingsPayload.self, args)
            guard let show = body.showOnlineStatus else { throw ChatrError.badRequest("showOnlineStatus is required", code: "invalid_payload") }
            try await User.query(on: app.db).filter(\.$id == user.id!).set(\.$showOnlineStatus, to: show).update()
            socketUser.update { $0.showOnlineStatus = show }
            services.presence.setShowsStatus(user.id!, show)
            // Contacts see the change at once: hidden means offline to them.
            try await announce(show ? services.presence.status(of: user.id!) : .offline)
            return ["showOnlineStatus": .bool(show)]
        }
    }

    // MARK: Plumbing

    /// Wraps a handler with the rate limit, the ack shape and the `error` event.
    private func handle(_ event: String, _ body: @escaping @Sendable ([SocketValue]) async throws -> [String: SocketValue]) {
        let socket = self.socket
        let limiter = self.limiter
        socket.on(event) { socket, args in
            switch limiter.take() {
            case .allow: break
            case .refuse: return Self.failure("Too many events; slow down", socket: socket)
            case .disconnect:
                socket.disconnect(close: true)
                return nil
            }
            do {
                var reply = try await body(args)
                reply["ok"] = true
                return [.object(SocketObject(reply))]
            } catch let error as ChatrError {
                return Self.failure(error.reason, socket: socket)
            } catch let error as DecodingError {
                return Self.failure(Self.describe(error, event: event), socket: socket)
            } catch {
                return Self.failure("Something went wrong", socket: socket)
            }
        }
    }

    private static func failure(_ message: String, socket: Socket) -> [SocketValue] {
        if !Socket.ackRequested { socket.emit("error", ["message": .string(message)]) }
        return [["ok": false, "error": .string(message)]]
    }

    private static func describe(_ error: DecodingError, event: String) -> String {
        switch error {
        case .keyNotFound(let key, _): return "Missing field '\(key.stringValue)' in \(event)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            return field.isEmpty ? "Invalid payload for \(event)" : "Wrong type for '\(field)' in \(event)"
        default: return "Invalid payload for \(event)"
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ args: [SocketValue]) throws -> T {
        guard let first = args.first, first.objectValue != nil else { throw ChatrError.badRequest("Expected an object payload", code: "invalid_payload") }
        return try first.decode(T.self)
    }

    private func uuid(_ raw: String, _ name: String) throws -> UUID {
        guard let id = UUID(uuidString: raw) else { throw ChatrError.badRequest("Invalid \(name)", code: "invalid_payload") }
        return id
    }

    /// `messageId` as the bare argument (SPEC) or as `{messageId}`.
    private func messageID(_ args: [SocketValue]) throws -> UUID {
        guard let raw = args.first?.stringValue ?? args.first?["messageId"]?.stringValue else {
            throw ChatrError.badRequest("messageId is required", code: "invalid_payload")
        }
        return try uuid(raw, "messageId")
    }

    /// `groupId` as the bare argument (SPEC) or as `{groupId}`.
    private func groupID(_ args: [SocketValue]) throws -> UUID {
        guard let raw = args.first?.stringValue ?? args.first?["groupId"]?.stringValue else {
            throw ChatrError.badRequest("groupId is required", code: "invalid_payload")
        }
        return try uuid(raw, "groupId")
    }

    private func conversationFor(recipientId: String?, groupId: String?) async throws -> (Conversation, [Member]) {
        let address = try Conversations.address(user: recipientId, group: groupId, conversation: nil)
        guard let found = try await Conversations(db: app.db, clock: services.clock).resolve(address, for: user.id!, create: false) else {
            throw ChatrError.badRequest("You have no conversation with this user yet", code: "no_conversation")
        }
        return found
    }

    private func otherMember(of conversation: Conversation) async throws -> UUID? {
        try await Conversations(db: app.db, clock: services.clock).members(of: conversation.id!).first { $0.userID != user.id! }?.userID
    }

    private func typing(_ args: [SocketValue], isTyping: Bool) async throws -> [String: SocketValue] {
        let body = try decode(TargetPayload.self, args)
        let (conversation, _) = try await conversationFor(recipientId: body.recipientId, groupId: body.groupId)
        let me = user
        let conversationID = conversation.id!
        let payload: @Sendable (Bool) -> SocketValue = { typing in [
            "userId": .string(me.id!.wire), "username": .string(me.username), "isTyping": .bool(typing),
            "type": .string(conversation.kind == .group ? "group" : "direct"),
            "groupId": conversation.kind == .group ? .string(conversationID.wire) : .null,
        ] }
        let key = me.id!.wire + "|" + conversationID.wire
        let events = services.events
        if isTyping {
            Self.typing.start(key) {
                events.publish([RealtimeEvent("typing:status", to: .conversation(conversationID), except: .user(me.id!), value: payload(false))])
            }
        } else {
            Self.typing.stop(key)
        }
        events.publish([RealtimeEvent("typing:status", to: .conversation(conversationID), except: .user(me.id!), value: payload(isTyping))])
        return [:]
    }

    /// Tells the user's contacts their status (callers decide whether privacy allows it).
    private func announce(_ status: PresenceRegistry.Status) async throws {
        let conversationIDs = try await Conversations(db: app.db, clock: services.clock).conversationIDs(of: user.id!)
        services.events.publish(Presence.statusEvents(for: user, status: status, in: conversationIDs, clock: services.clock))
    }
}

// MARK: Payloads

struct SendPayload: Decodable {
    var recipientId: String?
    var groupId: String?
    var conversationId: String?
    var content: String?
    var type: String?
    var clientMessageId: String?
    var replyToId: String?
    /// A message an upload created (and already delivered).
    var messageId: String?
}

struct ReactPayload: Decodable { var messageId: String; var emoji: String }
struct EditPayload: Decodable { var messageId: String; var content: String }
struct TargetPayload: Decodable { var recipientId: String?; var groupId: String? }
struct GhostPayload: Decodable { var recipientId: String; var text: String }
struct RecordingPayload: Decodable { var recipientId: String?; var groupId: String?; var isRecording: Bool }
struct ListeningPayload: Decodable { var messageId: String; var isListening: Bool; var isEnded: Bool? }
struct SettingsPayload: Decodable { var showOnlineStatus: Bool? }
