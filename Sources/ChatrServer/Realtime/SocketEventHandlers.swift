import Fluent
import SocketIO
import Vapor

/// The client → server events of SPEC §7 for one socket. Each handler gets its payload decoded
/// into a type (straight from the parsed packet), calls a service, publishes the events it
/// returns and acks `{ok:true,…}`; failures ack `{ok:false, error, code}` — or, when no ack was
/// asked for, arrive as an `error` event. The rate limit is the library's, applied before events
/// queue (`ChatrRealtime.inboundLimit`). Registered once on the namespace, not per socket: a
/// connection then holds no handlers of its own (docs/PERFORMANCE.md, memory per connection).
struct SocketEventHandlers {
    let app: Application
    /// Unowned: the namespace keeps the handlers registered here, and they keep this value.
    unowned let namespace: Namespace

    var services: ChatrServices { app.chatr }
    var messages: MessageService { MessageService(services: services, db: app.db) }
    var groups: GroupService { GroupService(services: services, db: app.db) }
    var conversations: Conversations { Conversations(db: app.db) }

    func register() {
        handle("message:send", SendPayload.self) { body, me, _ in
            if let uploaded = body.messageId {
                return ["message": EventPayload.encode(try await messages.uploaded(try uuid(uploaded, "messageId"), by: me.model))]
            }
            return try await send(body, as: me, groupOnly: false)
        }
        handle("group:message:send", SendPayload.self) { body, me, _ in
            guard body.groupId != nil else { throw ChatrError.badRequest("groupId is required", code: "invalid_payload") }
            return try await send(body, as: me, groupOnly: true)
        }
        handle("group:join", JoinArgument.self) { join, me, _ in
            let outcome = try await groups.join(try uuid(join.groupId, "groupId"), user: me.model, inviteToken: join.inviteToken)
            await services.publishChanges(outcome.events, db: app.db)
            return ["group": try EventPayload.encode(outcome.value)]
        }
        handle("group:leave", IDArgument<GroupKey>.self) { group, me, _ in
            await services.publishChanges(try await groups.leave(try uuid(group.id, "groupId"), user: me.model), db: app.db)
            return [:]
        }
        handle("message:received", IDArgument<MessageKey>.self) { message, me, _ in
            await services.publishChanges(try await messages.markDelivered(try uuid(message.id, "messageId"), by: me.model), db: app.db)
            return [:]
        }
        handle("message:read", IDArgument<MessageKey>.self) { message, me, _ in
            await services.publishChanges(try await messages.markRead(upTo: try uuid(message.id, "messageId"), by: me.model), db: app.db)
            return [:]
        }
        handle("message:react", ReactPayload.self) { body, me, _ in
            let outcome = try await messages.react(try uuid(body.messageId, "messageId"), emoji: body.emoji, by: me.model)
            await services.publishChanges(outcome.events, db: app.db)
            return ["reactions": try EventPayload.encode(outcome.value)]
        }
        handle("message:unsend", IDArgument<MessageKey>.self) { message, me, _ in
            await services.publishChanges(try await messages.unsend(try uuid(message.id, "messageId"), by: me.model), db: app.db)
            return [:]
        }
        handle("message:edit", EditPayload.self) { body, me, _ in
            let outcome = try await messages.edit(try uuid(body.messageId, "messageId"), content: body.content, by: me.model)
            await services.publishChanges(outcome.events, db: app.db)
            return ["message": EventPayload.encode(outcome.value)]
        }
        handle("typing:start", TargetPayload.self) { body, me, _ in try await typing(body, isTyping: true, as: me) }
        handle("typing:stop", TargetPayload.self) { body, me, _ in try await typing(body, isTyping: false, as: me) }
        handle("ghost:typing", GhostPayload.self) { body, me, _ in
            guard body.text.textLength <= MessageRules.maxGhostText else {
                throw ChatrError.badRequest("Ghost text must be at most \(MessageRules.maxGhostText) characters", code: "ghost_too_long")
            }
            let (conversation, members) = try await conversationFor(recipientId: body.recipientId, groupId: nil, me: me)
            guard let other = members.first(where: { $0.userID != me.id })?.userID, conversation.kind == .direct else {
                throw ChatrError.badRequest("No recipient", code: "invalid_recipient")
            }
            services.events.publish([RealtimeEvent("ghost:typing", to: .user(other), value: [
                "userId": .string(me.id.wire), "username": .string(me.username), "text": .string(body.text), "type": "direct",
            ])])
            return [:]
        }
        handle("audio:recording", RecordingPayload.self) { body, me, _ in
            let (conversation, _) = try await conversationFor(recipientId: body.recipientId, groupId: body.groupId, me: me)
            let id = try conversation.requireID()
            services.events.publish([RealtimeEvent("audio:recording", to: .conversation(id), except: .user(me.id), value: [
                "userId": .string(me.id.wire), "username": .string(me.username), "isRecording": .bool(body.isRecording),
                "groupId": conversation.kind == .group ? .string(id.wire) : .null,
            ])])
            return [:]
        }
        handle("audio:listening", ListeningPayload.self) { body, me, _ in
            await services.publishChanges(try await messages.listening(try uuid(body.messageId, "messageId"), isListening: body.isListening,
                                                                 isEnded: body.isEnded ?? false, by: me.model), db: app.db)
            return [:]
        }
        handle("presence:update", StatusArgument.self) { argument, me, _ in
            guard let status = PresenceRegistry.Status(rawValue: argument.status) else {
                throw ChatrError.badRequest("Status must be online, away or offline", code: "invalid_status")
            }
            services.presence.setStatus(me.id, status)
            if me.showOnlineStatus { try await announce(status, as: me) }
            return ["status": .string(status.rawValue)]
        }
        handle("presence:request", [String].self) { list, me, socket in
            guard list.count <= MessageRules.maxPresenceRequest else {
                throw ChatrError.badRequest("At most \(MessageRules.maxPresenceRequest) ids per request", code: "too_many_ids")
            }
            let ids = try list.map { try uuid($0, "user id") }
            // Only people who share a conversation with the asker may see their presence; anyone
            // else is answered like a user who hides it (offline, no lastSeen) — a stranger
            // learns neither whether an id exists nor whether its owner is online.
            var visible = try await Conversations(db: app.db).contacts(of: me.id, among: ids)
            if ids.contains(me.id) { visible.insert(me.id) }  // one's own presence, as others see it
            let users = visible.isEmpty ? [] : try await User.query(on: app.db).filter(\.$id ~~ Array(visible)).all()
            let known = Dictionary(users.compactMap { user in user.id.map { ($0, user) } }, uniquingKeysWith: { a, _ in a })
            let answer: [SocketValue] = ids.map { id in
                guard let other = known[id] else { return ["userId": .string(id.wire), "status": .string("offline"), "lastSeen": .null] }
                let status = Presence.visibleStatus(of: other, registry: services.presence)
                let lastSeen = other.showOnlineStatus ? other.lastSeen.map { SocketValue.string(ISO8601.string(from: $0)) } ?? .null : .null
                return ["userId": .string(id.wire), "status": .string(status.rawValue), "lastSeen": lastSeen]
            }
            socket.emit("presence:response", .array(answer))
            return ["users": .array(answer)]
        }
        handle("settings:update", SettingsPayload.self) { body, me, socket in
            guard let show = body.showOnlineStatus else { throw ChatrError.badRequest("showOnlineStatus is required", code: "invalid_payload") }
            try await User.query(on: app.db).filter(\.$id == me.id).set(\.$showOnlineStatus, to: show).update()
            var changed = me
            changed.showOnlineStatus = show
            socket[SocketUser.self] = changed
            services.presence.setShowsStatus(me.id, show)
            // Contacts see the change at once: hidden means offline to them.
            try await announce(show ? services.presence.status(of: me.id) : .offline, as: changed)
            return ["showOnlineStatus": .bool(show)]
        }
    }

