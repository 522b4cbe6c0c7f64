import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// A client's connection to one namespace.
public final class Socket: Sendable {
    /// Receives the event's arguments; a non-nil result is sent back as the ack when the client
    /// asked for one.
    public typealias EventHandler = @Sendable (Socket, [SocketValue]) async throws -> [SocketValue]?

    /// Inside an event handler: whether the client asked for an ack (so a handler can report a
    /// failure some other way when it did not).
    @TaskLocal public static var ackRequested = false

    public let id: String
    public let namespace: Namespace
    public let handshake: SocketHandshake
    let client: Client

    /// A socket exists from the CONNECT packet on, but the client is told it is connected only
    /// once the middleware has accepted it. Until then what is sent to it (a broadcast to a room
    /// it joined in middleware, say) waits, and goes out right after the CONNECT reply: nothing
    /// published while a socket connects is lost, and nothing reaches a client before it knows
    /// the namespace. While the held packets are written (outside the lock), newer ones queue
    /// behind them (`flushing`), so none overtakes another.
    enum Phase {
        case connecting([EncodedPacket])
        case flushing([EncodedPacket])
        case connected
        case closed(DisconnectReason)
    }

    private struct State {
        var handlers: [String: EventHandler] = [:]
        var anyHandlers: [@Sendable (String, [SocketValue]) -> Void] = []
        var fallback: EventHandler?
        var disconnectHandlers: [@Sendable (DisconnectReason) async -> Void] = []
        var pendingAcks: [Int: CheckedContinuation<[SocketValue], any Error>] = [:]
        var nextAckID = 0
        var phase = Phase.connecting([])
        var storage: [ObjectIdentifier: any Sendable] = [:]
        var recoveryKey: String?
        var budgetKey: String?
        /// Recovery: the newest broadcast replayed; a live copy of it (sent while the replay was
        /// read) is dropped, not sent twice.
        var replayedUpTo: UInt64 = 0
        /// Recovery: rooms the middleware left out of those coming back.
        var declinedRooms: Set<String> = []

        /// A closing socket lets go of its handlers (they hold the app's objects) and hands
        /// back what must still be told: disconnect handlers to run, acks to fail.
        mutating func takeForClosing() -> (handlers: [@Sendable (DisconnectReason) async -> Void], acks: [CheckedContinuation<[SocketValue], any Error>]) {
            defer {
                pendingAcks = [:]
                disconnectHandlers = []
                handlers = [:]
                anyHandlers = []
                fallback = nil
            }
            return (disconnectHandlers, Array(pendingAcks.values))
        }
    }

    private let state = NIOLockedValueBox(State())

    /// Connection state recovery: the private id the client presents to take this socket back
    /// (sent in the CONNECT reply; nil when recovery is off).
    let pid: String?
    /// Whether this socket took back a disconnected one's id, rooms, data and missed broadcasts.
    public let recovered: Bool
    /// Whether broadcasts reach this client with their offset as the last argument.
    let takesOffsets: Bool
    /// The rooms a recovering socket had when it was lost; it joins them once its middleware has
    /// run, less those the middleware `leave`s (a room the user may no longer be in).
    public let restoredRooms: Set<String>

    init(namespace: Namespace, client: Client, handshake: SocketHandshake, restoring session: RecoverableSession? = nil) {
        id = session?.socketID ?? EngineServer.newSessionID()
        self.namespace = namespace
        self.client = client
        self.handshake = handshake
        recovered = session != nil
        restoredRooms = session?.rooms ?? []
        if let settings = namespace.recovery?.settings {
            pid = session?.pid ?? EngineServer.newSessionID()
            switch settings.offsets {
            case .everySocket: takesOffsets = true
            case .socketsThatAsk: takesOffsets = handshake.auth?["recover"]?.boolValue == true || handshake.auth?["pid"]?.stringValue != nil
            }
        } else {
            pid = nil
            takesOffsets = false
        }
        if let session { state.withLockedValue { $0.storage = session.storage } }
    }

