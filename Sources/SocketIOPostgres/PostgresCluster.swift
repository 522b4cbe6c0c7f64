import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO
import SocketIO

/// This node's link to the others through one PostgreSQL database, as Socket.IO's Postgres
/// adapter does it: every node LISTENs on one channel and publishes with NOTIFY; envelopes too
/// big for a notification go through a table row whose id the notification carries.
///
/// Two connections of its own: one LISTENs (and reads attachment rows), one publishes — in
/// batches, one round trip for many notifications. Both reconnect by themselves. What is
/// published while PostgreSQL is away waits in a bounded queue; what this node missed from the
/// others while its LISTEN connection was away is asked for again (`OriginSequence`).
public final class PostgresCluster: Sendable {
    /// This process's id in the cluster (new at every start).
    public let nodeID: String
    let options: PostgresClusterOptions
    private let eventLoopGroup: any EventLoopGroup
    private let state: NIOLockedValueBox<State>
    private let doorbell: AsyncStream<Void>.Continuation
    private let rings: AsyncStream<Void>
    private let hooks = NIOLockedValueBox(Hooks())
    /// How every envelope this node writes begins (`{"v":1,"uid":"<node id>"`).
    private let ownPrefix: String

    private struct State {
        var lastSeq: UInt64 = 0
        var ring: ReplayRing
        init(ring: ReplayRing) { self.ring = ring }
        var queue: [String] = []
        var stats = Stats()
        var origins: [String: OriginSequence] = [:]
        var nodes: [String: ContinuousClock.Instant] = [:]
        var requests: [String: PendingRequest] = [:]
        var adapters: [String: PostgresAdapter] = [:]
        var listeningSince: ContinuousClock.Instant?
        var publisherUp = true
        var tasks: [Task<Void, Never>] = []
        var stopping = false
    }

    /// Counters since start, for metrics and tests.
    public struct Stats: Sendable, Equatable {
        public var published = 0
        public var received = 0
        /// Notifications from other nodes (each carries one or more envelopes).
        public var notifications = 0
        public var replaysRequested = 0
        public var replayed = 0
        public var missed: UInt64 = 0
        public var dropped = 0
        public var reconnects = 0
    }

    public var stats: Stats { state.withLockedValue { $0.stats } }

    private struct PendingRequest {
        var expected: Int
        var replies: [SocketValue]
        var continuation: CheckedContinuation<[SocketValue], Never>
    }

    private struct Hooks {
        var nodeDown: [@Sendable (String) -> Void] = []
        var missed: [@Sendable (_ node: String, _ count: UInt64) -> Void] = []
    }

