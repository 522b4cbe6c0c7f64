import NIOConcurrencyHelpers
import SocketIOTestClient
import SocketIOVapor
import XCTVapor
@testable import SocketIO

/// The Socket.IO layer over a real Vapor server and real WebSockets.
final class ServerTests: XCTestCase {
    var app: Application!
    var server: SocketIOServer!
    var port = 0
    let events = EventLog()

    override func setUp() async throws {
        app = try await Application.make(.testing)
        var options = SocketIOOptions()
        options.engine.pingInterval = 1000
        options.engine.pingTimeout = 1000
        options.connectTimeout = 2000
        server = SocketIOServer(options: options, group: app.eventLoopGroup)
        app.socketIO(server)
        app.http.server.configuration.port = 0
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        port = try XCTUnwrap(app.http.server.shared.localAddress?.port)
    }

    override func tearDown() async throws {
        // As in a real shutdown: sessions close first, then the HTTP server stops.
        server.shutdown()
        await app.server.shutdown()
        try await app.asyncShutdown()
    }

    func waitFor(_ entry: String, timeout: Duration = .seconds(3)) async -> Bool {
        await events.waitFor(entry, timeout: timeout)
    }

    func client() async throws -> RawClient { try await RawClient.connect(port: port, group: app.eventLoopGroup) }

