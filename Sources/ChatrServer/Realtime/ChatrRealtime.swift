import Fluent
import SocketIO
import SocketIOVapor
import SQLKit
import Vapor

/// Chatr's realtime layer on `/socket.io/` (SPEC §7): JWT authentication at CONNECT, the user's
/// rooms, presence, and the event handlers. Handlers are thin; the rules are in the services.
enum ChatrRealtime {
    static func mount(on app: Application) -> SocketIOServer {
        var options = SocketIOOptions()
        options.engine.maxPayload = 1_000_000
        options.inboundLimit = inboundLimit
        options.sharedInboundLimit = userLimit
        let connections = app.chatr.config.connections
        options.engine.pingInterval = connections.pingInterval
        options.engine.pingTimeout = connections.pingTimeout
        options.engine.maxSessionsPerAddress = connections.maxSocketsPerAddress
        options.connectTimeout = connections.connectTimeout
        // Offsets only for clients that ask (the web client does): a python-socketio handler
        // taking one argument would break on an extra one.
        options.connectionStateRecovery = ConnectionStateRecovery(maxDisconnectionDuration: app.chatr.config.recoveryWindow,
                                                                  offsets: .socketsThatAsk)
        let server = SocketIOServer(options: options, group: app.eventLoopGroup)
        // Loopback is not counted against the per-address cap: a local proxy without
        // TRUSTED_PROXIES (every client would share its address) or a load generator.
        app.socketIO(server, clientAddress: { $0.clientIsLoopback ? nil : $0.clientAddress })
        let logger = app.logger
        server.onError { [weak server] failure in
            logger.error("\(failure.description)", metadata: ["user": .string(failure.socketID.flatMap { id in
                server?.sockets.socket(id)?[SocketUser.self]?.id.wire } ?? "-")])
        }
        let namespace = server.sockets
        app.chatr.events.attach(namespace)
        app.storage[SocketIOServerKey.self] = server

        // Everything a socket needs happens before the client is told it is connected: who it
        // is, and its rooms — so a message published meanwhile reaches it (held until the
        // CONNECT reply), and its first events find it ready.
        namespace.use { socket in
            guard let token = Self.token(from: socket.handshake) else { throw SocketConnectError("Authentication error") }
            let signedIn = try await Self.authenticate(token, socket: socket, app: app)
            socket[SocketUser.self] = signedIn
            // Only this user may take this socket's state back after a disconnect.
            socket.recoveryKey = signedIn.id.wire
            // All of a user's sockets (on this node) draw on one budget: twenty connections
            // do not send twenty times as fast.
            socket.budgetKey = signedIn.id.wire
            // The user's and the session's rooms at once: what is sent to the user from now on,
            // and a logout of this session, reach the socket even while the query below runs.
            var rooms = ["user:" + signedIn.id.wire]
            if let session = signedIn.sessionID { rooms.append(RealtimeEvent.Target.session(session).room) }
            socket.join(Set(rooms))
            do {
                let memberships = try await Conversations(db: app.db).memberships(of: signedIn.id)
                let conversationRooms = Set(memberships.conversationIDs.map { "conversation:" + $0.wire })
                socket.join(conversationRooms)
                socket[ConnectMemberships.self] = memberships
                // A recovered socket's old rooms come back after this; memberships may have
                // changed meanwhile (a removed member must hear nothing more from there, nor be
                // replayed what was said), and the session may be another: declined.
                for room in socket.restoredRooms.subtracting(conversationRooms.union(rooms)) { socket.leave(room) }
            } catch {
                app.logger.error("socket connect: could not load conversations", metadata: [
                    "socket": .string(socket.id), "user": .string(signedIn.id.wire), "error": .string(String(describing: error))])
                throw SocketConnectError("Server busy, try again")
            }
        }
        SocketEventHandlers(app: app, namespace: namespace).register()
        namespace.onConnection { socket in
            guard let signedIn = socket[SocketUser.self] else { socket.disconnect(close: true); return }
            await Self.connected(socket, signedIn, app: app)
        }
        return server
    }

    /// 30 events a second per connection, bursts of 60; refused beyond (the client is told),
    /// and a connection refused 200 times in a row is closed. Applied before events queue.
    static var inboundLimit: InboundLimit {
        var limit = InboundLimit(eventsPerSecond: 30)
        limit.burst = 60
        limit.maxQueued = 100
        limit.refusalsBeforeDisconnect = 200
        let message = "Too many events; slow down"
        limit.refusalAck = [["ok": false, "error": .string(message), "code": "rate_limited"]]
        limit.refusalEvent = ("error", [["message": .string(message), "code": "rate_limited"]])
        return limit
    }