    // MARK: Plumbing

    /// Registers a handler whose first argument is decoded into `Payload`, with the signed-in
    /// user as it is now; shapes the ack and reports every failure.
    private func handle<Payload: Decodable & Sendable>(
        _ event: String, _ type: Payload.Type,
        _ body: @escaping @Sendable (Payload, SocketUser, Socket) async throws -> SocketObject
    ) {
        let logger = app.logger
        namespace.on(event) { socket, args in
            guard let me = socket[SocketUser.self] else { return Self.failure(.unauthorized("Not signed in"), socket: socket) }
            do {
                let payload: Payload
                if let first = args.first, NULText.inSocketValue(first) { throw NULText.refusal }
                do {
                    payload = try (args.first ?? .null).decode(Payload.self)
                } catch let error as DecodingError {
                    throw ChatrError.badRequest(Self.describe(error, event: event), code: "invalid_payload")
                }
                var reply = try await body(payload, me, socket)
                reply["ok"] = true
                return [.object(reply)]
            } catch let error as ChatrError {
                return Self.failure(error, socket: socket)
            } catch {
                // Not the client's doing: say so to it, and log what happened and where.
                logger.error("socket event failed", metadata: [
                    "event": .string(event), "socket": .string(socket.id), "user": .string(me.id.wire),
                    "error": .string(String(describing: error)),
                ])
                return Self.failure(ChatrError(.internalServerError, "Something went wrong", code: "internal_error"), socket: socket)
            }
        }
    }

