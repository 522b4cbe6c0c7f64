import NIOConcurrencyHelpers
import NIOCore

/// One Engine.IO session: its transport (long-polling, or a WebSocket after the handshake or an
/// upgrade), the packets waiting for the next poll, and the heartbeat. Thread-safe; every state
/// change happens under one lock and callbacks run outside it.
public final class EngineSocket: Sendable {
    public let id: String
    /// The request that opened the session (headers, query, address) for the layers above.
    public let handshake: EngineRequest

    enum Transport {
        case polling
        case websocket(any EngineWebSocket)
    }

    private struct State {
        var transport: Transport
        var closed = false
        var outbox: [EnginePacket] = []
        var pendingPoll: CheckedContinuation<EngineResponse, Never>?
        var postInFlight = false
        /// Until when the client's input is not read (`pauseReading`).
        var readsPausedUntil: NIODeadline?
        var probe: (any EngineWebSocket)?
        var probed = false
        /// Pings sent so far, and the one whose pong is awaited (its timeout checks this).
        var pingsSent: UInt64 = 0
        var unansweredPing: UInt64?
        var onMessage: (@Sendable (EngineMessage) -> Void)?
        var onClose: (@Sendable (String) -> Void)?
    }

    private let state: NIOLockedValueBox<State>
    private let options: EngineOptions
    private let eventLoop: any EventLoop
    private let removeFromServer: @Sendable (String) -> Void

    init(id: String, handshake: EngineRequest, transport: Transport, options: EngineOptions, eventLoop: any EventLoop,
         removeFromServer: @escaping @Sendable (String) -> Void) {
        self.id = id
        self.handshake = handshake
        self.options = options
        self.eventLoop = eventLoop
        self.removeFromServer = removeFromServer
        state = NIOLockedValueBox(State(transport: transport))
    }

    /// Sets the receivers of messages and of the close. Call once, right after the connection.
    public func setHandlers(onMessage: @escaping @Sendable (EngineMessage) -> Void, onClose: @escaping @Sendable (String) -> Void) {
        state.withLockedValue {
            $0.onMessage = onMessage
            $0.onClose = onClose
        }
    }

    public var isClosed: Bool { state.withLockedValue { $0.closed } }

    /// Whether a long-polling GET is being held, waiting for packets.
    var isPolling: Bool { state.withLockedValue { $0.pendingPoll != nil } }

    public var transportName: String {
        state.withLockedValue { if case .websocket = $0.transport { return "websocket" } else { return "polling" } }
    }

    // MARK: Sending

    public func send(_ message: EngineMessage) {
        switch message {
        case .text(let text): send(EnginePacket(.message, text))
        case .binary(let bytes): send(EnginePacket(binary: bytes))
        }
    }

    /// Sends several messages in one go (one poll response, or consecutive WebSocket frames).
    public func send(_ messages: [EngineMessage]) {
        let packets = messages.map { message -> EnginePacket in
            switch message {
            case .text(let text): return EnginePacket(.message, text)
            case .binary(let bytes): return EnginePacket(binary: bytes)
            }
        }
        send(packets: packets)
    }

    /// Sends messages prepared once for many sessions: a WebSocket session writes the shared
    /// frames as they are; a polling session queues the messages like any others.
    public func send(_ prepared: PreparedMessages) {
        let socket: (any EngineWebSocket)? = state.withLockedValue { state in
            guard !state.closed, case .websocket(let socket) = state.transport else { return nil }
            return socket
        }
        guard let socket else { send(prepared.messages); return }
        for frame in prepared.frames { socket.send(frame: frame.payload, isText: frame.isText) }
    }

    func send(_ packet: EnginePacket) { send(packets: [packet]) }

    private func send(packets: [EnginePacket]) {
        enum Action { case none, websocket(any EngineWebSocket), poll(CheckedContinuation<EngineResponse, Never>, [EnginePacket]) }
        let action: Action = state.withLockedValue { state in
            guard !state.closed else { return .none }
            switch state.transport {
            case .websocket(let socket):
                return .websocket(socket)
            case .polling:
                state.outbox.append(contentsOf: packets)
                guard let poll = state.pendingPoll else { return .none }
                state.pendingPoll = nil
                defer { state.outbox = [] }
                return .poll(poll, state.outbox)
            }
        }
        switch action {
        case .none: break
        case .websocket(let socket): for packet in packets { Self.write(packet, to: socket) }
        case .poll(let continuation, let queued): continuation.resume(returning: Self.pollResponse(queued))
        }
    }

    static func write(_ packet: EnginePacket, to socket: any EngineWebSocket) {
        switch packet.payload {
        case .binary(let bytes): socket.send(binary: bytes)
        case .text: socket.send(text: EngineCodec.encode(packet))
        }
    }

    static func pollResponse(_ packets: [EnginePacket]) -> EngineResponse {
        EngineResponse(status: 200, body: EngineCodec.encodePayload(packets))
    }

