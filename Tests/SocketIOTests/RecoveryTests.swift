import NIOConcurrencyHelpers
import SocketIOClient
import SocketIOTestClient
import SocketIOVapor
import XCTVapor
@testable import SocketIO

/// Connection state recovery, over the wire: the `pid` in the CONNECT reply, offsets on
/// broadcasts, and a client coming back with `{pid, offset}`.
final class RecoveryTests: XCTestCase {
    var app: Application!
    var server: SocketIOServer!
    var port = 0
    let events = EventLog()

    func start(window: Duration = .seconds(60), offsets: ConnectionStateRecovery.Offsets = .everySocket) async throws {
        app = try await Application.make(.testing)
        var options = SocketIOOptions()
        options.engine.pingInterval = 1000
        options.engine.pingTimeout = 1000
        options.connectionStateRecovery = ConnectionStateRecovery(maxDisconnectionDuration: window, offsets: offsets)
        server = SocketIOServer(options: options, group: app.eventLoopGroup)
        app.socketIO(server)
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        port = try XCTUnwrap(app.http.server.shared.localAddress?.port)
        let log = events
        // The middleware names the owner (`?user=`), joins a room named by the client, and
        // records whether the socket was recovered.
        server.sockets.use { socket in
            socket.recoveryKey = socket.handshake.auth?["user"]?.stringValue
            if let room = socket.handshake.auth?["room"]?.stringValue { socket.join(room) }
        }
        server.sockets.onConnection { socket in
            log.add("\(socket.recovered ? "recovered" : "fresh") \(socket.id)")
            socket.on("join") { socket, args in socket.join(args.first?.stringValue ?? ""); return [true] }
        }
    }

    override func tearDown() async throws {
        server?.shutdown()
        await app?.server.shutdown()
        try await app?.asyncShutdown()
    }

    func client() async throws -> RawClient { try await RawClient.connect(port: port, group: app.eventLoopGroup) }

    /// `40{"sid":…,"pid":…}` → (sid, pid).
    func ids(_ reply: String) throws -> (sid: String, pid: String) {
        let (packet, _) = try SocketCodec.decode(String(reply.dropFirst()))
        return (try XCTUnwrap(packet.data?["sid"]?.stringValue), try XCTUnwrap(packet.data?["pid"]?.stringValue))
    }

    /// The texts of the `note` events received, and the offset of the last one.
    func notes(_ client: RawClient) -> (texts: [String], offset: String?) {
        let notes = client.received().events.filter { $0.name == "note" }
        return (notes.compactMap { $0.args.first?.stringValue }, notes.last?.args.last?.stringValue)
    }

