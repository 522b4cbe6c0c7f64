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

    private struct State {
        var handlers: [String: EventHandler] = [:]
        var anyHandlers: [@Sendable (String, [SocketValue]) -> Void] = []
        var fallback: EventHandler?
        var disconnectHandlers: [@Sendable (String) async -> Void] = []
        var pendingAcks: [Int: CheckedContinuation<[SocketValue], any Error>] = [:]
        var nextAckID = 0
        var connected = true
        var data: [String: any Sendable] = [:]
    }

    private let state = NIOLockedValueBox(State())

    init(namespace: Namespace, client: Client, handshake: SocketHandshake) {
        id = EngineServer.newSessionID()
        self.namespace = namespace
        self.client = client
        self.handshake = handshake
    }

    public var connected: Bool { state.withLockedValue { $0.connected } }

    /// Application data kept with the socket (the signed-in user, say).
    public subscript(data key: String) -> (any Sendable)? {
        get { state.withLockedValue { $0.data[key] } }
        set { state.withLockedValue { $0.data[key] = newValue } }
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

    /// Runs once when the socket goes away, with the reason ("transport close", "ping timeout",
    /// "client namespace disconnect", "server namespace disconnect", …).
    public func onDisconnect(_ handler: @escaping @Sendable (String) async -> Void) {
        state.withLockedValue { $0.disconnectHandlers.append(handler) }
    }

    func dispatch(_ packet: SocketPacket) async {
        guard var args = packet.data?.arrayValue, let event = args.first?.stringValue else { return }
        args.removeFirst()
        let (handler, listeners) = state.withLockedValue { ($0.handlers[event] ?? $0.fallback, $0.anyHandlers) }
        for listener in listeners { listener(event, args) }
        guard let handler else { return }
        do {
            let reply = try await Socket.$ackRequested.withValue(packet.id != nil) { try await handler(self, args) }
            if let ackID = packet.id, let reply, connected {
                client.send(SocketPacket(.ack, namespace: namespace.name, id: ackID, data: .array(reply)))
            }
        } catch let error as SocketPayloadError {
            if let ackID = packet.id, connected {
                client.send(SocketPacket(.ack, namespace: namespace.name, id: ackID, data: [["error": .string(error.message)]]))
            }
        } catch {
            // Any other failure is the application's to report; the connection carries on.
        }
    }

    // MARK: Emitting

    /// Sends an event to this client.
    public func emit(_ event: String, _ args: SocketValue...) { emit(event, args) }

    public func emit(_ event: String, _ args: [SocketValue]) {
        guard connected else { return }
        client.send(SocketPacket(.event, namespace: namespace.name, data: .array([.string(event)] + args)))
    }

    /// Sends an event and waits for the client's ack.
    public func emitWithAck(_ event: String, _ args: [SocketValue], timeout: TimeAmount = .seconds(10)) async throws -> [SocketValue] {
        let ackID: Int? = state.withLockedValue { state in
            guard state.connected else { return nil }
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
                guard state.connected else { return false }
                state.pendingAcks[ackID] = continuation
                return true
            }
            guard accepted else { continuation.resume(throwing: SocketAckError.disconnected); return }
            client.send(SocketPacket(.event, namespace: namespace.name, id: ackID, data: .array([.string(event)] + args)))
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
    public func leave(_ room: String) { namespace.adapter.leave(id, room: room) }
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
    public func disconnect(close: Bool = false, reason: String = "server namespace disconnect") {
        guard connected else { return }
        client.send(SocketPacket(.disconnect, namespace: namespace.name))
        closed(reason: reason)
        if close { client.session.close(reason: "forced close") }
    }

    func closed(reason: String) {
        let taken = state.withLockedValue { state -> (handlers: [@Sendable (String) async -> Void], acks: [CheckedContinuation<[SocketValue], any Error>])? in
            guard state.connected else { return nil }
            state.connected = false
            defer {
                state.pendingAcks = [:]
                state.disconnectHandlers = []
                state.handlers = [:]
                state.fallback = nil
            }
            return (state.disconnectHandlers, Array(state.pendingAcks.values))
        }
        guard let taken else { return }
        client.remove(self)
        namespace.remove(self)
        for ack in taken.acks { ack.resume(throwing: SocketAckError.disconnected) }
        if !taken.handlers.isEmpty {
            client.server.track { for handler in taken.handlers { await handler(reason) } }
        }
    }
}
