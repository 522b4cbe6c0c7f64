import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import PostgresNIO
import SocketIO
import XCTest
@testable import SocketIOPostgres

/// Nodes on a real PostgreSQL (`CHATR_TEST_DATABASE_URL`), each with a recording stand-in for
/// its namespace: what reaches a node's sockets is what the recorder saw.
final class PostgresClusterTests: XCTestCase {
    var nodes: [TestNode] = []

    override func setUp() async throws {
        guard TestNode.configuration != nil else { throw XCTSkip("CHATR_TEST_DATABASE_URL is not set") }
    }

    override func tearDown() async throws {
        for node in nodes { await node.cluster.shutdown() }
        nodes = []
    }

    func startNodes(_ count: Int, tune: (inout PostgresClusterOptions) -> Void = { _ in }) async throws -> [TestNode] {
        var started: [TestNode] = []
        for _ in 0..<count {
            let node = try TestNode(tune: tune)
            nodes.append(node)
            try await node.cluster.start()
            started.append(node)
        }
        // Everyone has heard everyone (hello → heartbeats).
        try await eventually("the nodes know each other") { started.allSatisfy { $0.cluster.otherNodes.count == count - 1 } }
        return started
    }

    func testABroadcastReachesTheOtherNodesSocketsOnceAndNotItsOwnTwice() async throws {
        let nodes = try await startNodes(3)
        let (a, b, c) = (nodes[0], nodes[1], nodes[2])
        a.adapter.join("a1", rooms: ["room"])
        b.adapter.join("b1", rooms: ["room"])
        b.adapter.join("b2", rooms: ["elsewhere"])
        c.adapter.join("c1", rooms: ["room", "muted"])

        a.adapter.broadcast(EncodedPacket(messages: [.text("hello")]), options: BroadcastOptions(rooms: ["room"], except: ["muted"]))
        try await eventually("b1 got it") { b.recorder.delivered("b1") == ["hello"] }
        try await Task.sleep(for: .milliseconds(300))
        XCTAssertEqual(a.recorder.delivered("a1"), ["hello"], "delivered locally once; its own notification is ignored")
        XCTAssertEqual(b.recorder.delivered("b2"), [])
        XCTAssertEqual(c.recorder.delivered("c1"), [], "except applies on every node")
        XCTAssertEqual(a.adapter.serverCount, 3)
    }

    /// A burst travels packed: many envelopes per notification, delivered in order.
    func testABurstIsPackedIntoFewNotificationsAndArrivesInOrder() async throws {
        let nodes = try await startNodes(2)
        nodes[1].adapter.join("b1", rooms: ["room"])
        let before = nodes[1].cluster.stats
        for i in 0..<300 { nodes[0].adapter.broadcast(EncodedPacket(messages: [.text("m\(i)")]), options: BroadcastOptions(rooms: ["room"])) }
        try await eventually("all 300") { nodes[1].recorder.delivered("b1").count == 300 }
        XCTAssertEqual(nodes[1].recorder.delivered("b1"), (0..<300).map { "m\($0)" })
        let after = nodes[1].cluster.stats
        XCTAssertGreaterThanOrEqual(after.received - before.received, 300)
        XCTAssertLessThan(after.notifications - before.notifications, 100, "packed, not one notification each")
    }

    /// PostgreSQL refuses NOTIFY payloads of 8,000 bytes: those go through the attachments table.
    func testAPayloadOverTheNotifyLimitGoesThroughTheTable() async throws {
        let nodes = try await startNodes(2)
        nodes[1].adapter.join("b1", rooms: ["room"])
        let big = String(repeating: "é", count: 20_000)
        nodes[0].adapter.broadcast(EncodedPacket(messages: [.text(big), .binary([1, 2, 3])]), options: BroadcastOptions(rooms: ["room"]))
        try await eventually("the big one arrived whole") { nodes[1].recorder.delivered("b1") == [big, "<3 bytes>"] }
        let rows = try await TestNode.query("SELECT count(*)::int FROM socket_io_attachments WHERE payload LIKE '%\(nodes[0].cluster.nodeID)%'")
        XCTAssertGreaterThanOrEqual(rows, 1)
    }