    /// All of one user's sockets together: the per-connection rate, shared. A person typing on
    /// two devices at once stays far below it; a script with twenty sockets gets no more.
    static let userLimit = SharedInboundLimit(eventsPerSecond: 30, burst: 60)

    /// The CONNECT packet's `{token}`, else `Authorization: Bearer`, else `?token=`.
    static func token(from handshake: SocketHandshake) -> String? {
        if let token = handshake.auth?["token"]?.stringValue, !token.isEmpty { return token }
        if let header = handshake.header("Authorization"), header.lowercased().hasPrefix("bearer ") {
            return String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        }
        if let token = handshake.query["token"], !token.isEmpty { return token }
        return nil
    }

    private static func authenticate(_ token: String, socket: Socket, app: Application) async throws -> SocketUser {
        let found: (any SQLRow)?
        do {
            found = try await app.chatr.tokens.authenticatedRow(token, columns: SocketUser.columns, on: app.db)
        } catch {
            // Not the client's fault: it may retry (the web client backs off and reconnects).
            app.logger.error("socket connect: token check failed", metadata: [
                "socket": .string(socket.id), "error": .string(String(describing: error))])
            throw SocketConnectError("Server busy, try again")
        }
        guard let found else { throw SocketConnectError("Authentication error") }
        do {
            return try SocketUser(row: found)
        } catch {
            app.logger.error("socket connect: could not read the signed-in user", metadata: [
                "socket": .string(socket.id), "error": .string(String(describing: error))])
            throw SocketConnectError("Server busy, try again")
        }
    }

    private static func connected(_ socket: Socket, _ signedIn: SocketUser, app: Application) async {
        let services = app.chatr
        let firstHere = services.presence.connect(signedIn.id, showsStatus: signedIn.showOnlineStatus)
        // The arrival is counted in a task the disconnect handler waits for, so a device is never
        // counted out before it was counted in. (The event handlers are the namespace's: events
        // sent right after the CONNECT reply are handled after this, in order.)
        let arrival = Task { await decide(firstHere, app: app, "first device") { try await $0.deviceArrived(signedIn.id) } }
        socket[PresenceArrival.self] = arrival
        socket.onDisconnect { reason in
            await Self.disconnected(socket, reason: reason, app: app)
        }
        let first = await arrival.value
        // Settled: a disconnect has nothing left to wait for, and a finished task kept for the
        // connection's life would hold its memory (about 1 KB) that long.
        socket[PresenceArrival.self] = nil

        // Read before the CONNECT reply; not kept for the connection's life.
        let memberships = socket[ConnectMemberships.self] ?? Memberships()
        socket[ConnectMemberships.self] = nil
        // Who of the contacts is online, from the registry alone: no user rows per connect.
        let online: [SocketValue] = services.presence.visibleOnline(among: memberships.contacts).map { entry in
            ["userId": .string(entry.userID.wire), "status": .string(entry.status.rawValue)]
        }
        socket.emit("presence:update", ["status": "online", "onlineUsers": .array(online)])
        if first && signedIn.showOnlineStatus {
            services.events.publish(Presence.statusEvents(for: signedIn, status: .online, in: memberships.conversationIDs,
                                                          clock: services.clock))
        }
    }

    /// One process decides "first/last device" from its registry; a cluster from the database
    /// (`ClusterPresence`), falling back to the registry's view if the database cannot answer.
    private static func decide(_ local: Bool, app: Application, _ what: String,
                               _ inCluster: (ClusterPresence) async throws -> Bool) async -> Bool {
        guard let cluster = app.chatrCluster else { return local }
        do {
            return try await inCluster(cluster.presence)
        } catch {
            app.logger.error("cluster presence: could not decide \(what) in the database; going by this node's view: \(String(reflecting: error))")
            return local
        }
    }

    private static func disconnected(_ socket: Socket, reason: DisconnectReason, app: Application) async {
        let services = app.chatr
        guard let signedIn = socket[SocketUser.self] else { return }
        _ = await socket[PresenceArrival.self]?.value
        let lastHere = services.presence.disconnect(signedIn.id)
        guard await decide(lastHere, app: app, "last device", { try await $0.deviceLeft(signedIn.id) }) else { return }
        let now = services.clock.now
        do {
            try await User.query(on: app.db).filter(\.$id == signedIn.id).set(\.$lastSeen, to: now).update()
        } catch {
            app.logger.error("socket disconnect: could not store last seen", metadata: [
                "socket": .string(socket.id), "user": .string(signedIn.id.wire), "reason": .string(reason.rawValue),
                "error": .string(String(describing: error))])
        }
        for conversation in services.typing.stopAll(of: signedIn.id) {
            services.events.publish([RealtimeEvent("typing:status", to: .conversation(conversation), except: .user(signedIn.id),
                                                   value: ["userId": .string(signedIn.id.wire), "username": .string(signedIn.username),
                                                           "isTyping": false])])
        }
        guard signedIn.showOnlineStatus else { return }
        do {
            let conversationIDs = try await Conversations(db: app.db).conversationIDs(of: signedIn.id)
            services.events.publish(Presence.statusEvents(for: signedIn, status: .offline, in: conversationIDs, clock: services.clock,
                                                          lastSeen: now))
        } catch {
            app.logger.error("socket disconnect: could not announce offline", metadata: [
                "socket": .string(socket.id), "user": .string(signedIn.id.wire), "error": .string(String(describing: error))])
        }
    }
}