    func testAClientBackWithinTheWindowGetsItsIdRoomsAndEverythingItMissedInOrder() async throws {
        try await start()
        let first = try await client()
        let (sid, pid) = try ids(try await first.connectNamespace(auth: #"{"user":"u1","room":"r"}"#))
        let joined = try await first.call("join", "later")
        XCTAssertEqual(joined, true)
        server.sockets.to("r").emit("note", "one")
        try await first.waitForEvent("note")
        let seen = notes(first)
        XCTAssertEqual(seen.texts, ["one"])
        let offset = try XCTUnwrap(seen.offset, "a broadcast carries its offset as the last argument")
        XCTAssertNotEqual(offset, "one")

        await first.close()
        try await waitUntilGone(sid)
        server.sockets.to("r").emit("note", "two")
        server.sockets.to("later").emit("note", "three")
        server.sockets.to("elsewhere").emit("note", "not for it")
        server.sockets.to("r").except("r").emit("note", "excluded")

        let second = try await client()
        let reply = try await second.connectNamespace(auth: #"{"user":"u1","pid":"\#(pid)","offset":"\#(offset)"}"#)
        XCTAssertEqual(try ids(reply).sid, sid, "the same socket id")
        XCTAssertEqual(try ids(reply).pid, pid)
        try await second.waitForEvent("note", count: 2)
        XCTAssertEqual(notes(second).texts, ["two", "three"], "what it missed, in order, and only that")
        let recovered = await events.waitFor("recovered \(sid)", timeout: .seconds(2))
        XCTAssertTrue(recovered, "handlers see socket.recovered")
        // Its rooms are back: the room it joined later too.
        server.sockets.to("later").emit("note", "four")
        try await second.waitForEvent("note", count: 3)
        XCTAssertEqual(notes(second).texts, ["two", "three", "four"])
    }

    func testUnknownPidOrOffsetAnotherOwnerOrTooLateIsAFreshConnection() async throws {
        try await start(window: .seconds(1))
        // Unknown pid.
        let stranger = try await client()
        let (strangerSid, _) = try ids(try await stranger.connectNamespace(auth: #"{"user":"u1","pid":"nope","offset":"x-1"}"#))
        let fresh = await events.waitFor("fresh \(strangerSid)", timeout: .seconds(2))
        XCTAssertTrue(fresh)

        let owner = try await client()
        let (sid, pid) = try ids(try await owner.connectNamespace(auth: #"{"user":"owner","room":"r"}"#))
        server.sockets.to("r").emit("note", "one")
        try await owner.waitForEvent("note")
        let offset = try XCTUnwrap(notes(owner).offset)
        await owner.close()
        try await waitUntilGone(sid)
        server.sockets.to("r").emit("note", "secret")

        // Someone else presenting the owner's pid: a fresh socket, nothing replayed, no rooms.
        let thief = try await client()
        let (thiefSid, _) = try ids(try await thief.connectNamespace(auth: #"{"user":"thief","pid":"\#(pid)","offset":"\#(offset)"}"#))
        XCTAssertNotEqual(thiefSid, sid)
        let silent = await thief.staysSilent(for: .milliseconds(300))
        XCTAssertTrue(silent)
        XCTAssertEqual(notes(thief).texts, [])
        XCTAssertEqual(server.sockets.socket(thiefSid)?.rooms, [thiefSid])

        // The owner still can, within the window.
        let back = try await client()
        let backReply = try await back.connectNamespace(auth: #"{"user":"owner","pid":"\#(pid)","offset":"\#(offset)"}"#)
        XCTAssertEqual(try ids(backReply).sid, sid)
        try await back.waitForEvent("note")
        XCTAssertEqual(notes(back).texts, ["secret"])
        let backOffset = try XCTUnwrap(notes(back).offset)

        // Away longer than the window: fresh.
        await back.close()
        try await waitUntilGone(sid)
        try await Task.sleep(for: .milliseconds(1_300))
        let late = try await client()
        let lateReply = try await late.connectNamespace(auth: #"{"user":"owner","pid":"\#(pid)","offset":"\#(backOffset)"}"#)
        XCTAssertNotEqual(try ids(lateReply).sid, sid)
    }

    func testAServerDisconnectIsNotRecoverable() async throws {
        try await start()
        let c = try await client()
        let (sid, pid) = try ids(try await c.connectNamespace(auth: #"{"user":"u","room":"r"}"#))
        server.sockets.to("r").emit("note", "one")
        try await c.waitForEvent("note")
        let offset = try XCTUnwrap(notes(c).offset)
        server.sockets.socket(sid)?.disconnect()
        try await waitUntilGone(sid)
        let again = try await client()
        let againReply = try await again.connectNamespace(auth: #"{"user":"u","pid":"\#(pid)","offset":"\#(offset)"}"#)
        XCTAssertNotEqual(try ids(againReply).sid, sid)
    }

    func testOffsetsOnlyForClientsThatAskWhenSoConfigured() async throws {
        try await start(offsets: .socketsThatAsk)
        let plain = try await client()
        _ = try await plain.connectNamespace(auth: #"{"user":"a","room":"r"}"#)
        let asking = try await client()
        _ = try await asking.connectNamespace(auth: #"{"user":"b","room":"r","recover":true}"#)
        server.sockets.to("r").emit("note", "hello")
        try await plain.waitForEvent("note")
        try await asking.waitForEvent("note")
        XCTAssertEqual(plain.received().events.first { $0.name == "note" }?.args, ["hello"], "no extra argument for a client that did not ask")
        XCTAssertEqual(asking.received().events.first { $0.name == "note" }?.args.count, 2)
    }

    func testTheSwiftClientRecoversAfterALostConnection() async throws {
        try await start()
        var options = SocketIOClient.Options(url: "http://127.0.0.1:\(port)")
        options.auth = ["user": "swift", "room": "r"]
        options.reconnect = true
        options.recover = true
        let client = SocketIOClient(options: options, group: app.eventLoopGroup)
        let notes = NIOLockedValueBox<[[SocketValue]]>([])
        client.on("note") { args in notes.withLockedValue { $0.append(args) } }
        try await client.connect()
        let sid = try XCTUnwrap(client.socketID)
        server.sockets.to("r").emit("note", "one")
        try await waitFor { notes.withLockedValue { $0.count } == 1 }
        // The connection drops (as a lost network does); the client reconnects by itself.
        server.sockets.socket(sid)?.client.session.close(reason: "transport close")
        try await waitUntilGone(sid)
        server.sockets.to("r").emit("note", "two")
        server.sockets.to("r").emit("note", "three")
        try await waitFor { notes.withLockedValue { $0.count } == 3 }
        XCTAssertEqual(notes.withLockedValue { $0 }, [["one"], ["two"], ["three"]], "in order, offsets taken off")
        XCTAssertTrue(client.recovered)
        XCTAssertEqual(client.socketID, sid)
        client.disconnect()
    }

    private func waitFor(_ condition: @escaping @Sendable () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() {
            guard ContinuousClock.now < deadline else { XCTFail("condition not met in time"); return }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func testTheReplayLogIsBounded() async throws {
        let store = RecoveryStore(ConnectionStateRecovery(maxPackets: 3))
        let packet = EncodedPacket(SocketPacket(.event, data: ["note", "x"]))
        let offsets = (0..<5).map { _ in store.stamped(packet, number: store.append(packet, options: BroadcastOptions(rooms: ["r"]))).offset! }
        store.persist(RecoverableSession(pid: "p", socketID: "s", rooms: ["r"], storage: [:], key: nil, disconnectedAt: .now()))
        XCTAssertNil(store.take(pid: "p", offset: offsets[0]), "an offset no longer kept cannot be replayed from")
        let taken = try XCTUnwrap(store.take(pid: "p", offset: offsets[1]))
        XCTAssertEqual(store.missed(after: taken.after, rooms: ["r"]).map(\.offset), Array(offsets[2...]))
    }

    /// Until the server has seen the socket's connection end.
    private func waitUntilGone(_ sid: String) async throws {
        let deadline = ContinuousClock.now + .seconds(3)
        while server.sockets.socket(sid) != nil {
            guard ContinuousClock.now < deadline else { XCTFail("condition not met in time"); return }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
