import NIOConcurrencyHelpers
import NIOCore

/// One Engine.IO session seen by Socket.IO: it decodes packets, reassembles binary ones, and
/// routes them to the session's sockets (one per namespace). Events are handled one at a time,
/// in arrival order; acks are settled at once so a handler may wait for one. Events pass the
/// client's inbound limit as they arrive, before they wait in the queue, so the queue is bounded.
///
/// No task lives as long as the connection: whoever queues a packet while nothing is handled
/// starts a task that works through the queue and ends when it is empty. A task keeps the
/// memory its deepest call ever took (the runtime frees a task's frame slabs only when the task
/// ends), and a handler's call — a connect, a send through the database — goes deep: a task per
/// connection held 13 KB of an idle connection's 30 (docs/PERFORMANCE.md).
final class Client: Sendable {
    let server: SocketIOServer
    let session: EngineSocket

    private struct State {
        var assembler = BinaryAssembler()
        var sockets: [String: Socket] = [:]
        /// Whether a namespace was ever joined (the connect timeout then does nothing).
        var joined = false
        var closed = false
        var inbound: InboundBudget
        var refusedUnreported = 0
        var lastFloodReport: NIODeadline?
        /// Admitted packets waiting to be handled, and whether a task is handling them.
        var queue = CircularBuffer<SocketPacket>(initialCapacity: 0)
        var handling = false
    }

    private let state: NIOLockedValueBox<State>

    init(server: SocketIOServer, session: EngineSocket) {
        self.server = server
        self.session = session
        state = NIOLockedValueBox(State(inbound: InboundBudget(limit: server.options.inboundLimit, now: .now())))
    }

    func start() {
        session.setHandlers(onMessage: { [self] message in receive(message) }, onClose: { [self] reason in closed(reason) })
        // Not cancelled when a namespace is joined (a cancel searches all of the event loop's
        // timers; see `EngineSocket.schedulePing`): it finds out when it fires.
        server.group.next().scheduleTask(in: .milliseconds(Int64(server.options.connectTimeout))) { [weak self] in
            guard let self, !self.state.withLockedValue({ $0.joined }) else { return }
            self.session.close(reason: "connect timeout")
        }
    }

    /// Queues an admitted packet; starts the handling task if none runs.
    private func enqueue(_ packet: SocketPacket) {
        let starts = state.withLockedValue { state -> Bool in
            guard !state.closed else { return false }
            state.queue.append(packet)
            guard !state.handling else { return false }
            state.handling = true
            return true
        }
        if starts { Task { await self.handleQueued() } }
    }

    /// Handles the queue in order, one packet at a time, until it is empty.
    private func handleQueued() async {
        while true {
            let next = state.withLockedValue { state -> SocketPacket? in
                // A closed connection's queue is dropped, not worked through.
                if state.closed { state.queue.removeAll() }
                guard let packet = state.queue.popFirst() else {
                    state.handling = false
                    // A buffer grown by a burst would stay that size for the connection's life.
                    if state.queue.capacity > 16 { state.queue = CircularBuffer(initialCapacity: 0) }
                    return nil
                }
                return packet
            }
            guard let next else { return }
            await handle(next)
            state.withLockedValue { $0.inbound.handled() }
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
            if packet.type == .ack || packet.type == .binaryAck {
                socket(for: packet.namespace)?.settleAck(packet)
            } else {
                admit(packet)
            }
        } catch {
            // Any invalid packet ends this client's connection, and only this one.
            server.report(SocketIOFailure(kind: .parse, sessionID: session.id, error: error))
            session.close(reason: "parse error")
        }
    }

    /// Queues the packet if the client's budget allows, else refuses it — and closes the
    /// connection of a client that keeps flooding. Once the budget is spent, the connection is
    /// not read until it has room again (back-pressure): a client that waits for its acks is
    /// slowed down to the rate instead of refused, and a flood waits in the client's own buffers.
    private func admit(_ packet: SocketPacket) {
        let isEvent = packet.type == .event || packet.type == .binaryEvent
        let now = NIODeadline.now()
        let sharedKey = isEvent && server.sharedBudgets != nil ? socket(for: packet.namespace)?.budgetKey : nil
        let (verdict, wait) = state.withLockedValue { state in
            var sharedWait = 0.0
            let verdict = state.inbound.admit(isEvent: isEvent, now: now) {
                guard let sharedKey, let budgets = server.sharedBudgets else { return true }
                let (taken, wait) = budgets.take(sharedKey, now: now)
                sharedWait = wait
                return taken
            }
            return (verdict, max(sharedWait, state.inbound.secondsUntilAdmissible))
        }
        if wait > 0 { session.pauseReading(for: .nanoseconds(Int64(min(wait, Self.longestReadPause) * 1e9))) }
        switch verdict {
        case .accept:
            enqueue(packet)
        case .refuse(let streak):
            // The first refusal is reported, then at most one report per interval with the
            // count since: a client kept just over its rate must not flood the log instead.
            let report: SocketFloodError? = state.withLockedValue { state in
                state.refusedUnreported += 1
                if let last = state.lastFloodReport, now - last < Self.floodReportInterval { return nil }
                defer { state.refusedUnreported = 0; state.lastFloodReport = now }
                return SocketFloodError(refused: state.refusedUnreported, inARow: streak, queued: state.inbound.queued)
            }
            if let report {
                server.report(SocketIOFailure(kind: .flood, sessionID: session.id, namespace: packet.namespace, event: Self.eventName(packet), error: report))
            }
            refuse(packet)
        case .disconnect(let streak):
            let report = state.withLockedValue { state in
                defer { state.refusedUnreported = 0 }
                return SocketFloodError(refused: state.refusedUnreported + 1, inARow: streak, queued: state.inbound.queued)
            }
            server.report(SocketIOFailure(kind: .flood, sessionID: session.id, namespace: packet.namespace, event: Self.eventName(packet), error: report))
            // DISCONNECT first, as `disconnect(close: true)` does: a client told it was put out
            // does not reconnect by itself straight into the same flood.
            for socket in state.withLockedValue({ Array($0.sockets.values) }) { socket.disconnect(close: true) }
            session.close(reason: "forced server close")
        }
    }