    /// Who may take this socket's state back after a disconnect (set it in middleware: the
    /// authenticated user's id, say). A recovering socket whose key differs after middleware
    /// gets a fresh connection instead, and the state stays for its owner.
    public var recoveryKey: String? {
        get { state.withLockedValue { $0.recoveryKey } }
        set { state.withLockedValue { $0.recoveryKey = newValue } }
    }

    /// The shared inbound budget this socket's events draw from (`SocketIOOptions.sharedInboundLimit`):
    /// set it in middleware, to the user's id say, so that many sockets cannot multiply a user's rate.
    public var budgetKey: String? {
        get { state.withLockedValue { $0.budgetKey } }
        set { state.withLockedValue { $0.budgetKey = newValue } }
    }

    /// Whether the client has been told it is connected and has not gone away.
    public var connected: Bool {
        state.withLockedValue { state in
            switch state.phase {
            case .connected, .flushing: return true
            case .connecting, .closed: return false
            }
        }
    }

    private var isClosed: Bool { state.withLockedValue { if case .closed = $0.phase { return true } else { return false } } }

    /// Typed data kept with the socket: `socket[SignedInUser.self] = user` in a middleware,
    /// `socket[SignedInUser.self]` in handlers.
    public subscript<Key: SocketStorageKey>(key: Key.Type) -> Key.Value? {
        get { state.withLockedValue { $0.storage[ObjectIdentifier(key)] as? Key.Value } }
        set { state.withLockedValue { $0.storage[ObjectIdentifier(key)] = newValue } }
    }

    // MARK: Handlers

    public func on(_ event: String, _ handler: @escaping EventHandler) {
        state.withLockedValue { $0.handlers[event] = handler }
    }

    /// A handler whose first argument is decoded into `T`. A payload of the wrong shape never
    /// reaches it; the client gets `[{"error": "Invalid payload for '<event>'"}]` if it asked for
    /// an ack.
    public func on<T: Decodable & Sendable>(_ event: String, as type: T.Type,
                                           _ handler: @escaping @Sendable (Socket, T) async throws -> [SocketValue]?) {
        on(event) { socket, args in
            guard let payload = try? (args.first ?? .null).decode(T.self) else {
                throw SocketPayloadError(message: "Invalid payload for '\(event)'")
            }
            return try await handler(socket, payload)
        }
    }

    /// Handles events that have no handler of their own.
    public func onUnhandled(_ handler: @escaping EventHandler) {
        state.withLockedValue { $0.fallback = handler }
    }

    /// Sees every incoming event (after its handler is looked up), for logging and tools.
    public func onAny(_ listener: @escaping @Sendable (String, [SocketValue]) -> Void) {
        state.withLockedValue { $0.anyHandlers.append(listener) }
    }

    /// Runs once when the socket goes away, with the reason — at once if it already has.
    public func onDisconnect(_ handler: @escaping @Sendable (DisconnectReason) async -> Void) {
        let gone: DisconnectReason? = state.withLockedValue { state in
            if case .closed(let reason) = state.phase { return reason }
            state.disconnectHandlers.append(handler)
            return nil
        }
        if let gone { client.server.track { await handler(gone) } }
    }

    func dispatch(_ packet: SocketPacket) async {
        // Events reach a socket only while it is connected (not one refused or gone meanwhile).
        guard connected, var args = packet.data?.arrayValue, let event = args.first?.stringValue else { return }
        args.removeFirst()
        let (own, fallback, listeners) = state.withLockedValue { ($0.handlers[event], $0.fallback, $0.anyHandlers) }
        for listener in listeners { listener(event, args) }
        guard let handler = own ?? namespace.handler(for: event) ?? fallback else { return }
        do {
            let reply = try await Socket.$ackRequested.withValue(packet.id != nil) { try await handler(self, args) }
            if let ackID = packet.id, let reply, connected {
                client.send(SocketPacket(.ack, namespace: namespace.name, id: ackID, data: .array(reply)))
            }
        } catch let error as SocketPayloadError {
            if let ackID = packet.id, connected {
                client.send(SocketPacket(.ack, namespace: namespace.name, id: ackID, data: [["error": .string(error.message)]]))
            } else {
                // No ack to carry it: the client's mistake is still on record.
                client.server.report(SocketIOFailure(kind: .handler, sessionID: client.session.id, socketID: id, namespace: namespace.name,
                                                     event: event, error: error))
            }
        } catch {
            // The connection carries on, but the failure is reported with its context.
            client.server.report(SocketIOFailure(kind: .handler, sessionID: client.session.id, socketID: id, namespace: namespace.name,
                                                 event: event, error: error))
        }
    }