    func testRoomOperationsAndDisconnectsActOnEveryNode() async throws {
        let nodes = try await startNodes(2)
        let (a, b) = (nodes[0], nodes[1])
        b.adapter.join("b1", rooms: ["user:ann"])
        b.adapter.join("b2", rooms: ["user:bob"])

        a.adapter.addSockets(BroadcastOptions(rooms: ["user:ann"]), rooms: ["conversation:1"])
        try await eventually("ann's socket on b joined") { b.adapter.rooms(of: "b1").contains("conversation:1") }
        XCTAssertFalse(b.adapter.rooms(of: "b2").contains("conversation:1"))

        a.adapter.delSockets(BroadcastOptions(rooms: ["user:ann"]), rooms: ["conversation:1"])
        try await eventually("and left") { !b.adapter.rooms(of: "b1").contains("conversation:1") }

        a.adapter.disconnectSockets(BroadcastOptions(rooms: ["user:bob"]), close: true)
        try await eventually("bob's socket on b was disconnected") { b.recorder.disconnected == ["b2:close"] }
    }

    func testFetchSocketsAndServerSideEventsGatherEveryNodeAndDoNotWaitForeverOnASilentOne() async throws {
        let nodes = try await startNodes(3) { $0.requestTimeout = .seconds(1) }
        let (a, b, c) = (nodes[0], nodes[1], nodes[2])
        a.adapter.join("a1", rooms: ["r"])
        b.adapter.join("b1", rooms: ["r"])
        c.adapter.join("c1", rooms: ["other"])
        let found = await a.adapter.fetchSockets(BroadcastOptions(rooms: ["r"]), timeout: .seconds(3))
        XCTAssertEqual(Set(found.map(\.id)), ["a1", "b1"])
        XCTAssertEqual(found.first { $0.id == "b1" }?.rooms, ["r"])

        b.recorder.reply = "from-b"
        c.recorder.reply = "from-c"
        c.recorder.replyDelay = .seconds(5)   // too slow: left out
        let started = ContinuousClock.now
        let replies = await a.adapter.serverSideEmitWithAck("snapshot", ["x"], timeout: .seconds(1))
        XCTAssertEqual(replies, ["from-b"])
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(3))
        XCTAssertEqual(b.recorder.events, ["snapshot(x)"])