    /// One flood report per client per this interval at most.
    static let floodReportInterval = TimeAmount.seconds(10)

    /// The longest a connection goes unread at a time: its pings and pongs wait too.
    static let longestReadPause = 1.0

    private func refuse(_ packet: SocketPacket) {
        guard packet.type == .event || packet.type == .binaryEvent, let socket = socket(for: packet.namespace) else { return }
        let limit = server.options.inboundLimit
        if let ackID = packet.id {
            send(SocketPacket(.ack, namespace: packet.namespace, id: ackID, data: .array(limit.refusalAck)))
        } else if let event = limit.refusalEvent {
            socket.emit(event.name, event.args)
        }
    }

    private static func eventName(_ packet: SocketPacket) -> String? {
        packet.data?.arrayValue?.first?.stringValue
    }

    private func handle(_ packet: SocketPacket) async {
        switch packet.type {
        case .connect:
            await connect(packet)
        case .disconnect:
            if let socket = socket(for: packet.namespace) { socket.closed(reason: .clientNamespaceDisconnect) }
        case .event, .binaryEvent:
            guard let socket = socket(for: packet.namespace) else { return }
            await socket.dispatch(packet)
        default:
            session.close(reason: "parse error")
        }
    }

    private func connect(_ packet: SocketPacket, mayRecover: Bool = true) async {
        guard let namespace = server.existingNamespace(packet.namespace) else {
            send(SocketPacket(.connectError, namespace: packet.namespace, data: ["message": "Invalid namespace"]))
            return
        }
        guard socket(for: packet.namespace) == nil else { return }
        // A client back within the window with `{pid, offset}` takes its socket back.
        var restoring: (session: RecoverableSession, after: UInt64)?
        if mayRecover, let recovery = namespace.recovery, let pid = packet.data?["pid"]?.stringValue,
           let offset = packet.data?["offset"]?.stringValue {
            restoring = recovery.take(pid: pid, offset: offset)
        }
        let socket = Socket(namespace: namespace, client: self, handshake: SocketHandshake(auth: packet.data, request: session.handshake),
                            restoring: restoring?.session)
        // In the namespace (and its own room) before the middleware runs, so rooms it joins
        // receive from the start; what arrives is held until the CONNECT reply (`Socket.open`).
        // A recovering socket's old rooms come back after the middleware, which may decline
        // some; what was broadcast to them meanwhile is in the replay.
        namespace.add(socket)
        do {
            try await namespace.runMiddleware(socket)
        } catch let rejection as SocketConnectError {
            socket.abandon()
            if let restoring { namespace.recovery?.putBack(restoring.session) }
            var body: [String: SocketValue] = ["message": .string(rejection.message)]
            if let data = rejection.data { body["data"] = data }
            send(SocketPacket(.connectError, namespace: packet.namespace, data: .object(SocketObject(body))))
            return
        } catch {
            socket.abandon()
            if let restoring { namespace.recovery?.putBack(restoring.session) }
            server.report(SocketIOFailure(kind: .connect, sessionID: session.id, socketID: socket.id, namespace: namespace.name, error: error))
            send(SocketPacket(.connectError, namespace: packet.namespace, data: ["message": "Connection refused"]))
            return
        }
        if let restoring, socket.recoveryKey != restoring.session.key {
            // Not its owner (another user's pid): this client connects afresh, the state stays.
            socket.abandon()
            namespace.recovery?.putBack(restoring.session)
            await connect(packet, mayRecover: false)
            return
        }
        // Its rooms back, then what it missed in them, read before the held packets are taken
        // (`open` drops the overlap).
        var missed: [EncodedPacket] = []
        if let restoring {
            let rooms = socket.roomsToRestore
            socket.join(rooms)
            missed = namespace.recovery?.missed(after: restoring.after, rooms: rooms.union([socket.id])) ?? []
        }
        let accepted = state.withLockedValue { state -> Bool in
            guard !state.closed else { return false }
            state.sockets[packet.namespace] = socket
            state.joined = true
            return true
        }
        guard accepted else {
            socket.abandon()
            if let restoring { namespace.recovery?.putBack(restoring.session) }
            return
        }
        guard socket.open(missed: missed) else {
            // Disconnected by the server while its middleware ran (its session revoked, say).
            remove(socket)
            socket.abandon()
            send(SocketPacket(.connectError, namespace: packet.namespace, data: ["message": "Connection refused"]))
            return
        }
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
        let (sockets, unreported) = state.withLockedValue { state -> ([Socket], SocketFloodError?) in
            state.closed = true
            state.queue.removeAll()
            defer { state.sockets = [:]; state.refusedUnreported = 0 }
            // Refusals since the last report are told now, or never.
            let unreported = state.refusedUnreported > 0
                ? SocketFloodError(refused: state.refusedUnreported, inARow: state.inbound.streak, queued: state.inbound.queued) : nil
            return (Array(state.sockets.values), unreported)
        }
        if let unreported { server.report(SocketIOFailure(kind: .flood, sessionID: session.id, error: unreported)) }
        let reason = DisconnectReason(engineReason: reason)
        for socket in sockets { socket.closed(reason: reason) }
    }
}