    public init(options: PostgresClusterOptions, eventLoopGroup: any EventLoopGroup) {
        self.options = options
        self.eventLoopGroup = eventLoopGroup
        nodeID = (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let sample = ClusterEnvelope(uid: nodeID, namespace: "/", message: .hello).encoded()
        ownPrefix = String(sample[..<sample.range(of: nodeID)!.upperBound]) + "\""
        state = NIOLockedValueBox(State(ring: ReplayRing(capacity: options.replayCapacity)))
        (rings, doorbell) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    // MARK: Life cycle

    /// Checks PostgreSQL, creates the attachments table, and starts listening and publishing.
    /// Throws when PostgreSQL cannot be reached: a node must not start deaf.
    public func start() async throws {
        do {
            let connection = try await connect("setup")
            do {
                try await createAttachmentTable(on: connection)
                try await connection.close()
            } catch {
                try? await connection.close()
                throw error
            }
        } catch {
            throw ClusterError("cannot reach PostgreSQL: \(String(reflecting: error))")
        }
        let tasks = [
            Task { await self.runListener() },
            Task { await self.runPublisher() },
            Task { await self.runHeartbeat() },
        ]
        state.withLockedValue { $0.tasks = tasks }
        // Up to a few seconds for the LISTEN to be in place, so nothing sent right after start is lost.
        let deadline = ContinuousClock.now + .seconds(5)
        while !isListening, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        guard isListening else { throw ClusterError("the LISTEN connection did not come up within 5 s") }
    }

    /// Says goodbye, publishes what is queued (up to 2 s), and closes both connections.
    public func shutdown() async {
        publish(.bye, namespace: "/")
        let deadline = ContinuousClock.now + .seconds(2)
        while state.withLockedValue({ !$0.queue.isEmpty && $0.publisherUp }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let tasks = state.withLockedValue { state in
            state.stopping = true
            return state.tasks
        }
        for task in tasks { task.cancel() }
        doorbell.finish()
        for task in tasks { await task.value }
        let waiting = state.withLockedValue { state in
            defer { state.requests = [:] }
            return state.requests.values.map { ($0.continuation, $0.replies) }
        }
        for (continuation, replies) in waiting { continuation.resume(returning: replies) }
    }

    /// Both connections are up: what this node publishes goes out, and it hears the others.
    public var isReady: Bool { state.withLockedValue { $0.listeningSince != nil && $0.publisherUp } }

    public var isListening: Bool { state.withLockedValue { $0.listeningSince != nil } }

    /// The other nodes heard from within the heartbeat timeout.
    public var otherNodes: [String] { state.withLockedValue { Array($0.nodes.keys) } }

    /// Called with a node's id when it says goodbye or falls silent for `heartbeatTimeout`.
    public func onNodeDown(_ handler: @escaping @Sendable (String) -> Void) {
        hooks.withLockedValue { $0.nodeDown.append(handler) }
    }

    /// Called when messages from a node were missed for good (gone from its replay buffer, or
    /// not replayed within `gapTimeout`): this node's clients may be out of date.
    public func onMessagesMissed(_ handler: @escaping @Sendable (_ node: String, _ count: UInt64) -> Void) {
        hooks.withLockedValue { $0.missed.append(handler) }
    }

    /// The adapter of one namespace; make it with `namespace.useAdapter { cluster.adapter(for: $0) }`.
    public func adapter(for local: LocalNamespace) -> PostgresAdapter {
        let adapter = PostgresAdapter(local: local, cluster: self)
        state.withLockedValue { $0.adapters[local.name] = adapter }
        return adapter
    }

    // MARK: Publishing

    func publish(_ message: ClusterEnvelope.Message, namespace: String, to node: String? = nil) {
        let overflow = state.withLockedValue { state -> Int in
            guard !state.stopping else { return 0 }
            var envelope = ClusterEnvelope(uid: nodeID, namespace: namespace, to: node, message: message)
            if message.isSequenced {
                state.lastSeq += 1
                envelope.seq = state.lastSeq
            }
            let text = envelope.encoded()
            if let seq = envelope.seq { state.ring.store(seq, text) }
            state.queue.append(text)
            return trimQueue(&state)
        }
        if overflow > 0 { report("publish queue full (PostgreSQL unreachable?): dropped \(overflow) oldest messages", nil) }
        doorbell.yield()
    }

    private func trimQueue(_ state: inout State) -> Int {
        let excess = state.queue.count - options.maxQueued
        guard excess > 0 else { return 0 }
        state.queue.removeFirst(excess)
        state.stats.dropped += excess
        return excess
    }

    private func runPublisher() async {
        var connection: PostgresConnection?
        var delay = options.reconnectDelay.first
        for await _ in rings {
            while !Task.isCancelled {
                let batch = state.withLockedValue { Array($0.queue.prefix(options.maxBatch)) }
                if batch.isEmpty { break }
                do {
                    if connection == nil || connection!.isClosed { connection = try await connect("publish") }
                    try await send(batch, on: connection!)
                    state.withLockedValue { state in
                        // The queue only grows at its end (or loses its oldest when full): drop what was sent.
                        let sent = state.queue.prefix(batch.count).elementsEqual(batch) ? batch.count : 0
                        state.queue.removeFirst(sent)
                        state.stats.published += sent
                        state.publisherUp = true
                    }
                    delay = options.reconnectDelay.first
                } catch {
                    if Task.isCancelled { break }
                    report("publishing failed; retrying in \(delay)", error)
                    state.withLockedValue { $0.publisherUp = false }
                    try? await connection?.close()
                    connection = nil
                    try? await Task.sleep(for: delay)
                    delay = min(delay * 2, options.reconnectDelay.max)
                }
            }
            if Task.isCancelled { break }
        }
        try? await connection?.close()
    }

    /// One round trip for the whole batch. Envelopes are packed into as few notifications as
    /// fit (one per line: JSON text has no raw newline), so a burst of small broadcasts costs
    /// PostgreSQL and every listener a handful of notifications, not one each; an envelope too
    /// big for a notification becomes an attachment row first.
    private func send(_ texts: [String], on connection: PostgresConnection) async throws {
        var payloads: [String] = []
        var current = ""
        func flush() {
            if !current.isEmpty { payloads.append(current) }
            current = ""
        }
        for text in texts {
            var line = text
            if text.utf8.count > options.payloadLimit {
                let rows = try await connection.query(
                    "INSERT INTO \(unescaped: options.attachmentTable) (payload) VALUES (\(text)) RETURNING id", logger: options.logger)
                var id: Int64?
                for try await row in rows { id = try row.decode(Int64.self) }
                guard let id else { throw ClusterError("attachment insert returned no id") }
                line = ClusterEnvelope(uid: nodeID, namespace: "/", message: .attachment(id: id)).encoded()
            }
            if !current.isEmpty, current.utf8.count + 1 + line.utf8.count > options.payloadLimit { flush() }
            current += current.isEmpty ? line : "\n" + line
        }
        flush()
        let rows = try await connection.query(
            "SELECT pg_notify(\(options.channel), payload) FROM unnest(\(payloads)::text[]) AS payload", logger: options.logger)
        for try await _ in rows {}
    }

    // MARK: Listening

    private func runListener() async {
        var delay = options.reconnectDelay.first
        while !Task.isCancelled {
            var connection: PostgresConnection?
            do {
                let listener = try await connect("listen")
                connection = listener
                try await listener.listen(on: options.channel) { notifications in
                    state.withLockedValue { state in
                        if state.listeningSince == nil, state.stats.received > 0 || state.stats.published > 0 { state.stats.reconnects += 1 }
                        state.listeningSince = .now
                    }
                    // Tells the others to send their heartbeat now: a gap while away shows at once.
                    publish(.hello, namespace: "/")
                    delay = options.reconnectDelay.first
                    for try await notification in notifications {
                        // LISTEN hears this node's own notifications too: skip them before parsing.
                        if notification.payload.hasPrefix(ownPrefix) { continue }
                        state.withLockedValue { $0.stats.notifications += 1 }
                        for line in notification.payload.split(separator: "\n", omittingEmptySubsequences: true) {
                            await receive(String(line), via: listener)
                        }
                    }
                }
                if !Task.isCancelled { report("LISTEN connection ended; reconnecting", nil) }
            } catch {
                if !Task.isCancelled { report("LISTEN connection lost; reconnecting in \(delay)", error) }
            }
            state.withLockedValue { $0.listeningSince = nil }
            try? await connection?.close()
            if Task.isCancelled { break }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, options.reconnectDelay.max)
        }
    }

    /// One envelope (a line of a notification, or an attachment row's text).
    func receive(_ text: String, via connection: PostgresConnection?) async {
        var envelope: ClusterEnvelope
        do {
            envelope = try ClusterEnvelope(decoding: text)
        } catch {
            report("notification skipped: \(text.prefix(200))", error)
            return
        }
        guard envelope.uid != nodeID else { return }
        state.withLockedValue { $0.stats.received += 1 }
        if case .attachment(let id) = envelope.message {
            guard let connection, let inner = await attachment(id, via: connection) else { return }
            envelope = inner
            guard envelope.uid != nodeID else { return }
        }
        state.withLockedValue { $0.nodes[envelope.uid] = .now }
        if let target = envelope.to, target != nodeID { return }
        if let seq = envelope.seq {
            let outcome = state.withLockedValue { $0.origins[envelope.uid, default: OriginSequence()].receive(envelope, seq: seq, now: .now) }
            await handle(outcome, from: envelope.uid)
        } else {
            await apply(envelope)
        }
    }

    private func attachment(_ id: Int64, via connection: PostgresConnection) async -> ClusterEnvelope? {
        do {
            let rows = try await connection.query("SELECT payload FROM \(unescaped: options.attachmentTable) WHERE id = \(id)",
                                                  logger: options.logger)
            var payload: String?
            for try await row in rows { payload = try row.decode(String.self) }
            guard let payload else {
                report("attachment \(id) is gone (older than the retention?)", nil)
                return nil
            }
            let envelope = try ClusterEnvelope(decoding: payload)
            if case .attachment = envelope.message { throw ClusterError("an attachment inside an attachment") }
            return envelope
        } catch {
            report("attachment \(id) skipped", error)
            return nil
        }
    }

    private func handle(_ outcome: OriginSequence.Outcome, from node: String) async {
        if let range = outcome.replay {
            state.withLockedValue { $0.stats.replaysRequested += 1 }
            publish(.replay(from: range.lowerBound, upTo: range.upperBound), namespace: "/", to: node)
        }
        if outcome.missed > 0 {
            state.withLockedValue { $0.stats.missed += outcome.missed }
            report("missed \(outcome.missed) messages from node \(node) for good", nil)
            for hook in hooks.withLockedValue({ $0.missed }) { hook(node, outcome.missed) }
        }
        for envelope in outcome.ready { await apply(envelope) }
    }

    private func apply(_ envelope: ClusterEnvelope) async {
        let adapter = state.withLockedValue { $0.adapters[envelope.namespace] }
        switch envelope.message {
        case .broadcast(let options, let messages):
            adapter?.localPart.broadcast(EncodedPacket(messages: messages), options: options)
        case .join(let options, let rooms):
            adapter?.localPart.addSockets(options, rooms: rooms)
        case .leave(let options, let rooms):
            adapter?.localPart.delSockets(options, rooms: rooms)
        case .disconnect(let options, let close):
            adapter?.localPart.disconnectSockets(options, close: close)
        case .event(let name, let args, let requestID):
            let reply = await adapter?.local.serverSideEvent(name, args)
            if let requestID { publish(.reply(requestID: requestID, data: reply ?? .null), namespace: envelope.namespace, to: envelope.uid) }
        case .fetchSockets(let options, let requestID):
            let sockets = adapter?.localPart.localSummaries(options) ?? []
            let data: SocketValue = .array(sockets.map { ["id": .string($0.id), "rooms": .array($0.rooms.sorted().map { .string($0) })] })
            publish(.reply(requestID: requestID, data: data), namespace: envelope.namespace, to: envelope.uid)
        case .reply(let requestID, let data):
            answer(requestID, with: data)
        case .heartbeat(let last):
            let outcome = state.withLockedValue { $0.origins[envelope.uid, default: OriginSequence()].heartbeat(last: last, now: .now) }
            await handle(outcome, from: envelope.uid)
        case .hello:
            publish(.heartbeat(last: state.withLockedValue { $0.lastSeq }), namespace: "/")
        case .bye:
            nodeGone(envelope.uid)
        case .replay(let from, let upTo):
            guard from <= upTo else { return }
            let texts = state.withLockedValue { $0.ring.texts(in: from...upTo) }
            if UInt64(texts.count) < upTo - from + 1 {
                report("node \(envelope.uid) asked for messages \(from)...\(upTo); \(texts.count) are still kept", nil)
            }
            state.withLockedValue { $0.stats.replayed += texts.count }
            republish(texts)
        case .attachment:
            break
        }
    }

    private func republish(_ texts: [String]) {
        guard !texts.isEmpty else { return }
        let overflow = state.withLockedValue { state -> Int in
            state.queue.append(contentsOf: texts)
            return trimQueue(&state)
        }
        if overflow > 0 { report("publish queue full: dropped \(overflow) oldest messages", nil) }
        doorbell.yield()
    }

    // MARK: Requests to every node

    /// Publishes a request and gathers the replies of the nodes alive now, until all have
    /// answered or `timeout` passes (a node that does not answer is left out, not waited for).
    func request(namespace: String, timeout: Duration, _ make: (String) -> ClusterEnvelope.Message) async -> [SocketValue] {
        let expected = state.withLockedValue { $0.nodes.count }
        guard expected > 0 else { return [] }
        let requestID = UUID().uuidString
        let message = make(requestID)
        return await withCheckedContinuation { continuation in
            state.withLockedValue { $0.requests[requestID] = PendingRequest(expected: expected, replies: [], continuation: continuation) }
            publish(message, namespace: namespace)
            Task {
                try? await Task.sleep(for: timeout)
                self.finishRequest(requestID)
            }
        }
    }

    private func answer(_ requestID: String, with data: SocketValue) {
        let done = state.withLockedValue { state -> Bool in
            guard var pending = state.requests[requestID] else { return false }
            if data != .null { pending.replies.append(data) }
            pending.expected -= 1
            state.requests[requestID] = pending
            return pending.expected <= 0
        }
        if done { finishRequest(requestID) }
    }

    private func finishRequest(_ requestID: String) {
        guard let pending = state.withLockedValue({ $0.requests.removeValue(forKey: requestID) }) else { return }
        pending.continuation.resume(returning: pending.replies)
    }

    // MARK: Heartbeats, departures, gaps, clean-up

    private func runHeartbeat() async {
        var lastCleanup = ContinuousClock.now - .seconds(3600)
        while !Task.isCancelled {
            publish(.heartbeat(last: state.withLockedValue { $0.lastSeq }), namespace: "/")
            sweep()
            if ContinuousClock.now - lastCleanup >= .seconds(60) {
                lastCleanup = .now
                await deleteOldAttachments()
            }
            // Gaps are checked more often than heartbeats are sent.
            for _ in 0..<5 where !Task.isCancelled {
                try? await Task.sleep(for: options.heartbeatInterval / 5)
                await expireGaps()
            }
        }
    }

    /// Nodes silent for longer than the timeout are gone — judged only while this node has been
    /// listening for that long itself (a deaf node would otherwise bury everybody).
    private func sweep() {
        let now = ContinuousClock.now
        let gone = state.withLockedValue { state -> [String] in
            guard let since = state.listeningSince, now - since >= options.heartbeatTimeout else { return [] }
            return state.nodes.filter { now - $0.value >= options.heartbeatTimeout }.map(\.key)
        }
        for node in gone { nodeGone(node) }
    }

    private func nodeGone(_ node: String) {
        let known = state.withLockedValue { state -> Bool in
            state.origins[node] = nil
            return state.nodes.removeValue(forKey: node) != nil
        }
        guard known else { return }
        options.logger.notice("cluster node left", metadata: ["node": .string(node)])
        for hook in hooks.withLockedValue({ $0.nodeDown }) { hook(node) }
    }

    private func expireGaps() async {
        let now = ContinuousClock.now
        let outcomes = state.withLockedValue { state -> [(String, OriginSequence.Outcome)] in
            var result: [(String, OriginSequence.Outcome)] = []
            for node in state.origins.keys {
                let outcome = state.origins[node]!.expire(now: now, timeout: options.gapTimeout)
                if outcome != OriginSequence.Outcome() { result.append((node, outcome)) }
            }
            return result
        }
        for (node, outcome) in outcomes { await handle(outcome, from: node) }
    }

    private func deleteOldAttachments() async {
        do {
            let connection = try await connect("cleanup")
            let seconds = Int(options.attachmentRetention.components.seconds)
            do {
                try await connection.query(
                    "DELETE FROM \(unescaped: options.attachmentTable) WHERE created_at < now() - make_interval(secs => \(seconds))",
                    logger: options.logger)
            } catch {
                report("could not delete old attachments", error)
            }
            try? await connection.close()
        } catch {
            report("could not delete old attachments", error)
        }
    }

    // MARK: Connections

    /// `role` names the connection in `pg_stat_activity` (`socketio <node> listen|publish|setup`).
    private func connect(_ role: String) async throws -> PostgresConnection {
        var configuration = options.connection
        configuration.options.additionalStartupParameters.append(("application_name", "socketio \(nodeID) \(role)"))
        return try await PostgresConnection.connect(on: eventLoopGroup.any(), configuration: configuration,
                                                    id: Int.random(in: 1...Int.max), logger: options.logger)
    }

    /// Several nodes may start at once: the advisory lock makes the table's creation one at a time.
    private func createAttachmentTable(on connection: PostgresConnection) async throws {
        try await connection.query("SELECT pg_advisory_lock(726551104)", logger: options.logger)
        do {
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS \(unescaped: options.attachmentTable) (
                    id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), payload text NOT NULL)
                """, logger: options.logger)
        } catch {
            _ = try? await connection.query("SELECT pg_advisory_unlock(726551104)", logger: options.logger)
            throw error
        }
        try await connection.query("SELECT pg_advisory_unlock(726551104)", logger: options.logger)
    }

    /// Through the first namespace's `report` (the server's `onError`), else the logger. PSQLError
    /// hides its details from `description`; `String(reflecting:)` has them.
    private func report(_ what: String, _ error: (any Error)?) {
        let adapters = state.withLockedValue { Array($0.adapters.values) }
        let described = error.map { ClusterError(String(reflecting: $0)) } ?? ClusterError(what)
        if let adapter = adapters.first {
            adapter.local.report(what, described)
        } else {
            options.logger.error("\(what)", metadata: ["error": .string(described.description)])
        }
    }
}

public struct ClusterError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