    func testConnectRepliesWithTheSocketID() async throws {
        let log = events
        server.sockets.onConnection { socket in log.add("connected \(socket.id)") }
        let c = try await client()
        let reply = try await c.connectNamespace()
        XCTAssertTrue(reply.hasPrefix(#"40{"sid":""#), reply)
        let sid = String(reply.dropFirst(#"40{"sid":""#.count).prefix { $0 != "\"" })
        let seen1 = await waitFor("connected \(sid)")
        XCTAssertTrue(seen1)
    }

    func testMiddlewareSeesAuthAndCanReject() async throws {
        server.sockets.use { socket in
            guard socket.handshake.auth?["token"] == "good" else {
                throw SocketConnectError("Authentication error", data: ["reason": "bad token"])
            }
        }
        let rejected = try await client()
        let answer = try await rejected.connectNamespace(auth: #"{"token":"bad"}"#)
        XCTAssertEqual(answer, #"44{"data":{"reason":"bad token"},"message":"Authentication error"}"#)
        let accepted = try await client()
        let ok = try await accepted.connectNamespace(auth: #"{"token":"good"}"#)
        XCTAssertTrue(ok.hasPrefix("40{"), ok)
    }

    func testUnknownNamespace() async throws {
        _ = server.of("/admin")
        let c = try await client()
        let answer = try await c.connectNamespace("/nope")
        XCTAssertEqual(answer, #"44/nope,{"message":"Invalid namespace"}"#)
        let admin = try await c.connectNamespace("/admin")
        XCTAssertTrue(admin.hasPrefix(#"40/admin,{"sid":"#), admin)
    }

    func testHandlerResultBecomesTheAck() async throws {
        let log = events
        server.sockets.onConnection { socket in
            socket.on("sum") { _, args in [.number(args.compactMap(\.numberValue).reduce(0, +))] }
            socket.on("quiet") { _, _ in log.add("quiet"); return nil }
        }
        let c = try await client()
        _ = try await c.connectNamespace()
        c.send(#"4212["sum",1,2,3.5]"#)
        let ack = try await c.nextText()
        XCTAssertEqual(ack, "4312[6.5]")
        c.send(#"42["quiet"]"#)
        let seen1 = await waitFor("quiet")
        XCTAssertTrue(seen1)
        let seen2 = await c.staysSilent()
        XCTAssertTrue(seen2, "no ack when none was asked for")
    }

    func testNamespaceHandlersServeEverySocketAfterItsOwn() async throws {
        server.sockets.on("whoami") { socket, _ in [.string(socket.id)] }
        server.sockets.onConnection { socket in
            // One socket overrides the namespace's handler; every socket has a fallback.
            if socket.handshake.auth?["own"] == true { socket.on("whoami") { _, _ in ["mine"] } }
            socket.onUnhandled { _, _ in ["unhandled"] }
        }
        let plain = try await client()
        let reply = try await plain.connectNamespace()
        let sid = String(reply.dropFirst(#"40{"sid":""#.count).prefix { $0 != "\"" })
        plain.send(#"421["whoami"]"#)
        let answer1 = try await plain.nextText()
        XCTAssertEqual(answer1, "431[\"\(sid)\"]", "the namespace's handler, given the socket that sent the event")
        plain.send(#"422["nobody-handles-this"]"#)
        let answer2 = try await plain.nextText()
        XCTAssertEqual(answer2, #"432["unhandled"]"#)
        let own = try await client()
        _ = try await own.connectNamespace(auth: #"{"own":true}"#)
        own.send(#"423["whoami"]"#)
        let answer3 = try await own.nextText()
        XCTAssertEqual(answer3, #"433["mine"]"#, "a socket's own handler comes first")
    }

    func testEventsAreHandledOneAtATimeInOrderAcrossIdleGaps() async throws {
        let running = NIOLockedValueBox((now: 0, most: 0, seen: [Int]()))
        server.sockets.on("step") { _, args in
            running.withLockedValue { $0.now += 1; $0.most = max($0.most, $0.now) }
            // Later events take less time: handled concurrently, they would finish out of order.
            let n = Int(args.first?.numberValue ?? 0)
            try await Task.sleep(for: .milliseconds(20 - n % 20))
            running.withLockedValue { $0.now -= 1; $0.seen.append(n) }
            return [.number(Double(n))]
        }
        let c = try await client()
        _ = try await c.connectNamespace()
        for round in 0..<3 {
            // A burst, then silence: the queue empties and the next burst starts it again.
            for n in 0..<10 { c.send("42\(round * 10 + n)[\"step\",\(round * 10 + n)]") }
            for n in 0..<10 {
                let ack = try await c.nextText()
                XCTAssertEqual(ack, "43\(round * 10 + n)[\(round * 10 + n)]")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let seen = running.withLockedValue { $0 }
        XCTAssertEqual(seen.seen, Array(0..<30))
        XCTAssertEqual(seen.most, 1, "two events of one client were handled at once")
    }

    func testServerEmitWithAckAndTimeout() async throws {
        let log = events
        let result = NIOLockedValueBox<[SocketValue]?>(nil)
        server.sockets.onConnection { socket in
            socket.on("ask") { socket, _ in
                Task {
                    let answer = try? await socket.emitWithAck("question", ["ready?"], timeout: .seconds(3))
                    result.withLockedValue { $0 = answer }
                    do {
                        _ = try await socket.emitWithAck("ignored", [], timeout: .milliseconds(200))
                    } catch SocketAckError.timeout {
                        log.add("timed out")
                    }
                }
                return nil
            }
        }
        let c = try await client()
        _ = try await c.connectNamespace()
        c.send(#"42["ask"]"#)
        let question = try await c.nextText()
        XCTAssertEqual(question, #"420["question","ready?"]"#)
        c.send(#"430["yes",{"ok":true}]"#)
        let ignored = try await c.nextText()
        XCTAssertEqual(ignored, #"421["ignored"]"#)
        let seen1 = await waitFor("timed out")
        XCTAssertTrue(seen1)
        XCTAssertEqual(result.withLockedValue { $0 }, ["yes", ["ok": true]])
    }

    func testBinaryEventsAndAcksBothWays() async throws {
        server.sockets.onConnection { socket in
            socket.on("upload") { socket, args in
                guard case .binary(let bytes)? = args.first?["file"] else { return ["no binary"] }
                socket.emit("echo", .binary(bytes.reversed()))
                return [.binary(bytes)]
            }
        }
        let c = try await client()
        _ = try await c.connectNamespace()
        c.send(#"451-7["upload",{"file":{"_placeholder":true,"num":0}}]"#)
        c.send(binary: [1, 2, 3])
        let echo = try await c.nextText()
        XCTAssertEqual(echo, #"451-["echo",{"_placeholder":true,"num":0}]"#)
        let firstBinary = try await c.next()
        XCTAssertEqual(firstBinary, .binary([3, 2, 1]))
        let ack = try await c.nextText()
        XCTAssertEqual(ack, #"461-7[{"_placeholder":true,"num":0}]"#)
        let secondBinary = try await c.next()
        XCTAssertEqual(secondBinary, .binary([1, 2, 3]))
    }

    func testRoomsAndBroadcastExclusion() async throws {
        server.sockets.onConnection { socket in
            socket.on("join") { socket, args in
                socket.join(args[0].stringValue!)
                return ["joined"]
            }
            socket.on("shout") { socket, args in
                socket.to(args[0].stringValue!).emit("heard", args[1])
                return ["sent"]
            }
            socket.on("all-but-room") { socket, args in
                socket.namespace.except(args[0].stringValue!).emit("outside")
                return ["sent"]
            }
        }
        var clients: [RawClient] = []
        for _ in 0..<3 {
            let c = try await client()
            _ = try await c.connectNamespace()
            clients.append(c)
        }
        let (a, b, c) = (clients[0], clients[1], clients[2])
        a.send(#"421["join","r"]"#)
        b.send(#"421["join","r"]"#)
        _ = try await a.nextText()
        _ = try await b.nextText()

        a.send(#"422["shout","r","hi"]"#)
        let heard = try await b.nextText()
        XCTAssertEqual(heard, #"42["heard","hi"]"#)
        let sentAck = try await a.nextText()
        XCTAssertEqual(sentAck, #"432["sent"]"#, "the sender gets its ack, not its own broadcast")
        let seen1 = await c.staysSilent()
        XCTAssertTrue(seen1, "not in the room")

        c.send(#"423["all-but-room","r"]"#)
        let outside = try await c.nextText()
        XCTAssertEqual(outside, #"42["outside"]"#)
        let seen2 = await a.staysSilent()
        XCTAssertTrue(seen2)
        let seen3 = await b.staysSilent()
        XCTAssertTrue(seen3)
        XCTAssertEqual(server.sockets.to("r").socketIDs.count, 2)

        await b.close()
        try await Task.sleep(for: .milliseconds(200))
        XCTAssertEqual(server.sockets.to("r").socketIDs.count, 1, "leaving is automatic on disconnect")
    }

    func testDisconnectReasonsReachHandlers() async throws {
        let log = events
        server.sockets.onConnection { socket in
            socket.onDisconnect { reason in log.add("gone: \(reason)") }
            socket.on("kick") { socket, _ in socket.disconnect(); return nil }
        }
        let a = try await client()
        _ = try await a.connectNamespace()
        a.send("41")
        let seen1 = await waitFor("gone: client namespace disconnect")
        XCTAssertTrue(seen1)

        let b = try await client()
        _ = try await b.connectNamespace()
        await b.close()
        let seen2 = await waitFor("gone: transport close")
        XCTAssertTrue(seen2)

        let c = try await client()
        _ = try await c.connectNamespace()
        c.send(#"42["kick"]"#)
        let disconnect = try await c.nextText()
        XCTAssertEqual(disconnect, "41")
        let seen3 = await waitFor("gone: server namespace disconnect")
        XCTAssertTrue(seen3)
    }

    func testInvalidPacketsCloseOnlyThatConnection() async throws {
        let log = events
        server.sockets.onConnection { socket in
            socket.onDisconnect { reason in log.add("gone: \(reason)") }
            socket.on("ping-me") { _, _ in ["pong"] }
        }
        let healthy = try await client()
        _ = try await healthy.connectNamespace()
        for bad in ["42{not json", #"42{"a":1}"#, "4x", "9", "43[]", #"451-["a",{"_placeholder":true,"num":5}]"#] {
            let c = try await client()
            _ = try await c.connectNamespace()
            c.send(bad)
            if bad.hasPrefix("451-") { c.send(binary: [1]) }
            let closed = await c.waitUntilClosed()
            XCTAssertTrue(closed, "\(bad) closes the connection")
        }
        let binaryOutOfTheBlue = try await client()
        _ = try await binaryOutOfTheBlue.connectNamespace()
        binaryOutOfTheBlue.send(binary: [1, 2])
        let closed = await binaryOutOfTheBlue.waitUntilClosed()
        XCTAssertTrue(closed)
        healthy.send(#"421["ping-me"]"#)
        let pong = try await healthy.nextText()
        XCTAssertEqual(pong, #"431["pong"]"#)
    }

    func testClientsThatNeverConnectAreDropped() async throws {
        let silent = try await client()
        let closed = await silent.waitUntilClosed(timeout: .seconds(4))
        XCTAssertTrue(closed, "connect timeout is 2 s")
    }

    /// The connect timer is not cancelled when a namespace is joined (it finds out when it fires),
    /// and heartbeats answered in time leave stale timeouts behind: neither may close the session.
    func testAConnectedClientOutlivesTheConnectTimeoutAndItsAnsweredPings() async throws {
        server.sockets.onConnection { socket in socket.on("ping-me") { _, _ in ["pong"] } }
        let connected = try await client()
        _ = try await connected.connectNamespace()
        let silent = try await client()
        // Past the 2 s connect timeout and two 1 s heartbeats (this client answers every ping).
        let silentClosed = await silent.waitUntilClosed(timeout: .seconds(4))
        XCTAssertTrue(silentClosed, "a client that never joins a namespace is dropped meanwhile")
        XCTAssertFalse(connected.isClosed)
        let pong = try await connected.call("ping-me")
        XCTAssertEqual(pong, "pong")
    }
}

/// Entries logged by server-side handlers, awaited by the test.
final class EventLog: Sendable {
    private let entries = NIOLockedValueBox<[String]>([])
    func add(_ entry: String) { entries.withLockedValue { $0.append(entry) } }
    func waitFor(_ entry: String, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if entries.withLockedValue({ $0.contains(entry) }) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}

final class TypedPayloadTests: XCTestCase {
    struct Move: Codable, Equatable, Sendable { var x: Int; var y: Int; var label: String? }

    func testDecodeAndEncode() throws {
        let value: SocketValue = ["x": 1, "y": -2, "label": "a"]
        XCTAssertEqual(try value.decode(Move.self), Move(x: 1, y: -2, label: "a"))
        XCTAssertEqual(try SocketValue(encoding: Move(x: 3, y: 4, label: nil)), ["x": 3, "y": 4])
        XCTAssertThrowsError(try SocketValue.object(["x": "one", "y": 2]).decode(Move.self))
        XCTAssertEqual(try SocketValue.binary([1, 2]).decode([UInt8].self), [1, 2], "binary attachments decode as bytes")
        XCTAssertThrowsError(try SocketValue.string("x").decode(Data.self))
    }
}

extension ServerTests {
    func testTypedHandlersRefuseTheWrongShape() async throws {
        let log = events
        server.sockets.onConnection { socket in
            socket.on("move", as: TypedPayloadTests.Move.self) { _, move in
                log.add("moved \(move.x),\(move.y)")
                return [.number(Double(move.x + move.y))]
            }
        }
        let c = try await client()
        _ = try await c.connectNamespace()
        c.send(#"421["move",{"x":2,"y":3}]"#)
        let ok = try await c.nextText()
        XCTAssertEqual(ok, "431[5]")
        c.send(#"422["move",{"x":"two"}]"#)
        let refused = try await c.nextText()
        XCTAssertEqual(refused, #"432[{"error":"Invalid payload for 'move'"}]"#)
        c.send(#"42["move",42]"#)
        c.send(#"423["move",{"x":1,"y":1}]"#)
        let after = try await c.nextText()
        XCTAssertEqual(after, "433[2]", "the connection carries on after bad payloads")
        let seen = await waitFor("moved 2,3")
        XCTAssertTrue(seen)
    }

    func testCORSForBrowsersWhenConfigured() async throws {
        var options = EngineOptions()
        options.corsOrigins = ["http://allowed.example"]
        let engine = EngineServer(options: options, group: app.eventLoopGroup)
        let allowed = await engine.handle(EngineRequest(method: .get, query: ["EIO": "4", "transport": "polling"],
                                                        headers: [("Origin", "http://allowed.example")]), body: nil)
        XCTAssertTrue(allowed.headers.contains { $0.name == "Access-Control-Allow-Origin" && $0.value == "http://allowed.example" })
        XCTAssertTrue(allowed.headers.contains { $0.name == "Access-Control-Allow-Credentials" && $0.value == "true" })
        let other = await engine.handle(EngineRequest(method: .get, query: ["EIO": "4", "transport": "polling"],
                                                      headers: [("Origin", "http://evil.example")]), body: nil)
        XCTAssertFalse(other.headers.contains { $0.name == "Access-Control-Allow-Origin" })
        let preflight = await engine.handle(EngineRequest(method: .options, query: [:], headers: [("Origin", "http://allowed.example")]), body: nil)
        XCTAssertEqual(preflight.status, 204)
        engine.closeAll()
    }
}