    /// The one mapping of a domain error to a socket reply (HTTP's is `JSONErrorMiddleware`).
    private static func failure(_ error: ChatrError, socket: Socket) -> [SocketValue] {
        let code: SocketValue = error.code.map(SocketValue.string) ?? .null
        if !Socket.ackRequested { socket.emit("error", ["message": .string(error.reason), "code": code]) }
        return [["ok": false, "error": .string(error.reason), "code": code]]
    }

    private static func describe(_ error: DecodingError, event: String) -> String {
        switch error {
        case .keyNotFound(let key, _): return "Missing field '\(key.stringValue)' in \(event)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            return field.isEmpty ? "Invalid payload for \(event)" : "Wrong type for '\(field)' in \(event)"
        @unknown default: return "Invalid payload for \(event)"
        }
    }

    private func uuid(_ raw: String, _ name: String) throws -> UUID {
        guard let id = UUID(uuidString: raw) else { throw ChatrError.badRequest("Invalid \(name)", code: "invalid_payload") }
        return id
    }

    private func send(_ body: SendPayload, as me: SocketUser, groupOnly: Bool) async throws -> SocketObject {
        let input = try MessageService.SendInput(recipientId: groupOnly ? nil : body.recipientId, groupId: body.groupId,
                                                 conversationId: groupOnly ? nil : body.conversationId, content: body.content ?? "",
                                                 type: body.type, clientMessageId: body.clientMessageId, replyToId: body.replyToId)
        let result = try await SendCommand(services: services, db: app.db).run(input, from: me.model)
        return ["message": EventPayload.encode(result.message)]
    }

    private func conversationFor(recipientId: String?, groupId: String?, me: SocketUser) async throws -> (Conversation, [Member]) {
        let address = try Conversations.address(user: recipientId, group: groupId, conversation: nil)
        guard let found = try await conversations.resolve(address, for: me.id) else {
            throw ChatrError.badRequest("You have no conversation with this user yet", code: "no_conversation")
        }
        return found
    }

