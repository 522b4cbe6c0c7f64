import NIOConcurrencyHelpers
import NIOPosix
import XCTest
@testable import SocketIO

/// A WebSocket end that records what the engine sends (the engine's transport seam).
/// @unchecked: its two fields are only touched under `lock`.
final class RecordingWebSocket: EngineWebSocket, @unchecked Sendable {
    private let lock = NIOLock()
    private var _frames: [EngineMessage] = []
    private var _closed = false
    var frames: [EngineMessage] { lock.withLock { _frames } }
    var texts: [String] { frames.compactMap { if case .text(let t) = $0 { return t } else { return nil } } }
    var isClosed: Bool { lock.withLock { _closed } }
    func send(text: String) { lock.withLock { _frames.append(.text(text)) } }
    func send(binary: [UInt8]) { lock.withLock { _frames.append(.binary(binary)) } }
    func close() { lock.withLock { _closed = true } }
}

func request(_ query: [String: String], _ method: EngineRequest.Method = .get) -> EngineRequest {
    EngineRequest(method: method, query: query, headers: [("Origin", "http://localhost:3000")])
}

func openPayload(_ response: EngineResponse) throws -> SocketValue {
    XCTAssertEqual(response.status, 200)
    XCTAssertTrue(response.body.hasPrefix("0"))
    return try JSONCodec.parse(String(response.body.dropFirst()))
}

final class EngineSessionTests: XCTestCase {
    var group: MultiThreadedEventLoopGroup!

    override func setUp() { group = MultiThreadedEventLoopGroup(numberOfThreads: 1) }
    override func tearDown() { try? group.syncShutdownGracefully() }

    func makeEngine(_ configure: (inout EngineOptions) -> Void = { _ in }) -> (EngineServer, NIOLockedValueBox<[EngineSocket]>, NIOLockedValueBox<[String]>, NIOLockedValueBox<[EngineMessage]>) {
        var options = EngineOptions()
        configure(&options)
        let engine = EngineServer(options: options, group: group)
        let sessions = NIOLockedValueBox<[EngineSocket]>([])
        let reasons = NIOLockedValueBox<[String]>([])
        let messages = NIOLockedValueBox<[EngineMessage]>([])
        engine.onConnection { session in
            sessions.withLockedValue { $0.append(session) }
            session.setHandlers(onMessage: { message in messages.withLockedValue { $0.append(message) } },
                                onClose: { reason in reasons.withLockedValue { $0.append(reason) } })
        }
        return (engine, sessions, reasons, messages)
    }

    func testSessionsPerAddressAreCapped() async throws {
        let (engine, sessions, _, _) = makeEngine { $0.maxSessionsPerAddress = 2 }
        func handshake(from address: String) async -> EngineResponse {
            await engine.handle(EngineRequest(method: .get, query: ["EIO": "4", "transport": "polling"], headers: [], remoteAddress: address), body: nil)
        }
        let first = await handshake(from: "192.0.2.1"), second = await handshake(from: "192.0.2.1")
        XCTAssertEqual([first.status, second.status], [200, 200])
        let third = await handshake(from: "192.0.2.1")
        XCTAssertEqual(third.status, 429)
        XCTAssertEqual(try JSONCodec.parse(third.body)["code"], 4)
        let websocket = EngineRequest(method: .get, query: ["EIO": "4", "transport": "websocket"], headers: [], remoteAddress: "192.0.2.1")
        XCTAssertEqual(engine.websocketError(for: websocket), .tooManySessions, "refused before the upgrade")
        let elsewhere = await handshake(from: "192.0.2.2")
        XCTAssertEqual(elsewhere.status, 200, "another address is not affected")
        // A closed session frees its place.
        sessions.withLockedValue { $0[0] }.close(reason: "test")
        let deadline = ContinuousClock.now + .seconds(5)
        while engine.sessionCount > 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let again = await handshake(from: "192.0.2.1")
        XCTAssertEqual(again.status, 200)
    }

    func testSessionIDsAreTwentyRandomBase64URLCharacters() {
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let ids = (0..<5_000).map { _ in EngineServer.newSessionID() }
        XCTAssertEqual(Set(ids).count, ids.count, "an id came twice")
        var seenAt = Array(repeating: Set<Character>(), count: 20)
        for id in ids {
            XCTAssertEqual(id.count, 20, id)
            XCTAssertTrue(id.allSatisfy(alphabet.contains), id)
            for (position, character) in id.enumerated() { seenAt[position].insert(character) }
        }
        // Every position is random: 5,000 draws of 64 values leave none unseen.
        XCTAssertEqual(seenAt.map(\.count), Array(repeating: 64, count: 20))
    }