    // MARK: Long-polling

    /// A polling GET: answered at once when packets are waiting, else held until some are.
    func poll() async -> EngineResponse {
        enum Check { case wait, error(EngineHTTPError), closeForDuplicate }
        let check: Check = state.withLockedValue { state in
            if case .websocket = state.transport { return .error(.badRequest) }
            if state.closed { return .error(.unknownSession) }
            if state.pendingPoll != nil { return .closeForDuplicate }
            return .wait
        }
        switch check {
        case .error(let error): return .error(error)
        case .closeForDuplicate:
            close(reason: "transport error")
            return .error(.badRequest)
        case .wait: break
        }
        return await withCheckedContinuation { continuation in
            let immediate: [EnginePacket]? = state.withLockedValue { state in
                if state.closed { return [EnginePacket(.close)] }
                if !state.outbox.isEmpty {
                    defer { state.outbox = [] }
                    return state.outbox
                }
                state.pendingPoll = continuation
                return nil
            }
            if let immediate { continuation.resume(returning: Self.pollResponse(immediate)) }
        }
    }

    /// Reads nothing more from the client for `duration` (or longer, if already paused longer):
    /// a WebSocket stops reading its TCP connection; a polling POST is answered only then, and
    /// a polling client sends the next one only after that answer.
    public func pauseReading(for duration: TimeAmount) {
        let until = NIODeadline.now() + duration
        let socket: (any EngineWebSocket)? = state.withLockedValue { state in
            if let paused = state.readsPausedUntil, paused >= until { return nil }
            state.readsPausedUntil = until
            if case .websocket(let socket) = state.transport { return socket }
            return nil
        }
        socket?.pauseReading(until: until)
    }

    /// A polling POST: every packet in the body, in order. Garbage closes the session.
    func receivePost(_ body: String) async -> EngineResponse {
        let allowed: EngineHTTPError? = state.withLockedValue { state in
            if case .websocket = state.transport { return .badRequest }
            if state.closed { return .unknownSession }
            if state.postInFlight { return .badRequest }
            state.postInFlight = true
            return nil
        }
        if let allowed {
            if allowed == .badRequest, transportName == "polling" { close(reason: "transport error") }
            return .error(allowed)
        }
        defer { state.withLockedValue { $0.postInFlight = false } }
        let packets: [EnginePacket]
        do {
            packets = try EngineCodec.decodePayload(body)
        } catch {
            close(reason: "parse error")
            return .error(.badRequest)
        }
        for packet in packets { receive(packet) }
        // Still "in flight" while paused: a second POST meanwhile is refused, as any overlap is.
        if let until = state.withLockedValue({ $0.readsPausedUntil }), case let wait = until - .now(), wait > .zero {
            try? await Task.sleep(nanoseconds: UInt64(wait.nanoseconds))
        }
        return .ok
    }

    // MARK: WebSocket

    /// A frame from the session's WebSocket, or from a probe that is upgrading the session.
    func receive(text: String, from socket: any EngineWebSocket) {
        let packet: EnginePacket
        do {
            packet = try EngineCodec.decode(text: Substring(text))
        } catch {
            if isProbe(socket) { socket.close() } else { close(reason: "parse error") }
            return
        }
        if isProbe(socket) {
            receiveProbe(packet, from: socket)
        } else {
            receive(packet)
        }
    }

    func receive(binary: [UInt8], from socket: any EngineWebSocket) {
        if isProbe(socket) {
            socket.close()
        } else {
            receive(EnginePacket(binary: binary))
        }
    }

    /// The WebSocket went away: for the session's own socket that ends the session.
    func socketClosed(_ socket: any EngineWebSocket) {
        let ownSocket: Bool = state.withLockedValue { state in
            if let probe = state.probe, probe === socket {
                state.probe = nil
                state.probed = false
                return false
            }
            if case .websocket(let current) = state.transport { return current === socket }
            return false
        }
        if ownSocket { close(reason: "transport close") }
    }

    private func isProbe(_ socket: any EngineWebSocket) -> Bool {
        state.withLockedValue { state in state.probe.map { $0 === socket } ?? false }
    }

    /// Starts an upgrade: the new WebSocket must send `2probe`, then `5`.
    func attachProbe(_ socket: any EngineWebSocket) -> Bool {
        let accepted: Bool = state.withLockedValue { state in
            guard !state.closed, state.probe == nil, case .polling = state.transport else { return false }
            state.probe = socket
            return true
        }
        guard accepted else { return false }
        // Never cancelled (see `schedulePing`): it does nothing if this probe is gone by then.
        eventLoop.scheduleTask(in: .milliseconds(Int64(options.upgradeTimeout))) { [weak self] in
            guard let self, self.isProbe(socket) else { return }
            self.state.withLockedValue { $0.probe = nil; $0.probed = false }
            socket.close()
        }
        return true
    }

