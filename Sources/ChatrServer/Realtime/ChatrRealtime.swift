import Fluent
import NIOConcurrencyHelpers
import SocketIO
import SocketIOVapor
import Vapor

/// Chatr's realtime layer on `/socket.io/` (SPEC §7): JWT authentication at CONNECT, the user's
/// rooms, presence, and the event handlers. Handlers are thin; the rules are in the services.
enum ChatrRealtime {
    static let userKey = "chatr.user"

    static func mount(on app: Application) -> SocketIOServer {
        var options = SocketIOOptions()
        options.engine.maxPayload = 1_000_000
        let server = SocketIOServer(options: options, group: app.eventLoopGroup)
        app.socketIO(server)
        let namespace = server.sockets
        app.chatr.events.attach(namespace)
        app.storage[SocketIOServerKey.self] = server

        namespace.use { handshake in
            guard let token = Self.token(from: handshake) else { throw SocketConnectError("Authentication error") }
            let found: (user: User, session: Session)?
            do {
                found = try await app.chatr.tokens.authenticate(token, on: app.db)
            } catch {
                // Not the client's fault: it may retry (the web client backs off and reconnects).
                throw SocketConnectError("Server busy, try again")
            }
            guard let (user, session) = found else { throw SocketConnectError("Authentication error") }
            handshake.context[Self.userKey] = SocketUser(user: user, sessionID: session.id)
        }
        namespace.onConnection { socket in
            guard let socketUser = socket.handshake.context[Self.userKey] as? SocketUser else {
                socket.disconnect(close: true)
                return
            }
            await Self.connected(socket, socketUser, app: app)
        }
        return server
    }

    /// The CONNECT packet's `{token}`, else `Authorization: Bearer`, else `?token=`.
    static func token(from handshake: SocketHandshake) -> String? {
        if let token = handshake.auth?["token"]?.stringValue, !token.isEmpty { return token }
        if let header = handshake.header("Authorization"), header.lowercased().hasPrefix("bearer ") {
            return String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        }
        if let token = handshake.query["token"], !token.isEmpty { return token }
        return nil
    }

    private static func connected(_ socket: Socket, _ socketUser: SocketUser, app: Application) async {
        let services = app.chatr
        let user = socketUser.current
        guard let userID = user.id else { return }
        let conversations = Conversations(db: app.db, clock: services.clock)
        let conversationIDs = (try? await conversations.conversationIDs(of: userID)) ?? []
        var rooms = Set(["user:" + userID.wire] + conversationIDs.map { "conversation:" + $0.wire })
        if let session = socketUser.sessionID { rooms.insert(RealtimeEvent.Target.session(session).room) }
        socket.join(rooms)
        let first = services.presence.connect(userID, showsStatus: user.showOnlineStatus)

        let handlers = SocketEventHandlers(socket: socket, socketUser: socketUser, app: app)
        handlers.register()

        // Who of them is online, from the registry alone: no user rows per connect.
        let contacts = (try? await conversations.contacts(of: userID)) ?? []
        let online: [SocketValue] = services.presence.visibleOnline(among: contacts).map { entry in
            ["userId": .string(entry.userID.wire), "status": .string(entry.status.rawValue)]
        }
        socket.emit("presence:update", ["status": "online", "onlineUsers": .array(online)])
        if first && user.showOnlineStatus {
            services.events.publish(Presence.statusEvents(for: user, status: .online, in: conversationIDs, clock: services.clock))
        }

        socket.onDisconnect { _ in
            await Self.disconnected(socketUser, app: app)
        }
    }

    private static func disconnected(_ socketUser: SocketUser, app: Application) async {
        let services = app.chatr
        let user = socketUser.current
        guard let userID = user.id, services.presence.disconnect(userID) else { return }
        let now = services.clock.now
        user.lastSeen = now
        try? await User.query(on: app.db).filter(\.$id == userID).set(\.$lastSeen, to: now).update()
        for key in SocketEventHandlers.typing.stopAll(prefix: userID.wire + "|") {
            let target = String(key.split(separator: "|").last ?? "")
            if let conversation = UUID(uuidString: target) {
                services.events.publish([RealtimeEvent("typing:status", to: .conversation(conversation), except: .user(userID),
                                                       value: ["userId": .string(userID.wire), "username": .string(user.username), "isTyping": false])])
            }
        }
        guard user.showOnlineStatus else { return }
        let conversationIDs = (try? await Conversations(db: app.db, clock: services.clock).conversationIDs(of: userID)) ?? []
        services.events.publish(Presence.statusEvents(for: user, status: .offline, in: conversationIDs, clock: services.clock, lastSeen: now))
    }
}

private struct SocketIOServerKey: StorageKey { typealias Value = SocketIOServer }

extension Application {
    /// The Socket.IO server on `/socket.io/`.
    public var socketIOServer: SocketIOServer? { storage[SocketIOServerKey.self] }
}

/// The signed-in user of a socket (kept fresh when they change settings over the socket).
final class SocketUser: @unchecked Sendable {
    private let lock = NIOLock()
    private var user: User
    let sessionID: UUID?

    init(user: User, sessionID: UUID?) {
        self.user = user
        self.sessionID = sessionID
    }

    var current: User { lock.withLock { user } }
    func update(_ change: (User) -> Void) { lock.withLock { change(user) } }
}

/// Presence as others see it (SPEC §7): hidden users always appear offline.
enum Presence {
    static func visibleStatus(of user: User, registry: PresenceRegistry) -> PresenceRegistry.Status {
        guard user.showOnlineStatus, let id = user.id else { return .offline }
        return registry.status(of: id)
    }

    struct StatusPayload: Encodable {
        var userId: String
        var username: String
        var status: String
        var timestamp: Date
        var lastSeen: Date?
    }

    /// `user:status` to everyone who shares a conversation with the user: one event to all those
    /// conversations' rooms at once (a socket in several gets it once), not one per contact —
    /// so a 1,000-member group coming online is 1,000 events, not a million. Never a broadcast
    /// to everyone: no conversations, no event.
    static func statusEvents(for user: User, status: PresenceRegistry.Status, in conversations: [UUID], clock: AppClock,
                             lastSeen: Date? = nil) -> [RealtimeEvent] {
        guard !conversations.isEmpty, let userID = user.id else { return [] }
        let payload = EventPayload.encode(StatusPayload(userId: userID.wire, username: user.username, status: status.rawValue,
                                                        timestamp: clock.now, lastSeen: status == .offline ? (lastSeen ?? user.lastSeen) : nil))
        return [RealtimeEvent("user:status", to: .conversations(conversations), except: .user(userID), value: payload)]
    }
}
