import NIOConcurrencyHelpers
import NIOCore

/// One Engine.IO session seen by Socket.IO: it decodes packets, reassembles binary ones, and
/// routes them to the session's sockets (one per namespace). Events are handled one at a time,
/// in arrival order; acks are settled at once so a handler may wait for one.
final class Client: Sendable {
    let server: SocketIOServer
    let session: EngineSocket

    private struct State {
        var assembler = BinaryAssembler()
        var sockets: [String: Socket] = [:]
        var connectTimer: Scheduled<Void>?
    }

    private let state = NIOLockedValueBox(State())
    private let queue: AsyncStream<SocketPacket>.Continuation
    private let stream: AsyncStream<SocketPacket>

    init(server: SocketIOServer, session: EngineSocket) {
        self.server = server
        self.session = session
        (stream, queue) = AsyncStream.makeStream(of: SocketPacket.self)
    }

    func start() {
        session.setHandlers(onMessage: { [self] message in receive(message) }, onClose: { [self] reason in closed(reason) })
        let timer = server.group.next().scheduleTask(in: .milliseconds(Int64(server.options.connectTimeout))) { [weak self] in
            guard let self else { return }
            if self.state.withLockedValue({ $0.sockets.isEmpty }) { self.session.close(reason: "connect timeout") }
        }
        state.withLockedValue { $0.connectTimer = timer }
        Task { [stream, self] in
            for await packet in stream { await handle(packet) }
        }
    }

    // MARK: Incoming

    private func receive(_ message: EngineMessage) {
        do {
            let complete: SocketPacket?
            switch message {
            case .text(let text):
                let (packet, attachments) = try SocketCodec.decode(text, maxAttachments: server.options.maxAttachments)
                complete = try state.withLockedValue { state throws(SocketDecodingError) -> SocketPacket? in
                    guard !state.assembler.isWaiting else { throw .invalidAttachments }
                    if packet.type == .binaryEvent || packet.type == .binaryAck {
                        return try state.assembler.start(packet, attachments: attachments)
                    }
                    return packet
                }
            case .binary(let bytes):
                complete = try state.withLockedValue { state throws(SocketDecodingError) in try state.assembler.add(bytes) }
            }
            guard let packet = complete else { return }
            if packet.type == .ack {
                socket(for: packet.namespace)?.settleAck(packet)
            } else {
                queue.yield(packet)
            }
        } catch {
            // Any invalid packet ends this client's connection, and only this one.
            session.close(reason: "parse error")
        }
    }

    private func handle(_ packet: SocketPacket) async {
        switch packet.type {
        case .connect:
            await connect(packet)
        case .disconnect:
            if let socket = socket(for: packet.namespace) { socket.closed(reason: "client namespace disconnect") }
        case .event:
            guard let socket = socket(for: packet.namespace) else { return }
            await socket.dispatch(packet)
        default:
            session.close(reason: "parse error")
        }
    }

    private func connect(_ packet: SocketPacket) async {
        guard let namespace = server.existingNamespace(packet.namespace) else {
            send(SocketPacket(.connectError, namespace: packet.namespace, data: ["message": "Invalid namespace"]))
            return
        }
        guard socket(for: packet.namespace) == nil else { return }
        let handshake = SocketHandshake(auth: packet.data, request: session.handshake)
        do {
            try await namespace.runMiddleware(handshake)
        } catch let rejection as SocketConnectError {
            var body: [String: SocketValue] = ["message": .string(rejection.message)]
            if let data = rejection.data { body["data"] = data }
            send(SocketPacket(.connectError, namespace: packet.namespace, data: .object(SocketObject(body))))
            return
        } catch {
            send(SocketPacket(.connectError, namespace: packet.namespace, data: ["message": "Connection refused"]))
            return
        }
        guard !session.isClosed else { return }
        let socket = Socket(namespace: namespace, client: self, handshake: handshake)
        state.withLockedValue { state in
            state.sockets[packet.namespace] = socket
            state.connectTimer?.cancel()
            state.connectTimer = nil
        }
        namespace.add(socket)
        send(SocketPacket(.connect, namespace: packet.namespace, data: ["sid": .string(socket.id)]))
        await namespace.connected(socket)
    }

    // MARK: Outgoing and lifecycle

    func send(_ packet: SocketPacket) {
        session.send(EncodedPacket(packet).prepared)
    }

    func send(_ encoded: EncodedPacket) {
        session.send(encoded.prepared)
    }

    func socket(for namespace: String) -> Socket? {
        state.withLockedValue { $0.sockets[namespace] }
    }

    func remove(_ socket: Socket) {
        state.withLockedValue { state in
            if state.sockets[socket.namespace.name] === socket { state.sockets[socket.namespace.name] = nil }
        }
    }

    private func closed(_ reason: String) {
        let sockets = state.withLockedValue { state -> [Socket] in
            state.connectTimer?.cancel()
            defer { state.sockets = [:] }
            return Array(state.sockets.values)
        }
        queue.finish()
        for socket in sockets { socket.closed(reason: reason) }
    }
}