    /// The connection handler is called the same way for the thousandth session as for the
    /// first. (It was kept as a bare closure in a lock box, which wrapped it in two more thunks
    /// on every call: the stack under the handler grew by two frames per connection.)
    func testTheConnectionHandlerDoesNotGrowWithEachConnection() async throws {
        let engine = EngineServer(options: EngineOptions(), group: group)
        let depths = NIOLockedValueBox<[Int]>([])
        engine.onConnection { session in
            depths.withLockedValue { $0.append(Thread.callStackSymbols.count) }
            session.close(reason: "test")
        }
        for _ in 0..<300 {
            let open = await engine.handle(request(["EIO": "4", "transport": "polling"]), body: nil)
            XCTAssertEqual(open.status, 200)
        }
        let seen = depths.withLockedValue { $0 }
        XCTAssertEqual(seen.count, 300)
        XCTAssertEqual(seen.last, seen.first, "the stack under the handler grew: \(seen.prefix(5)) … \(seen.suffix(5))")
    }

    func testPollingHandshakeAndOpenPacket() async throws {
        let (engine, sessions, _, _) = makeEngine()
        let open = try openPayload(await engine.handle(request(["EIO": "4", "transport": "polling"]), body: nil))
        XCTAssertEqual(open["upgrades"], ["websocket"])
        XCTAssertEqual(open["pingInterval"], 25_000)
        XCTAssertEqual(open["pingTimeout"], 20_000)
        XCTAssertEqual(open["maxPayload"], 1_000_000)
        let sid = try XCTUnwrap(open["sid"]?.stringValue)
        XCTAssertEqual(sessions.withLockedValue { $0.map(\.id) }, [sid])
    }

    func testProtocolErrors() async throws {
        let (engine, _, _, _) = makeEngine()
        let cases: [(EngineRequest, Int, Int)] = [
            (request(["EIO": "3", "transport": "polling"]), 400, 5),
            (request(["EIO": "4", "transport": "carrier-pigeon"]), 400, 0),
            (request(["transport": "polling"]), 400, 5),
            (request(["EIO": "4", "transport": "polling"], .post), 400, 2),
            (request(["EIO": "4", "transport": "polling", "sid": "nope"]), 400, 1),
        ]
        for (req, status, code) in cases {
            let response = await engine.handle(req, body: nil)
            XCTAssertEqual(response.status, status)
            let body = try JSONCodec.parse(response.body)
            XCTAssertEqual(body["code"], .number(Double(code)), "\(req.query)")
            XCTAssertNotNil(body["message"]?.stringValue)
        }
    }

    func testLongPollIsHeldUntilDataArrives() async throws {
        let (engine, sessions, _, messages) = makeEngine()
        let sid = try openPayload(await engine.handle(request(["EIO": "4", "transport": "polling"]), body: nil))["sid"]!.stringValue!
        let poll = Task { await engine.handle(request(["EIO": "4", "transport": "polling", "sid": sid]), body: nil) }
        try await Task.sleep(for: .milliseconds(100))
        sessions.withLockedValue { $0[0] }.send([.text("2[\"hi\"]"), .binary([1, 2])])
        let response = await poll.value
        XCTAssertEqual(response.body, "42[\"hi\"]\u{1e}bAQI=")

        let post = await engine.handle(request(["EIO": "4", "transport": "polling", "sid": sid], .post), body: "4one\u{1e}bAQI=\u{1e}4two")
        XCTAssertEqual(post.status, 200)
        XCTAssertEqual(post.body, "ok")
        XCTAssertEqual(messages.withLockedValue { $0 }, [.text("one"), .binary([1, 2]), .text("two")])
    }

    func testASecondConcurrentPollClosesTheSession() async throws {
        let (engine, _, reasons, _) = makeEngine()
        let sid = try openPayload(await engine.handle(request(["EIO": "4", "transport": "polling"]), body: nil))["sid"]!.stringValue!
        let first = Task { await engine.handle(request(["EIO": "4", "transport": "polling", "sid": sid]), body: nil) }
        try await Task.sleep(for: .milliseconds(100))
        let second = await engine.handle(request(["EIO": "4", "transport": "polling", "sid": sid]), body: nil)
        XCTAssertEqual(second.status, 400)
        let firstBody = await first.value.body
        XCTAssertEqual(firstBody, "1", "the held poll learns of the close")
        XCTAssertEqual(reasons.withLockedValue { $0 }, ["transport error"])
        XCTAssertNil(engine.session(sid))
    }

