import NIOConcurrencyHelpers

/// A Socket.IO namespace: its connect middleware, connection handlers, sockets and rooms.
public final class Namespace: Sendable {
    /// Sees the socket before the client is told it connected: it may refuse it (throw
    /// `SocketConnectError`), keep data with it, and join rooms — what is broadcast to those
    /// rooms from then on reaches the client right after its CONNECT reply.
    public typealias Middleware = @Sendable (Socket) async throws -> Void
    public typealias ConnectionHandler = @Sendable (Socket) async -> Void

    public let name: String
    public unowned let server: SocketIOServer
    private let middlewares = NIOLockedValueBox<[Middleware]>([])
    private let connectionHandlers = NIOLockedValueBox<[ConnectionHandler]>([])
    private let sockets = NIOLockedValueBox<[String: Socket]>([:])
    private let adapterBox = NIOLockedValueBox<(any SocketAdapter)?>(nil)
    private let serverSideHandlers = NIOLockedValueBox<[String: ServerSideHandler]>([:])
    private let eventHandlers = NIOLockedValueBox<[String: Socket.EventHandler]>([:])
    private let delivered = NIOLockedValueBox(0)

    /// Handles a server-side event from another node; what it returns is its reply to
    /// `serverSideEmitWithAck` (nil: no reply from this node).
    public typealias ServerSideHandler = @Sendable ([SocketValue]) async -> SocketValue?

    /// Connection state recovery on this node, when the server enables it.
    let recovery: RecoveryStore?

    init(name: String, server: SocketIOServer) {
        self.name = name
        self.server = server
        recovery = server.options.connectionStateRecovery.map(RecoveryStore.init)
    }

    /// The adapter (in-memory unless replaced with `useAdapter` before any connection).
    public var adapter: any SocketAdapter {
        adapterBox.withLockedValue { box in
            if let adapter = box { return adapter }
            let adapter = InMemoryAdapter(localSide)
            box = adapter
            return adapter
        }
    }

    /// Replaces the adapter (a cluster adapter); `make` receives this node's side of the namespace.
    public func useAdapter(_ make: (LocalNamespace) throws -> any SocketAdapter) rethrows {
        let adapter = try make(localSide)
        adapterBox.withLockedValue { $0 = adapter }
    }

    /// What an adapter may do here: deliver to, and disconnect, local sockets; run server-side
    /// event handlers; report failures through the server's `onError`.
    private var localSide: LocalNamespace {
        LocalNamespace(
            name: name,
            deliver: { [weak self] ids, packet, options in self?.deliverLocally(ids, packet, options) },
            disconnect: { [weak self] ids, close in
                for id in ids { self?.socket(id)?.disconnect(close: close) }
            },
            serverSideEvent: { [weak self] event, args in
                guard let handler = self?.serverSideHandlers.withLockedValue({ $0[event] }) else { return nil }
                return await handler(args)
            },
            report: { [weak self] what, error in
                self?.server.report(SocketIOFailure(kind: .adapter, sessionID: "-", namespace: self?.name, event: what, error: error))
            })
    }

    /// Handles `event` sent by another node with `serverSideEmit` (one handler per event).
    public func onServerSideEvent(_ event: String, _ handler: @escaping ServerSideHandler) {
        serverSideHandlers.withLockedValue { $0[event] = handler }
    }

    /// Tells the other nodes (never this one) about `event`.
    public func serverSideEmit(_ event: String, _ args: SocketValue...) {
        adapter.serverSideEmit(event, args)
    }

    /// The other nodes' replies to `event`, from those that answer within `timeout`.
    public func serverSideEmitWithAck(_ event: String, _ args: [SocketValue], timeout: Duration = .seconds(5)) async -> [SocketValue] {
        await adapter.serverSideEmitWithAck(event, args, timeout: timeout)
    }

    /// Runs before a socket connects, in the order added; throw `SocketConnectError` to refuse it.
    public func use(_ middleware: @escaping Middleware) {
        middlewares.withLockedValue { $0.append(middleware) }
    }

    public func onConnection(_ handler: @escaping ConnectionHandler) {
        connectionHandlers.withLockedValue { $0.append(handler) }
    }

    /// Handles `event` from every socket of the namespace, which the handler receives. One
    /// handler for all sockets instead of one per socket (`Socket.on`): a server that registers
    /// a dozen handlers at each connect keeps a dozen closures and a dictionary per connection.
    /// A socket's own handler for the event comes first; then this; then its `onUnhandled`.
    public func on(_ event: String, _ handler: @escaping Socket.EventHandler) {
        eventHandlers.withLockedValue { $0[event] = handler }
    }