        a.adapter.serverSideEmit("ping", [1])
        try await eventually("the others ran it") { b.recorder.events.contains("ping(1.0)") }
        XCTAssertFalse(a.recorder.events.contains("ping(1.0)"), "never on the node that sent it")
    }

    /// Something that is not one of ours on the channel is reported and skipped; the next one works.
    func testAnUnreadableNotificationIsReportedAndSkipped() async throws {
        let nodes = try await startNodes(2)
        nodes[1].adapter.join("b1", rooms: ["room"])
        _ = try await TestNode.query("SELECT count(*)::int FROM (SELECT pg_notify('socket_io', 'garbage'), pg_notify('socket_io', '{\"v\":99,\"uid\":\"x\",\"nsp\":\"/\",\"type\":\"hello\"}')) AS n")
        nodes[0].adapter.broadcast(EncodedPacket(messages: [.text("after")]), options: BroadcastOptions(rooms: ["room"]))
        try await eventually("the next one is delivered") { nodes[1].recorder.delivered("b1") == ["after"] }
        XCTAssertTrue(nodes[1].recorder.reports.contains { $0.contains("notification skipped: garbage") }, "\(nodes[1].recorder.reports)")
        XCTAssertTrue(nodes[1].recorder.reports.contains { $0.contains("version 99") }, "\(nodes[1].recorder.reports)")
    }

    /// B's LISTEN connection is cut while A publishes: B comes back by itself, asks for what it
    /// missed, and its sockets get everything, in order, once.
    func testWhatWasPublishedWhileAListenerWasAwayIsReplayedInOrder() async throws {
        let nodes = try await startNodes(2)
        let (a, b) = (nodes[0], nodes[1])
        b.adapter.join("b1", rooms: ["room"])
        a.adapter.broadcast(EncodedPacket(messages: [.text("m0")]), options: BroadcastOptions(rooms: ["room"]))
        try await eventually("m0") { b.recorder.delivered("b1") == ["m0"] }

        let killed = try await TestNode.query(
            "SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity WHERE application_name = 'socketio \(b.cluster.nodeID) listen'")
        XCTAssertEqual(killed, 1)
        try await eventually("b noticed") { !b.cluster.isListening }
        for i in 1...20 { a.adapter.broadcast(EncodedPacket(messages: [.text("m\(i)")]), options: BroadcastOptions(rooms: ["room"])) }
        try await eventually("b is back and caught up", timeout: .seconds(15)) { b.recorder.delivered("b1").count == 21 }
        XCTAssertEqual(b.recorder.delivered("b1"), (0...20).map { "m\($0)" })
        XCTAssertTrue(b.recorder.reports.contains { $0.contains("LISTEN connection") }, "the loss was logged")
        XCTAssertTrue(b.recorder.missed.isEmpty)
        XCTAssertGreaterThanOrEqual(b.cluster.stats.replaysRequested, 1, "the messages came by replay, not by luck")
        XCTAssertGreaterThanOrEqual(a.cluster.stats.replayed, 1)
        XCTAssertGreaterThanOrEqual(b.cluster.stats.reconnects, 1)
    }

    /// What is gone from the sender's buffer cannot be replayed: the receiver says so (and the
    /// application can make its clients reload) instead of going on silently.
    func testMessagesBeyondTheReplayBufferAreReportedAsMissed() async throws {
        let nodes = try await startNodes(2) { $0.replayCapacity = 5; $0.gapTimeout = .milliseconds(500) }
        let (a, b) = (nodes[0], nodes[1])
        b.adapter.join("b1", rooms: ["room"])
        a.adapter.broadcast(EncodedPacket(messages: [.text("m0")]), options: BroadcastOptions(rooms: ["room"]))
        try await eventually("m0") { b.recorder.delivered("b1") == ["m0"] }
        _ = try await TestNode.query(
            "SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity WHERE application_name = 'socketio \(b.cluster.nodeID) listen'")
        try await eventually("b noticed") { !b.cluster.isListening }
        for i in 1...20 { a.adapter.broadcast(EncodedPacket(messages: [.text("m\(i)")]), options: BroadcastOptions(rooms: ["room"])) }
        try await eventually("b reported the loss", timeout: .seconds(15)) { !b.recorder.missed.isEmpty }
        try await eventually("and got the last ones", timeout: .seconds(5)) { b.recorder.delivered("b1").last == "m20" }
        let delivered = b.recorder.delivered("b1")
        XCTAssertEqual(delivered, delivered.sorted { Int($0.dropFirst())! < Int($1.dropFirst())! }, "still in order")
        XCTAssertEqual(UInt64(delivered.count) + b.recorder.missed.reduce(0) { $0 + $1.count }, 21, "every message delivered or counted missed")
    }

    func testANodeThatStopsIsSeenLeaving() async throws {
        let nodes = try await startNodes(2)
        let gone = NIOLockedValueBox<[String]>([])
        nodes[0].cluster.onNodeDown { id in gone.withLockedValue { $0.append(id) } }
        await nodes[1].cluster.shutdown()
        self.nodes.removeLast()
        try await eventually("bye was heard") { gone.withLockedValue { $0 } == [nodes[1].cluster.nodeID] }
        XCTAssertEqual(nodes[0].adapter.serverCount, 1)
    }

    func eventually(_ what: String, timeout: Duration = .seconds(10), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            if ContinuousClock.now > deadline { XCTFail("timed out waiting: \(what)"); throw CancellationError() }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// One node: a cluster link and the adapter of `/`, with a recorder for its local side.
final class TestNode: Sendable {
    let cluster: PostgresCluster
    let adapter: PostgresAdapter
    let recorder = Recorder()

    static let configuration: PostgresConnection.Configuration? = {
        guard let text = ProcessInfo.processInfo.environment["CHATR_TEST_DATABASE_URL"], let url = URLComponents(string: text),
              url.scheme?.hasPrefix("postgres") == true, let host = url.host else { return nil }
        return PostgresConnection.Configuration(host: host, port: url.port ?? 5432, username: url.user ?? "postgres",
                                                password: url.password, database: String(url.path.dropFirst()), tls: .disable)
    }()

    init(tune: (inout PostgresClusterOptions) -> Void) throws {
        var options = PostgresClusterOptions(connection: Self.configuration!)
        options.heartbeatInterval = .milliseconds(500)
        options.reconnectDelay = (.milliseconds(50), .milliseconds(500))
        tune(&options)
        cluster = PostgresCluster(options: options, eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        let recorder = self.recorder
        adapter = cluster.adapter(for: LocalNamespace(
            name: "/",
            deliver: { ids, packet, _ in if !ids.isEmpty { recorder.record(ids, packet) } },
            disconnect: { ids, close in recorder.state.withLockedValue { $0.disconnected += ids.sorted().map { "\($0):\(close ? "close" : "ns")" } } },
            serverSideEvent: { event, args in await recorder.serverSideEvent(event, args) },
            report: { what, error in recorder.state.withLockedValue { $0.reports.append("\(what): \(error)") } }))
        cluster.onMessagesMissed { node, count in recorder.state.withLockedValue { $0.missed.append((node, count)) } }
    }

    static func query(_ sql: String) async throws -> Int {
        let connection = try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration!,
                                                              id: 1, logger: Logger(label: "test"))
        defer { Task { try? await connection.close() } }
        var result = 0
        for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "test")) {
            result = try row.decode(Int.self)
        }
        return result
    }
}