/// Whether the socket's device was its user's first (decided once, when it connected).
enum PresenceArrival: SocketStorageKey { typealias Value = Task<Bool, Never> }

/// The conversations and contacts of a socket's user, read when it connected; dropped once the
/// connection is announced.
enum ConnectMemberships: SocketStorageKey { typealias Value = Memberships }

private struct SocketIOServerKey: StorageKey { typealias Value = SocketIOServer }

extension Application {
    /// The Socket.IO server on `/socket.io/`.
    public var socketIOServer: SocketIOServer? { storage[SocketIOServerKey.self] }
}

/// The signed-in user of a socket: a value, read from the socket's storage by each handler and
/// replaced whole when it changes (`settings:update`), so no handler ever sees another change it.
struct SocketUser: Sendable, SocketStorageKey {
    typealias Value = SocketUser

    let id: UUID
    let sessionID: UUID?
    var username: String
    var displayName: String
    var profileImage: String?
    var showOnlineStatus: Bool
    var lastSeen: Date?

    init?(_ user: User, sessionID: UUID?) {
        guard let id = user.id else { return nil }
        self.id = id
        self.sessionID = sessionID
        username = user.username
        displayName = user.displayName
        profileImage = user.profileImage
        showOnlineStatus = user.showOnlineStatus
        lastSeen = user.lastSeen
    }

    /// The user's columns a socket keeps, for `TokenService.authenticatedRow`.
    static let columns: SQLQueryString = "u.id, u.username, u.display_name, u.profile_image, u.show_online_status, u.last_seen"

    init(row: any SQLRow) throws {
        id = try row.decode(column: "id", as: UUID.self)
        sessionID = try row.decode(column: "session_id", as: UUID.self)
        username = try row.decode(column: "username", as: String.self)
        displayName = try row.decode(column: "display_name", as: String.self)
        profileImage = try row.decode(column: "profile_image", as: String?.self)
        showOnlineStatus = try row.decode(column: "show_online_status", as: Bool.self)
        lastSeen = try row.decode(column: "last_seen", as: Date?.self)
    }

    /// A model of this user for one service call: fresh each time, so none is shared between tasks.
    var model: User {
        let user = User()
        user.id = id
        user.username = username
        user.usernameKey = username.lowercased()
        user.displayName = displayName
        user.profileImage = profileImage
        user.showOnlineStatus = showOnlineStatus
        user.lastSeen = lastSeen
        return user
    }
}

/// Presence as others see it (SPEC §7): hidden users always appear offline.
enum Presence {
    static func visibleStatus(of user: User, registry: PresenceRegistry) -> PresenceRegistry.Status {
        guard user.showOnlineStatus, let id = user.id else { return .offline }
        return registry.status(of: id)
    }

    /// `user:status` to everyone who shares a conversation with the user: one event to all those
    /// conversations' rooms at once (a socket in several gets it once), not one per contact —
    /// so a 1,000-member group coming online is 1,000 events, not a million. Never a broadcast
    /// to everyone: no conversations, no event.
    static func statusEvents(for user: SocketUser, status: PresenceRegistry.Status, in conversations: [UUID], clock: AppClock,
                             lastSeen: Date? = nil) -> [RealtimeEvent] {
        guard !conversations.isEmpty else { return [] }
        var payload: SocketObject = [
            "userId": .string(user.id.wire), "username": .string(user.username), "status": .string(status.rawValue),
            "timestamp": .string(ISO8601.string(from: clock.now)),
        ]
        // Only going offline says when; otherwise the key is absent (as it always was).
        if status == .offline, let seen = lastSeen ?? user.lastSeen { payload["lastSeen"] = .string(ISO8601.string(from: seen)) }
        return [RealtimeEvent("user:status", to: .conversations(conversations), except: .user(user.id), value: .object(payload))]
    }
}