    func handler(for event: String) -> Socket.EventHandler? {
        eventHandlers.withLockedValue { $0[event] }
    }

    public var allSockets: [Socket] { sockets.withLockedValue { Array($0.values) } }

    public func socket(_ id: String) -> Socket? { sockets.withLockedValue { $0[id] } }

    // MARK: Broadcasting

    public func to(_ rooms: String...) -> BroadcastOperator { BroadcastOperator(namespace: self).to(rooms) }
    public func to(_ rooms: [String]) -> BroadcastOperator { BroadcastOperator(namespace: self).to(rooms) }
    public func except(_ rooms: String...) -> BroadcastOperator { BroadcastOperator(namespace: self).except(rooms) }

    /// To every socket of the namespace.
    public func emit(_ event: String, _ args: SocketValue...) {
        BroadcastOperator(namespace: self).emit(event, args)
    }

    // MARK: Internals

    func runMiddleware(_ socket: Socket) async throws {
        for middleware in middlewares.withLockedValue({ $0 }) { try await middleware(socket) }
    }

    func add(_ socket: Socket, rooms: Set<String> = []) {
        sockets.withLockedValue { $0[socket.id] = socket }
        adapter.join(socket.id, rooms: rooms.union([socket.id]))
    }

    func connected(_ socket: Socket) async {
        for handler in connectionHandlers.withLockedValue({ $0 }) { await handler(socket) }
    }

    /// Takes `socket` out — only that socket: one that has taken its id back since stays.
    func remove(_ socket: Socket) {
        let removed = sockets.withLockedValue { table -> Bool in
            guard table[socket.id] === socket else { return false }
            table[socket.id] = nil
            return true
        }
        if removed { adapter.leaveAll(socket.id) }
    }

    private func deliverLocally(_ ids: Set<String>, _ packet: EncodedPacket, _ options: BroadcastOptions) {
        // Numbered and kept first, even when no socket here is in its rooms: one that is away
        // may come back for it.
        let number = recovery?.append(packet, options: options)
        guard !ids.isEmpty else { return }
        let targets = sockets.withLockedValue { table in ids.compactMap { table[$0] } }
        var stamped: EncodedPacket?
        for socket in targets {
            if let number, let recovery, socket.takesOffsets {
                if stamped == nil { stamped = recovery.stamped(packet, number: number) }
                socket.send(stamped!)
            } else {
                socket.send(packet)
            }
        }
        delivered.withLockedValue { $0 += targets.count }
    }

    /// Packets handed to this node's sockets by broadcasts since start (for metrics).
    public var deliveredPackets: Int { delivered.withLockedValue { $0 } }
}

/// `to` / `except` chains ending in `emit`, as in the reference server.
public struct BroadcastOperator: Sendable {
    let namespace: Namespace
    var options = BroadcastOptions()

    init(namespace: Namespace, options: BroadcastOptions = BroadcastOptions()) {
        self.namespace = namespace
        self.options = options
    }

    public func to(_ rooms: String...) -> BroadcastOperator { to(rooms) }

    public func to(_ rooms: [String]) -> BroadcastOperator {
        var copy = self
        copy.options.rooms.formUnion(rooms)
        return copy
    }

    public func except(_ rooms: String...) -> BroadcastOperator { except(rooms) }

    public func except(_ rooms: [String]) -> BroadcastOperator {
        var copy = self
        copy.options.except.formUnion(rooms)
        return copy
    }

    public func emit(_ event: String, _ args: SocketValue...) { emit(event, args) }

    /// Encodes once and hands the packet to the adapter.
    public func emit(_ event: String, _ args: [SocketValue]) {
        let packet = SocketPacket(.event, namespace: namespace.name, data: .array([.string(event)] + args))
        namespace.adapter.broadcast(EncodedPacket(packet), options: options)
    }

    /// The local sockets this operator would reach.
    public var socketIDs: Set<String> { namespace.adapter.sockets(matching: options) }

    /// The matching sockets, on every node, join `rooms`.
    public func socketsJoin(_ rooms: String...) { namespace.adapter.addSockets(options, rooms: Set(rooms)) }

    /// The matching sockets, on every node, leave `rooms`.
    public func socketsLeave(_ rooms: String...) { namespace.adapter.delSockets(options, rooms: Set(rooms)) }

    /// Disconnects the matching sockets on every node; `close` ends their connections too.
    public func disconnectSockets(close: Bool = false) { namespace.adapter.disconnectSockets(options, close: close) }

    /// The matching sockets of every node that answers within `timeout`.
    public func fetchSockets(timeout: Duration = .seconds(5)) async -> [SocketSummary] {
        await namespace.adapter.fetchSockets(options, timeout: timeout)
    }
}