    func testGarbageAndOversizedPostsAreRefused() async throws {
        let (engine, _, reasons, messages) = makeEngine { $0.maxPayload = 100 }
        let sid = try openPayload(await engine.handle(request(["EIO": "4", "transport": "polling"]), body: nil))["sid"]!.stringValue!
        let big = await engine.handle(request(["EIO": "4", "transport": "polling", "sid": sid], .post), body: "4" + String(repeating: "x", count: 200))
        XCTAssertEqual(big.status, 413)
        XCTAssertNotNil(engine.session(sid), "a too-large body is refused without ending the session")
        let garbage = await engine.handle(request(["EIO": "4", "transport": "polling", "sid": sid], .post), body: "4ok\u{1e}zzz")
        XCTAssertEqual(garbage.status, 400)
        XCTAssertEqual(reasons.withLockedValue { $0 }, ["parse error"])
        XCTAssertTrue(messages.withLockedValue { $0 }.isEmpty, "nothing of a bad payload is delivered")
    }

    func testUpgradeFromPollingToWebSocket() async throws {
        let (engine, sessions, _, messages) = makeEngine()
        let sid = try openPayload(await engine.handle(request(["EIO": "4", "transport": "polling"]), body: nil))["sid"]!.stringValue!
        let session = sessions.withLockedValue { $0[0] }
        let heldPoll = Task { await engine.handle(request(["EIO": "4", "transport": "polling", "sid": sid]), body: nil) }
        try await Task.sleep(for: .milliseconds(50))

        let wsRequest = request(["EIO": "4", "transport": "websocket", "sid": sid])
        XCTAssertNil(engine.websocketError(for: wsRequest))
        let ws = RecordingWebSocket()
        let receiver = engine.accept(ws, request: wsRequest)
        receiver.receive(text: "2probe")
        XCTAssertEqual(ws.texts, ["3probe"])
        let heldBody = await heldPoll.value.body
        XCTAssertEqual(heldBody, "6", "the pending poll gets a noop")
        session.send(.text("queued"))
        receiver.receive(text: "5")
        XCTAssertEqual(session.transportName, "websocket")
        XCTAssertEqual(ws.texts, ["3probe", "4queued"], "what was queued for polling goes out on the WebSocket")

        receiver.receive(text: "4over-ws")
        receiver.receive(binary: [7])
        XCTAssertEqual(messages.withLockedValue { $0 }, [.text("over-ws"), .binary([7])])
        session.send(.binary([9]))
        XCTAssertEqual(ws.frames.last, .binary([9]))

        // Polling with an upgraded sid is refused, and so is a second WebSocket for it.
        let late = await engine.handle(request(["EIO": "4", "transport": "polling", "sid": sid]), body: nil)
        XCTAssertEqual(late.status, 400)
        XCTAssertEqual(engine.websocketError(for: wsRequest), .badRequest)
        XCTAssertFalse(session.isClosed)
    }

    func testDirectWebSocketSession() async throws {
        let (engine, sessions, reasons, messages) = makeEngine()
        let ws = RecordingWebSocket()
        let receiver = engine.accept(ws, request: request(["EIO": "4", "transport": "websocket"]))
        let open = try JSONCodec.parse(String(try XCTUnwrap(ws.texts.first).dropFirst()))
        XCTAssertEqual(open["upgrades"], [])
        XCTAssertEqual(sessions.withLockedValue { $0.count }, 1)
        receiver.receive(text: "4hello")
        XCTAssertEqual(messages.withLockedValue { $0 }, [.text("hello")])
        receiver.receive(text: "1")
        XCTAssertEqual(reasons.withLockedValue { $0 }, ["transport close"])
        XCTAssertTrue(ws.isClosed)
        XCTAssertEqual(engine.sessionCount, 0)
    }

    func testHeartbeatPingsAndClosesWithoutPong() async throws {
        let (engine, _, reasons, _) = makeEngine { $0.pingInterval = 50; $0.pingTimeout = 50 }
        let ws = RecordingWebSocket()
        let receiver = engine.accept(ws, request: request(["EIO": "4", "transport": "websocket"]))
        // Answer the first pings: the session stays.
        for _ in 0..<3 {
            try await Task.sleep(for: .milliseconds(70))
            if ws.texts.last == "2" { receiver.receive(text: "3") }
        }
        XCTAssertGreaterThanOrEqual(ws.texts.filter { $0 == "2" }.count, 2)
        XCTAssertTrue(reasons.withLockedValue { $0 }.isEmpty)
        // Stop answering: closed with "ping timeout".
        try await Task.sleep(for: .milliseconds(250))
        XCTAssertEqual(reasons.withLockedValue { $0 }, ["ping timeout"])
        XCTAssertTrue(ws.isClosed)
    }
}