    // MARK: Emitting

    /// Sends an event to this client.
    public func emit(_ event: String, _ args: SocketValue...) { emit(event, args) }

    public func emit(_ event: String, _ args: [SocketValue]) {
        send(EncodedPacket(SocketPacket(.event, namespace: namespace.name, data: .array([.string(event)] + args))))
    }

    /// Everything addressed to this socket goes through here: held while it connects (and while
    /// what was held is written), dropped once it is gone.
    func send(_ packet: EncodedPacket) {
        let now: Bool = state.withLockedValue { state in
            if let number = packet.recoveryNumber, number <= state.replayedUpTo { return false }
            switch state.phase {
            case .connecting(var held):
                held.append(packet)
                state.phase = .connecting(held)
                return false
            case .flushing(var held):
                held.append(packet)
                state.phase = .flushing(held)
                return false
            case .connected: return true
            case .closed: return false
            }
        }
        if now { client.send(packet) }
    }

    /// Middleware accepted the socket: the CONNECT reply, then whatever was held, in order —
    /// written outside the lock (a write may close the connection, which takes the lock). False
    /// when the socket was closed meanwhile: the client must be refused instead.
    ///
    /// A recovered socket gets the broadcasts it missed (`missed`, read before the held ones are
    /// taken) between the reply and what was held, less those that are also held.
    func open(missed: [EncodedPacket] = []) -> Bool {
        var reply: SocketObject = ["sid": .string(id)]
        if let pid { reply["pid"] = .string(pid) }
        var batch: [EncodedPacket] = state.withLockedValue { state in
            guard case .connecting(let held) = state.phase else { return [] }
            state.phase = .flushing([])
            let heldOffsets = Set(held.compactMap(\.offset))
            let replay = missed.filter { !heldOffsets.contains($0.offset ?? "") }
            state.replayedUpTo = replay.compactMap(\.recoveryNumber).max() ?? 0
            return [EncodedPacket(SocketPacket(.connect, namespace: namespace.name, data: .object(reply)))] + replay + held
        }
        guard !batch.isEmpty else { return false }
        while !batch.isEmpty {
            for packet in batch { client.send(packet) }
            batch = state.withLockedValue { state in
                guard case .flushing(let newer) = state.phase else { return [] }
                state.phase = newer.isEmpty ? .connected : .flushing([])
                return newer
            }
        }
        return true
    }

    /// Sends an event and waits for the client's ack.
    public func emitWithAck(_ event: String, _ args: [SocketValue], timeout: TimeAmount = .seconds(10)) async throws -> [SocketValue] {
        let ackID: Int? = state.withLockedValue { state in
            if case .closed = state.phase { return nil }
            defer { state.nextAckID += 1 }
            return state.nextAckID
        }
        guard let ackID else { throw SocketAckError.disconnected }
        let timer = client.server.group.next().scheduleTask(in: timeout) { [weak self] in
            self?.failAck(ackID, with: SocketAckError.timeout)
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            let accepted = state.withLockedValue { state -> Bool in
                if case .closed = state.phase { return false }
                state.pendingAcks[ackID] = continuation
                return true
            }
            guard accepted else { continuation.resume(throwing: SocketAckError.disconnected); return }
            send(EncodedPacket(SocketPacket(.event, namespace: namespace.name, id: ackID, data: .array([.string(event)] + args))))
        }
    }