    private func typing(_ body: TargetPayload, isTyping: Bool, as me: SocketUser) async throws -> SocketObject {
        let (conversation, _) = try await conversationFor(recipientId: body.recipientId, groupId: body.groupId, me: me)
        let conversationID = try conversation.requireID()
        let isGroup = conversation.kind == .group
        let payload: @Sendable (Bool) -> SocketValue = { typing in [
            "userId": .string(me.id.wire), "username": .string(me.username), "isTyping": .bool(typing),
            "type": .string(isGroup ? "group" : "direct"),
            "groupId": isGroup ? .string(conversationID.wire) : .null,
        ] }
        let key = TypingTracker.Key(user: me.id, conversation: conversationID)
        let events = services.events
        if isTyping {
            services.typing.start(key) {
                events.publish([RealtimeEvent("typing:status", to: .conversation(conversationID), except: .user(me.id), value: payload(false))])
            }
        } else {
            services.typing.stop(key)
        }
        events.publish([RealtimeEvent("typing:status", to: .conversation(conversationID), except: .user(me.id), value: payload(isTyping))])
        return [:]
    }

    /// Tells the user's contacts their status (callers decide whether privacy allows it).
    private func announce(_ status: PresenceRegistry.Status, as me: SocketUser) async throws {
        let conversationIDs = try await conversations.conversationIDs(of: me.id)
        services.events.publish(Presence.statusEvents(for: me, status: status, in: conversationIDs, clock: services.clock))
    }
}

// MARK: Payloads

struct SendPayload: Decodable, Sendable {
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

/// An id given bare (as SPEC §7 writes it) or as `{<key>: id}` (as clients often send it).
struct IDArgument<Key: IDArgumentKey>: Decodable, Sendable {
    var id: String

    init(from decoder: any Decoder) throws {
        if let bare = try? decoder.singleValueContainer().decode(String.self) {
            id = bare
            return
        }
        let object = try decoder.container(keyedBy: PayloadKey.self)
        id = try object.decode(String.self, forKey: PayloadKey(Key.name))
    }
}

/// `group:join`: `{groupId, inviteToken}` (a bare group id: a member asking again).
struct JoinArgument: Decodable, Sendable {
    var groupId: String
    var inviteToken: String?

    init(from decoder: any Decoder) throws {
        if let bare = try? decoder.singleValueContainer().decode(String.self) {
            (groupId, inviteToken) = (bare, nil)
            return
        }
        let object = try decoder.container(keyedBy: PayloadKey.self)
        groupId = try object.decode(String.self, forKey: PayloadKey("groupId"))
        inviteToken = try object.decodeIfPresent(String.self, forKey: PayloadKey("inviteToken"))
    }
}

protocol IDArgumentKey: Sendable { static var name: String { get } }
enum MessageKey: IDArgumentKey { static let name = "messageId" }
enum GroupKey: IDArgumentKey { static let name = "groupId" }

/// `presence:update`: `"away"` or `{status: "away"}`.
struct StatusArgument: Decodable, Sendable {
    var status: String

    init(from decoder: any Decoder) throws {
        if let bare = try? decoder.singleValueContainer().decode(String.self) {
            status = bare
            return
        }
        status = try decoder.container(keyedBy: PayloadKey.self).decode(String.self, forKey: PayloadKey("status"))
    }
}

struct PayloadKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

struct ReactPayload: Decodable, Sendable { var messageId: String; var emoji: String }
struct EditPayload: Decodable, Sendable { var messageId: String; var content: String }
struct TargetPayload: Decodable, Sendable { var recipientId: String?; var groupId: String? }
struct GhostPayload: Decodable, Sendable { var recipientId: String; var text: String }
struct RecordingPayload: Decodable, Sendable { var recipientId: String?; var groupId: String?; var isRecording: Bool }
struct ListeningPayload: Decodable, Sendable { var messageId: String; var isListening: Bool; var isEnded: Bool? }
struct SettingsPayload: Decodable, Sendable { var showOnlineStatus: Bool? }
