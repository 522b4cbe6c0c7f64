import NIOConcurrencyHelpers
import NIOCore
import SocketIOTestClient
import SocketIOVapor
import XCTVapor
@testable import SocketIO

/// What the reference server does at the edges of the protocol, over real HTTP and real
/// WebSockets (https://socket.io/docs/v4/engine-io-protocol/).
extension ServerTests {
    var base: String { "http://127.0.0.1:\(port)/socket.io/?EIO=4&transport=polling" }

    func http(_ method: HTTPMethod, _ url: String, body: String? = nil) async throws -> (status: UInt, body: String) {
        try await Self.http(app.client, method, url, body: body)
    }

    static func http(_ client: any Vapor.Client, _ method: HTTPMethod, _ url: String, body: String? = nil) async throws -> (status: UInt, body: String) {
        let response = try await client.send(method, to: URI(string: url)) { request in
            if let body { request.body = ByteBuffer(string: body); request.headers.contentType = .plainText }
        }
        return (response.status.code, response.body.map { String(buffer: $0) } ?? "")
    }

    func pollingSession() async throws -> String {
        let open = try await http(.GET, base)
        XCTAssertEqual(open.status, 200)
        return try XCTUnwrap(JSONCodec.parse(String(open.body.dropFirst()))["sid"]?.stringValue)
    }