    func settleAck(_ packet: SocketPacket) {
        guard let id = packet.id else { return }
        let continuation = state.withLockedValue { $0.pendingAcks.removeValue(forKey: id) }
        continuation?.resume(returning: packet.data?.arrayValue ?? [])
    }

    private func failAck(_ id: Int, with error: any Error) {
        state.withLockedValue { $0.pendingAcks.removeValue(forKey: id) }?.resume(throwing: error)
    }

    // MARK: Rooms

    public func join(_ rooms: String...) { namespace.adapter.join(id, rooms: Set(rooms)) }
    public func join(_ rooms: Set<String>) { namespace.adapter.join(id, rooms: rooms) }
    public func leave(_ room: String) {
        if restoredRooms.contains(room) { state.withLockedValue { _ = $0.declinedRooms.insert(room) } }
        namespace.adapter.leave(id, room: room)
    }

    /// The restored rooms the middleware did not decline.
    var roomsToRestore: Set<String> { restoredRooms.subtracting(state.withLockedValue { $0.declinedRooms }) }
    public var rooms: Set<String> { namespace.adapter.rooms(of: id) }

    /// Broadcast to rooms, excluding this socket.
    public func to(_ rooms: String...) -> BroadcastOperator {
        BroadcastOperator(namespace: namespace, options: BroadcastOptions(except: [id])).to(rooms)
    }

    /// Broadcast to the whole namespace except this socket.
    public var broadcast: BroadcastOperator {
        BroadcastOperator(namespace: namespace, options: BroadcastOptions(except: [id]))
    }

    // MARK: Disconnecting

    /// Disconnects from this namespace (the client gets DISCONNECT); with `close`, ends the
    /// whole connection.
    public func disconnect(close: Bool = false) {
        guard !isClosed else { return }
        // A socket still connecting is refused instead (`Client.connect` sees it closed).
        if connected { client.send(SocketPacket(.disconnect, namespace: namespace.name)) }
        closed(reason: close ? .forcedServerClose : .serverNamespaceDisconnect)
        if close { client.session.close(reason: "forced server close") }
    }

    /// Refused: gone without ever having connected, so no disconnect handler runs (and any
    /// ack it was waiting for fails at once).
    func abandon() {
        let acks = state.withLockedValue { state -> [CheckedContinuation<[SocketValue], any Error>] in
            if case .closed = state.phase {} else { state.phase = .closed(.serverNamespaceDisconnect) }
            return state.takeForClosing().acks
        }
        namespace.remove(self)
        for ack in acks { ack.resume(throwing: SocketAckError.disconnected) }
    }

    func closed(reason: DisconnectReason) {
        let taken = state.withLockedValue { state -> (handlers: [@Sendable (DisconnectReason) async -> Void], acks: [CheckedContinuation<[SocketValue], any Error>], keep: RecoverableSession?)? in
            if case .closed = state.phase { return nil }
            let wasConnected: Bool
            if case .connecting = state.phase { wasConnected = false } else { wasConnected = true }
            state.phase = .closed(reason)
            // One that never connected keeps its handlers from running: `Client.connect` refuses it.
            if !wasConnected { state.disconnectHandlers = [] }
            var keep: RecoverableSession?
            if wasConnected, reason.isRecoverable, let pid {
                keep = RecoverableSession(pid: pid, socketID: id, rooms: [], storage: state.storage, key: state.recoveryKey, disconnectedAt: .now())
            }
            let (handlers, acks) = state.takeForClosing()
            return (handlers, acks, keep)
        }
        guard let taken else { return }
        // Its rooms as they are now, before it leaves them; kept once it is out of the namespace
        // (a socket taking the session back must not be removed in its place).
        let keptRooms = taken.keep == nil ? [] : rooms.subtracting([id])
        client.remove(self)
        namespace.remove(self)
        if var keep = taken.keep, let recovery = namespace.recovery {
            keep.rooms = keptRooms
            recovery.persist(keep)
        }
        for ack in taken.acks { ack.resume(throwing: SocketAckError.disconnected) }
        if !taken.handlers.isEmpty {
            client.server.track { for handler in taken.handlers { await handler(reason) } }
        }
    }
}