    private func receiveProbe(_ packet: EnginePacket, from socket: any EngineWebSocket) {
        switch (packet.type, packet.text) {
        case (.ping, "probe"?):
            socket.send(text: EngineCodec.encode(EnginePacket(.pong, "probe")))
            // Wake the pending poll with a noop so the client can pause polling.
            let poll: CheckedContinuation<EngineResponse, Never>? = state.withLockedValue { state in
                state.probed = true
                defer { state.pendingPoll = nil }
                return state.pendingPoll
            }
            poll?.resume(returning: Self.pollResponse([EnginePacket(.noop)]))
        case (.upgrade, _):
            let result: (queued: [EnginePacket], poll: CheckedContinuation<EngineResponse, Never>?, pausedUntil: NIODeadline?)? = state.withLockedValue { state in
                guard state.probed, !state.closed else { return nil }
                state.transport = .websocket(socket)
                state.probe = nil
                defer { state.outbox = []; state.pendingPoll = nil }
                return (state.outbox, state.pendingPoll, state.readsPausedUntil)
            }
            guard let result else { socket.close(); return }
            // A pause begun on polling goes on on the WebSocket.
            if let until = result.pausedUntil, until > .now() { socket.pauseReading(until: until) }
            result.poll?.resume(returning: Self.pollResponse([EnginePacket(.noop)]))
            for packet in result.queued { Self.write(packet, to: socket) }
        default:
            socket.close()
        }
    }

    // MARK: Packets and heartbeat

    private func receive(_ packet: EnginePacket) {
        switch packet.type {
        case .message:
            let handler = state.withLockedValue { $0.closed ? nil : $0.onMessage }
            switch packet.payload {
            case .text(let text): handler?(.text(text))
            case .binary(let bytes): handler?(.binary(bytes))
            }
        case .pong:
            heartbeatAnswered()
        case .ping:
            send(EnginePacket(.pong, packet.text ?? ""))
        case .close:
            // The client said goodbye: a poll it left waiting ends with a noop, as the
            // reference server answers, not with a close it did not ask for.
            close(reason: "transport close", waitingPollGets: EnginePacket(.noop))
        case .noop:
            break
        case .open, .upgrade:
            close(reason: "parse error")
        }
    }

    func startHeartbeat() {
        schedulePing()
    }

    // The heartbeat's timers are never cancelled: each finds out when it fires whether it still
    // matters. NIO keeps an event loop's timers in a heap whose `cancel` searches it from end to
    // end, and every connection has a timer there — a cancel per pong, connect and disconnect
    // made each of them cost in proportion to the number of connections.
    private func schedulePing() {
        eventLoop.scheduleTask(in: .milliseconds(Int64(options.pingInterval))) { [weak self] in
            self?.ping()
        }
    }

    private func ping() {
        // The pong is awaited before the ping leaves: a fast pong must find it.
        let sent = state.withLockedValue { state -> UInt64? in
            guard !state.closed else { return nil }
            state.pingsSent += 1
            state.unansweredPing = state.pingsSent
            return state.pingsSent
        }
        guard let sent else { return }
        eventLoop.scheduleTask(in: .milliseconds(Int64(options.pingTimeout))) { [weak self] in
            guard let self, self.state.withLockedValue({ $0.unansweredPing == sent }) else { return }
            self.close(reason: "ping timeout")
        }
        send(EnginePacket(.ping))
    }

    private func heartbeatAnswered() {
        let waiting = state.withLockedValue { state -> Bool in
            guard state.unansweredPing != nil else { return false }
            state.unansweredPing = nil
            return !state.closed
        }
        if waiting { schedulePing() }
    }

    // MARK: Closing

    /// Ends the session: timers stop, a waiting poll gets the close packet, the WebSocket closes,
    /// and the layer above hears `reason` once.
    public func close(reason: String = "forced close") {
        close(reason: reason, waitingPollGets: EnginePacket(.close))
    }

    private func close(reason: String, waitingPollGets lastPacket: EnginePacket) {
        let taken: (onClose: (@Sendable (String) -> Void)?, poll: CheckedContinuation<EngineResponse, Never>?, sockets: [any EngineWebSocket])? =
            state.withLockedValue { state in
                guard !state.closed else { return nil }
                state.closed = true
                var sockets: [any EngineWebSocket] = []
                if case .websocket(let socket) = state.transport { sockets.append(socket) }
                if let probe = state.probe { sockets.append(probe) }
                defer {
                    state.pendingPoll = nil
                    state.onMessage = nil
                    state.onClose = nil
                    state.outbox = []
                }
                return (state.onClose, state.pendingPoll, sockets)
            }
        guard let taken else { return }
        removeFromServer(id)
        taken.poll?.resume(returning: Self.pollResponse([lastPacket]))
        for socket in taken.sockets { socket.close() }
        taken.onClose?(reason)
    }
}
