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
            guard let token = Self.token(from: handshake),
                  let (user, session) = await app.chatr.tokens.authenticate(token, on: app.db) else {
                throw SocketConnectError("Authentication error")
            }
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
        let first = services.presence.connect(userID)

        let handlers = SocketEventHandlers(socket: socket, socketUser: socketUser, app: app)
        handlers.register()

        let contacts = (try? await conversations.contacts(of: userID)) ?? []
        let contactUsers = contacts.isEmpty ? [] : ((try? await User.query(on: app.db).filter(\.$id ~~ Array(contacts)).all()) ?? [])
        let online = contactUsers.compactMap { contact -> SocketValue? in
            let status = Presence.visibleStatus(of: contact, registry: services.presence)
            guard status != .offline else { return nil }
            return ["userId": .string(contact.id!.wire), "status": .string(status.rawValue)]
        }
        socket.emit("presence:update", ["status": "online", "onlineUsers": .array(online)])
        if first && user.showOnlineStatus {
            services.events.publish(Presence.statusEvents(for: user, status: .online, to: contacts, clock: services.clock))
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
        let contacts = (try? await Conversations(db: app.db, clock: services.clock).contacts(of: userID)) ?? []
        services.events.publish(Presence.statusEvents(for: user, status: .offline, to: contacts, clock: services.clock, lastSeen: now))
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

    /// `user:status` for each contact's devices — never a broadcast to everyone.
    static func statusEvents(for user: User, status: PresenceRegistry.Status, to contacts: Set<UUID>, clock: AppClock,
                             lastSeen: Date? = nil) -> [RealtimeEvent] {
        let payload = EventPayload.encode(StatusPayload(userId: user.id!.wire, username: user.username, status: status.rawValue,
                                                        timestamp: clock.now, lastSeen: status == .offline ? (lastSeen ?? user.lastSeen) : nil))
        return contacts.map { RealtimeEvent("user:status", to: .user($0), value: payload) }
    }
}