    func testOtherMethodsGetTheProtocolsBadRequest() async throws {
        for method in [HTTPMethod.PUT, .DELETE, .PATCH] {
            let handshake = try await http(method, base)
            XCTAssertEqual(handshake.status, 400, "\(method)")
            XCTAssertEqual(handshake.body, #"{"code":2,"message":"Bad handshake method"}"#, "\(method)")
        }
        let sid = try await pollingSession()
        let inSession = try await http(.PUT, base + "&sid=\(sid)", body: "4hi")
        XCTAssertEqual(inSession.status, 400)
        XCTAssertEqual(inSession.body, #"{"code":3,"message":"Bad request"}"#)
    }

    func testAClientThatPostsCloseGetsOkAndItsWaitingPollANoop() async throws {
        let sid = try await pollingSession()
        let url = base + "&sid=\(sid)"
        let client = app.client
        async let poll = Self.http(client, .GET, url)
        let session = try XCTUnwrap(server.engine.session(sid))
        let deadline = ContinuousClock.now + .seconds(5)
        while !session.isPolling && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        XCTAssertTrue(session.isPolling, "the GET is held by the server")
        let close = try await http(.POST, url, body: "1")
        XCTAssertEqual(close.status, 200)
        XCTAssertEqual(close.body, "ok")
        let waiting = try await poll
        XCTAssertEqual(waiting.status, 200)
        XCTAssertEqual(waiting.body, "6", "the held poll ends with a noop")
        let later = try await http(.GET, url)
        XCTAssertEqual(later.status, 400)
        XCTAssertEqual(later.body, #"{"code":1,"message":"Session ID unknown"}"#)
    }

    func testASecondWebSocketForAnUpgradedSessionIsRefusedAndTheFirstKeepsWorking() async throws {
        let sid = try await pollingSession()
        let first = try await RawClient.upgrade(port: port, group: app.eventLoopGroup, sid: sid)
        let deadline = ContinuousClock.now + .seconds(5)
        while server.engine.session(sid)?.transportName != "websocket" && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        XCTAssertEqual(server.engine.session(sid)?.transportName, "websocket")
        do {
            let second = try await RawClient.open(port: port, group: app.eventLoopGroup, query: "&sid=\(sid)")
            let closed = await second.waitUntilClosed(timeout: .seconds(2))
            XCTAssertTrue(closed, "a second WebSocket on the session is closed at once")
        } catch {
            // Refused at the handshake (400): closed before it opened — also what we want.
        }
        let reply = try await first.connectNamespace()
        XCTAssertTrue(reply.hasPrefix(#"40{"sid":"#), reply)
        XCTAssertFalse(first.isClosed)
    }

    func testLeavingTheMainNamespaceKeepsTheConnection() async throws {
        let c = try await client()
        let first = try await c.connectNamespace()
        XCTAssertTrue(first.hasPrefix("40{"), first)
        c.send("41")
        // Two ping intervals (1 s each here): the engine goes on pinging, the client answers.
        let silent = await c.staysSilent(for: .milliseconds(2500))
        XCTAssertTrue(silent)
        XCTAssertFalse(c.isClosed, "the Engine.IO connection outlives the namespace")
        let again = try await c.connectNamespace()
        XCTAssertTrue(again.hasPrefix("40{"), again)
        XCTAssertNotEqual(again, first, "a new socket, with a new id")
    }

    /// A broadcast to a room the middleware joined, sent while the socket is still connecting,
    /// arrives — right after the CONNECT reply, never before it.
    func testWhatIsPublishedWhileASocketConnectsArrivesAfterItsConnectReply() async throws {
        let reached = NIOLockedValueBox(false)
        let (gate, open) = AsyncStream.makeStream(of: Void.self)
        server.sockets.use { socket in
            socket.join("news")
            reached.withLockedValue { $0 = true }
            for await _ in gate { break }
        }
        let c = try await client()
        c.send("40")
        let deadline = ContinuousClock.now + .seconds(5)
        while !reached.withLockedValue({ $0 }) && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        XCTAssertTrue(reached.withLockedValue { $0 }, "the socket reached the gate")
        server.sockets.to("news").emit("early", "while connecting")
        let nothingYet = await c.staysSilent(for: .milliseconds(100))
        XCTAssertTrue(nothingYet, "nothing reaches a client before its CONNECT reply")
        open.yield()
        let connect = try await c.nextText()
        XCTAssertTrue(connect.hasPrefix("40{"), connect)
        let early = try await c.nextText()
        XCTAssertEqual(early, #"42["early","while connecting"]"#)
    }

    func testAHandlerThatThrowsIsReportedWithItsContext() async throws {
        struct Broken: Error {}
        let failures = NIOLockedValueBox<[SocketIOFailure]>([])
        server.onError { failure in failures.withLockedValue { $0.append(failure) } }
        server.sockets.onConnection { socket in socket.on("boom") { _, _ in throw Broken() } }
        let c = try await client()
        let reply = try await c.connectNamespace()
        c.emit("boom")
        let deadline = ContinuousClock.now + .seconds(3)
        while !failures.withLockedValue({ $0.contains { $0.kind == .handler } }) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        // (Sent only now: a connection closed for garbage drops the events still queued.)
        c.send("4garbage")
        let closed = await c.waitUntilClosed()
        XCTAssertTrue(closed, "a packet that does not decode closes the connection")
        let seen = failures.withLockedValue { $0 }
        let handler = try XCTUnwrap(seen.first { $0.kind == .handler })
        XCTAssertEqual(handler.event, "boom")
        XCTAssertEqual(handler.namespace, "/")
        XCTAssertTrue(reply.contains(handler.socketID ?? "?"), "the failure names the socket")
        XCTAssertTrue(handler.error is Broken)
        XCTAssertTrue(seen.contains { $0.kind == .parse }, "the bad packet is reported too")
    }

    func testDisconnectReasonsAreTyped() async throws {
        let reasons = NIOLockedValueBox<[DisconnectReason]>([])
        server.sockets.onConnection { socket in
            socket.onDisconnect { reason in reasons.withLockedValue { $0.append(reason) } }
            socket.on("kick") { socket, _ in socket.disconnect(); return nil }
        }
        let leaver = try await client()
        _ = try await leaver.connectNamespace()
        leaver.send("41")
        let kicked = try await client()
        _ = try await kicked.connectNamespace()
        kicked.emit("kick")
        let dropped = try await client()
        _ = try await dropped.connectNamespace()
        await dropped.close()
        let deadline = ContinuousClock.now + .seconds(3)
        while reasons.withLockedValue({ $0.count }) < 3 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertEqual(Set(reasons.withLockedValue { $0 }), [.clientNamespaceDisconnect, .serverNamespaceDisconnect, .transportClose])
    }
}

/// The inbound limit: applied as events arrive, before they queue.
final class InboundLimitTests: XCTestCase {
    func testBudgetRefusesOverTheRateAndTheQueueAndThenDisconnects() {
        var limit = InboundLimit(eventsPerSecond: 10)
        limit.burst = 3
        limit.maxQueued = 5
        limit.refusalsBeforeDisconnect = 4
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var budget = InboundBudget(limit: limit, now: start)
        XCTAssertEqual((0..<3).map { _ in budget.admit(isEvent: true, now: start) }, [.accept, .accept, .accept])
        XCTAssertEqual(budget.admit(isEvent: true, now: start), .refuse(streak: 1), "the burst is spent")
        XCTAssertEqual(budget.admit(isEvent: false, now: start), .accept, "CONNECT and DISCONNECT are not rate limited")
        XCTAssertEqual(budget.admit(isEvent: true, now: start + .milliseconds(100)), .accept, "a tenth of a second buys one event")
        XCTAssertEqual(budget.queued, 5)
        XCTAssertEqual(budget.admit(isEvent: true, now: start + .seconds(5)), .refuse(streak: 1), "the queue is full")
        var controlOnTop = budget
        XCTAssertEqual(controlOnTop.admit(isEvent: false, now: start + .seconds(5)), .disconnect(streak: 2),
                       "a CONNECT or DISCONNECT is never dropped: on a full queue the client is closed")
        budget.handled()
        XCTAssertEqual(budget.admit(isEvent: true, now: start + .seconds(5)), .accept)
        XCTAssertEqual(budget.admit(isEvent: true, now: start + .seconds(5)), .refuse(streak: 1))
        XCTAssertEqual(budget.admit(isEvent: true, now: start + .seconds(5)), .refuse(streak: 2))
        XCTAssertEqual(budget.admit(isEvent: true, now: start + .seconds(5)), .refuse(streak: 3))
        XCTAssertEqual(budget.admit(isEvent: true, now: start + .seconds(5)), .disconnect(streak: 4))
    }

    /// A client kept just over its rate is refused in many short streaks: the first refusal is
    /// reported, then no more than one report per interval — the log is not the next flood.
    func testRefusalsAreReportedOncePerIntervalNotOncePerStreak() async throws {
        let app = try await Application.make(.testing)
        var options = SocketIOOptions()
        var limit = InboundLimit(eventsPerSecond: 20)
        limit.burst = 1
        options.inboundLimit = limit
        let server = SocketIOServer(options: options, group: app.eventLoopGroup)
        app.socketIO(server)
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        let port = try XCTUnwrap(app.http.server.shared.localAddress?.port)
        let failures = NIOLockedValueBox<[SocketIOFailure]>([])
        server.onError { failure in failures.withLockedValue { $0.append(failure) } }
        server.sockets.onConnection { socket in socket.on("ping") { _, _ in ["pong"] } }
        let c = try await RawClient.connect(port: port, group: app.eventLoopGroup)
        _ = try await c.connectNamespace()
        // Three at once every 100 ms for 1.5 s: each volley has a token for one or two of them.
        for volley in 0..<15 {
            for n in 0..<3 { c.emit("ping", ack: volley * 3 + n) }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .milliseconds(300))
        let acks = c.received().acks.values
        let refused = acks.filter { $0.first?["error"] != nil }.count
        XCTAssertGreaterThanOrEqual(refused, 10, "refused in many streaks: \(acks.count) acks")
        let reports = failures.withLockedValue { $0 }.filter { $0.kind == .flood }
        XCTAssertEqual(reports.count, 1, "one report for \(refused) refusals: \(reports.map(\.description))")
        server.shutdown()
        await app.server.shutdown()
    }

    /// A client that floods a slow handler: refused at once (acked with the refusal), then
    /// disconnected; its socket and queue are released.
    func testAFloodingClientIsRefusedThenDisconnectedAndReleased() async throws {
        let app = try await Application.make(.testing)
        var options = SocketIOOptions()
        var limit = InboundLimit(eventsPerSecond: 1000)
        limit.burst = 1000
        limit.maxQueued = 10
        limit.refusalsBeforeDisconnect = 50
        limit.refusalAck = [["refused": true]]
        options.inboundLimit = limit
        let server = SocketIOServer(options: options, group: app.eventLoopGroup)
        app.socketIO(server)
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        let port = try XCTUnwrap(app.http.server.shared.localAddress?.port)
        let failures = NIOLockedValueBox<[SocketIOFailure]>([])
        server.onError { failure in failures.withLockedValue { $0.append(failure) } }
        struct Weak: Sendable { weak var socket: Socket? }
        let watched = NIOLockedValueBox(Weak())
        server.sockets.onConnection { socket in
            watched.withLockedValue { $0.socket = socket }
            socket.on("ping") { _, _ in ["pong"] }
            // Slow enough that the queue cannot drain while the flood arrives, however loaded the machine.
            socket.on("slow") { _, _ in try await Task.sleep(for: .seconds(2)); return ["done"] }
        }
        let c = try await RawClient.connect(port: port, group: app.eventLoopGroup)
        _ = try await c.connectNamespace()
        _ = try await c.call("ping")
        XCTAssertNotNil(watched.withLockedValue { $0.socket }, "the socket is watched (so its release below means something)")
        for id in 0..<200 { c.emit("slow", ack: id) }
        let closed = await c.waitUntilClosed(timeout: .seconds(5))
        XCTAssertTrue(closed, "a client that keeps flooding is disconnected")
        let acks = c.received().acks
        XCTAssertTrue(acks.values.contains { $0.first?["refused"] == true }, "refused events are told so")
        XCTAssertEqual(acks.values.filter { $0.first?["refused"] == true }.count, 49, "refused until the 50th refusal closed it")
        XCTAssertEqual(acks.values.filter { $0.first == "done" }.count, 0, "what was queued died with the connection")
        XCTAssertTrue(failures.withLockedValue { $0 }.contains { $0.kind == .flood }, "and the flood is reported")
        // (The event being handled when the connection closed holds the socket until it returns: 2 s.)
        let deadline = ContinuousClock.now + .seconds(8)
        while watched.withLockedValue({ $0.socket }) != nil && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        XCTAssertNil(watched.withLockedValue { $0.socket }, "the socket (and the events it had queued) are released")
        server.shutdown()
        await app.server.shutdown()
        try await app.asyncShutdown()
    }
}