final class Recorder: Sendable {
    struct State {
        var deliveries: [String: [String]] = [:]
        var disconnected: [String] = []
        var events: [String] = []
        var reports: [String] = []
        var missed: [(node: String, count: UInt64)] = []
        var reply: SocketValue?
        var replyDelay: Duration = .zero
    }

    let state = NIOLockedValueBox(State())

    func record(_ ids: Set<String>, _ packet: EncodedPacket) {
        let parts = packet.messages.map { message -> String in
            switch message {
            case .text(let text): return text
            case .binary(let bytes): return "<\(bytes.count) bytes>"
            }
        }
        state.withLockedValue { state in for id in ids { state.deliveries[id, default: []] += parts } }
    }

    func serverSideEvent(_ event: String, _ args: [SocketValue]) async -> SocketValue? {
        let (reply, delay) = state.withLockedValue { state in
            state.events.append("\(event)(\(args.map { $0.stringValue ?? $0.numberValue.map { "\($0)" } ?? "?" }.joined(separator: ",")))")
            return (state.reply, state.replyDelay)
        }
        if delay > .zero { try? await Task.sleep(for: delay) }
        return reply
    }

    func delivered(_ id: String) -> [String] { state.withLockedValue { $0.deliveries[id] ?? [] } }
    var disconnected: [String] { state.withLockedValue { $0.disconnected } }
    var events: [String] { state.withLockedValue { $0.events } }
    var reports: [String] { state.withLockedValue { $0.reports } }
    var missed: [(node: String, count: UInt64)] { state.withLockedValue { $0.missed } }
    var reply: SocketValue? {
        get { state.withLockedValue { $0.reply } }
        set { state.withLockedValue { $0.reply = newValue } }
    }
    var replyDelay: Duration {
        get { state.withLockedValue { $0.replyDelay } }
        set { state.withLockedValue { $0.replyDelay = newValue } }
    }
}
