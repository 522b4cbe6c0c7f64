import Fluent
import NIOConcurrencyHelpers
import SocketIO
import SocketIOTestClient
import XCTVapor
@testable import ChatrServer

/// SPEC §7 over real WebSockets against the running app.
final class RealtimeTests: ChatrTestCase {
    var port = 0
    var ann: (id: String, token: String)!
    var bob: (id: String, token: String)!

    override func setUp() async throws {
        try await super.setUp()
        ann = try await makeUser("ann", displayName: "Ann")
        bob = try await makeUser("bob", displayName: "Bob")
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        port = try XCTUnwrap(app.http.server.shared.localAddress?.port)
    }

    override func tearDown() async throws {
        try await shutDown()
        try? FileManager.default.removeItem(atPath: uploadsDirectory)
    }

    /// As in a real shutdown: sessions close, then the HTTP server stops, then the app.
    func shutDown() async throws {
        guard let app else { return }
        await app.socketIOServer?.shutdownGracefully()
        await app.server.shutdown()
        try await app.asyncShutdown()
        self.app = nil
    }

    func testTheSocketServerIsFreedWithTheApp() async throws {
        // Handlers live in the namespace and capture what they use: none may keep it alive.
        let client = try await connect(ann.token)
        weak var namespace = app.socketIOServer?.sockets
        XCTAssertNotNil(namespace)
        try await shutDown()
        _ = client
        XCTAssertNil(namespace, "the namespace outlived its application (a reference cycle through its handlers)")
    }

    /// A signed-in socket (the CONNECT payload carries the token).
    func connect(_ token: String, file: StaticString = #filePath, line: UInt = #line) async throws -> RawClient {
        let client = try await RawClient.connect(port: port, group: app.eventLoopGroup)
        let answer = try await client.connectNamespace(auth: #"{"token":"\#(token)"}"#)
        XCTAssertTrue(answer.hasPrefix("40{"), answer, file: file, line: line)
        _ = try await client.waitForEvent("presence:update")
        return client
    }

    /// A socket that has sent CONNECT and passed Chatr's middleware (authenticated, rooms joined)
    /// but is held by one more middleware until `open.yield()`: not yet told it is connected.
    func connectHeldAtTheGate(_ token: String) async throws -> (RawClient, AsyncStream<Void>.Continuation) {
        let reached = NIOLockedValueBox(false)
        let (gate, open) = AsyncStream.makeStream(of: Void.self)
        app.socketIOServer!.sockets.use { _ in
            reached.withLockedValue { $0 = true }
            for await _ in gate { break }
        }
        let client = try await RawClient.connect(port: port, group: app.eventLoopGroup)
        client.send(#"40{"token":"\#(token)"}"#)
        let deadline = ContinuousClock.now + .seconds(5)
        while !reached.withLockedValue({ $0 }) && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        XCTAssertTrue(reached.withLockedValue { $0 }, "the socket reached the gate")
        return (client, open)
    }

    func testAuthenticationAtConnect() async throws {
        for auth in [#"{"token":"garbage"}"#, "{}", #"{"token":42}"#] {
            let client = try await RawClient.connect(port: port, group: app.eventLoopGroup)
            let answer = try await client.connectNamespace(auth: auth)
            XCTAssertEqual(answer, #"44{"message":"Authentication error"}"#, auth)
        }
        // ?token= works too, and so does a revoked token not.
        let byQuery = try await RawClient.connect(port: port, group: app.eventLoopGroup, query: "&token=\(ann.token)")
        let accepted = try await byQuery.connectNamespace()
        XCTAssertTrue(accepted.hasPrefix("40{"), accepted)
        _ = try await send(.POST, "/api/auth/logout", token: bob.token)
        let revoked = try await RawClient.connect(port: port, group: app.eventLoopGroup)
        let refused = try await revoked.connectNamespace(auth: #"{"token":"\#(bob.token)"}"#)
        XCTAssertEqual(refused, #"44{"message":"Authentication error"}"#)
    }

    /// A message sent to a user while their socket is still connecting (authenticated, rooms
    /// joined, CONNECT not yet answered) reaches that socket, right after its CONNECT reply.
    func testAMessageSentWhileTheSocketConnectsArrives() async throws {
        let (client, open) = try await connectHeldAtTheGate(ann.token)
        let sent = try await send(.POST, "/api/messages", json: ["recipientId": .string(ann.id), "content": "while you connect"], token: bob.token)
        XCTAssertEqual(sent.status, .created, sent.text)
        open.yield()
        let connect = try await client.nextText()
        XCTAssertTrue(connect.hasPrefix("40{"), connect)
        let received = try await client.waitForEvent("message:received")
        XCTAssertEqual(received.first?["content"], "while you connect")
    }

    /// Signing out while a socket of that session is still connecting: it is refused, not left
    /// half-connected (no CONNECT, no presence, events still handled).
    func testASocketWhoseSessionEndsWhileItConnectsIsRefused() async throws {
        let (client, open) = try await connectHeldAtTheGate(ann.token)
        let logout = try await send(.POST, "/api/auth/logout", token: ann.token)
        XCTAssertEqual(logout.status, .ok)
        open.yield()
        let answer = try await client.nextText()
        XCTAssertEqual(answer, #"44{"message":"Connection refused"}"#)
        XCTAssertFalse(services.presence.isConnected(UUID(uuidString: ann.id)!), "never counted as online")
    }

    func testLogoutDisconnectsThatSessionsSocketsOnly() async throws {
        let annPhone = try await connect(ann.token)
        let annLaptopToken = try await signIn("ann")
        let annLaptop = try await connect(annLaptopToken)

        let response = try await send(.POST, "/api/auth/logout", token: ann.token)
        XCTAssertEqual(response.status, .ok)

        // The phone's socket gets DISCONNECT at once; the laptop (another session) stays.
        let phoneDisconnected = await annPhone.waitForFrame("41")
        XCTAssertTrue(phoneDisconnected, "the signed-out session's socket gets DISCONNECT")
        XCTAssertFalse(annLaptop.allFrames.contains(.text("41")))
        let ack = try await annLaptop.call("presence:request", .array([.string(bob.id)]))
        XCTAssertEqual(ack["ok"], true, "the other session still works")
    }

    func testPasswordResetDisconnectsEverySocketOfTheUser() async throws {
        let annPhone = try await connect(ann.token)
        let bobPhone = try await connect(bob.token)
        _ = try await send(.POST, "/api/auth/forgot-password", json: ["email": .string("ann@example.com")])
        let code = try XCTUnwrap(app.chatr.outbox.all.last { $0.to == "ann@example.com" }?.code)
        let reset = try await send(.POST, "/api/auth/reset-password", json: ["email": .string("ann@example.com"), "code": .string(code), "newPassword": .string("Another-pass1")])
        XCTAssertEqual(reset.status, .ok)
        let phoneDisconnected = await annPhone.waitForFrame("41")
        XCTAssertTrue(phoneDisconnected, "every session of the user ends")
        XCTAssertFalse(bobPhone.allFrames.contains(.text("41")), "other users are not touched")
    }

    /// What ends a session behind the server's back (an admin command, an expiry) reaches open
    /// sockets at the next sweep; valid sessions are untouched.
    func testTheSessionSweepDisconnectsSocketsWhoseSessionEnded() async throws {
        let annPhone = try await connect(ann.token)
        let bobPhone = try await connect(bob.token)
        let annLaptopToken = try await signIn("ann")
        let annLaptop = try await connect(annLaptopToken)
        let sweptNothing = await SessionSweeper.sweep(app)
        XCTAssertEqual(sweptNothing, 0)

        // `chatr user disable` changes only the database.
        try await User.query(on: app.db).filter(\.$id == UUID(uuidString: ann.id)!).set(\.$disabledAt, to: Date()).update()
        let swept = await SessionSweeper.sweep(app)
        XCTAssertEqual(swept, 2, "both of ann's sockets")
        let phoneDisconnected = await annPhone.waitForFrame("41")
        let laptopDisconnected = await annLaptop.waitForFrame("41")
        XCTAssertTrue(phoneDisconnected && laptopDisconnected)
        XCTAssertFalse(bobPhone.allFrames.contains(.text("41")))

        // An expired session too.
        try await Session.query(on: app.db).set(\.$expiresAt, to: Date().addingTimeInterval(-1)).update()
        let expired = await SessionSweeper.sweep(app)
        XCTAssertEqual(expired, 1)
        let bobDisconnected = await bobPhone.waitForFrame("41")
        XCTAssertTrue(bobDisconnected)
    }

    func testDirectMessageFlowAcrossDevices() async throws {
        let annPhone = try await connect(ann.token)
        let annLaptop = try await connect(ann.token)
        let bobPhone = try await connect(bob.token)

        let ack = try await annPhone.call("message:send", ["recipientId": .string(bob.id), "content": "Hello Bob", "clientMessageId": "m-1"])
        XCTAssertEqual(ack["ok"], true)
        let message = try XCTUnwrap(ack["message"])
        XCTAssertEqual(message["content"], "Hello Bob")
        XCTAssertEqual(message["status"], "delivered", "Bob is online")

        let received = try await bobPhone.waitForEvent("message:received")
        XCTAssertEqual(received.first?["id"], message["id"])
        XCTAssertEqual(received.first?["senderUsername"], "@ann")
        let sentOnLaptop = try await annLaptop.waitForEvent("message:sent")
        XCTAssertEqual(sentOnLaptop.first?["id"], message["id"], "the sender's other device sees it too")

        // A retried clientMessageId gives the same message and no second delivery.
        let retry = try await annPhone.call("message:send", ["recipientId": .string(bob.id), "content": "Hello Bob", "clientMessageId": "m-1"])
        XCTAssertEqual(retry["message"]?["id"], message["id"])
        let stillOne = await bobPhone.staysSilent(for: .milliseconds(200)) || bobPhone.count("message:received") == 1
        XCTAssertTrue(stillOne)
        XCTAssertEqual(bobPhone.count("message:received"), 1)

        let messageID = try XCTUnwrap(message["id"])
        bobPhone.emit("message:received", messageID)
        bobPhone.emit("message:read", messageID)
        let read = try await annLaptop.waitForEvent("message:status", count: 1)
        XCTAssertEqual(read.first?["status"], "read", "delivered was already set at send; read follows")
        XCTAssertNotNil(read.first?["readAt"]?.stringValue)

        let reaction = try await bobPhone.call("message:react", ["messageId": messageID, "emoji": "🎉"])
        XCTAssertEqual(reaction["ok"], true)
        let reacted = try await annPhone.waitForEvent("message:reaction")
        XCTAssertEqual(reacted.first?["reactions"]?[0]?["emoji"], "🎉")

        let edit = try await annPhone.call("message:edit", ["messageId": messageID, "content": "Hello, Bob!"])
        XCTAssertEqual(edit["ok"], true)
        let edited = try await bobPhone.waitForEvent("message:edited")
        XCTAssertEqual(edited.first?["content"], "Hello, Bob!")

        let unsend = try await annPhone.call("message:unsend", messageID)
        XCTAssertEqual(unsend["ok"], true)
        let unsent = try await bobPhone.waitForEvent("message:unsent")
        XCTAssertEqual(unsent.first?["senderDisplayName"], "Ann")
    }

    func testRESTSendReachesTheRecipientsSocket() async throws {
        let bobPhone = try await connect(bob.token)
        let reply = try await send(.POST, "/api/messages", json: ["recipientId": .string(bob.id), "content": "via REST"], token: ann.token)
        XCTAssertEqual(reply.status, .created)
        let received = try await bobPhone.waitForEvent("message:received")
        XCTAssertEqual(received.first?["content"], "via REST")
    }

    func testSocketsJoinAConversationCreatedAfterTheyConnected() async throws {
        let bobSocket = try await connect(bob.token)
        let annSocket = try await connect(ann.token)
        let sent = try await send(.POST, "/api/messages", json: ["recipientId": .string(bob.id), "content": "first ever"], token: ann.token)
        XCTAssertEqual(sent.status, .created)
        _ = try await bobSocket.waitForEvent("message:received")
        let edit = try await annSocket.call("message:edit", ["messageId": .string(sent.json["id"]!.string!), "content": "first ever!"])
        XCTAssertEqual(edit["ok"], true)
        let edited = try await bobSocket.waitForEvent("message:edited")
        XCTAssertEqual(edited.first?["content"], "first ever!", "conversation events reach sockets that predate it")
        let events = annSocket.received().events.map(\.name)
        XCTAssertTrue(events.contains("message:edited"), "and the editor's own sockets: \(events)")
    }

    func testUploadsAreDeliveredOnceAndWaveformsAnnounced() async throws {
        let bobSocket = try await connect(bob.token)
        let annSocket = try await connect(ann.token)
        let ogg: [UInt8] = Array("OggS".utf8) + Array(repeating: 7, count: 64)
        let uploaded = try await upload("/api/messages/upload", field: "file", filename: "voice.ogg", contentType: "audio/ogg", data: ogg,
                                        fields: ["recipientId": bob.id, "type": "voice", "duration": "2"], token: ann.token)
        XCTAssertEqual(uploaded.status, .created)
        let id = try XCTUnwrap(uploaded.json["messageId"]?.string)
        let received = try await bobSocket.waitForEvent("message:received")
        XCTAssertEqual(received.first?["id"]?.stringValue, id)
        XCTAssertEqual(received.first?["type"], "voice")

        let ack = try await annSocket.call("message:send", ["messageId": .string(id)])
        XCTAssertEqual(ack["ok"], true)
        XCTAssertEqual(ack["message"]?["id"]?.stringValue, id)
        _ = await bobSocket.staysSilent(for: .milliseconds(300))  // time for a second delivery, if any
        XCTAssertEqual(bobSocket.count("message:received"), 1, "the upload was delivered once, not again by message:send")

        let patched = try await send(.PATCH, "/api/messages/\(id)/waveform", json: ["waveform": [0.1, 0.9], "duration": 2.5], token: ann.token)
        XCTAssertEqual(patched.status, .ok)
        let waveform = try await bobSocket.waitForEvent("audio:waveform")
        XCTAssertEqual(waveform.first?["waveform"], [0.1, 0.9])
        XCTAssertEqual(waveform.first?["messageId"]?.stringValue, id)

        let listening = try await bobSocket.call("audio:listening", ["messageId": .string(id), "isListening": true])
        XCTAssertEqual(listening["ok"], true)
        let heard = try await annSocket.waitForEvent("audio:listening")
        XCTAssertEqual(heard.first?["isListening"], true)
        _ = try await bobSocket.call("audio:listening", ["messageId": .string(id), "isListening": false, "isEnded": true])
        let status = try await annSocket.waitForEvent("message:status", count: 2)
        XCTAssertEqual(status.first?["status"], "listened")
    }

    /// A changed name, bio or photo reaches everyone who shares a conversation with its owner (an
    /// open chat redraws it) and the owner's other devices — once each; strangers hear nothing.
    func testProfileChangesReachEveryoneWhoSharesAConversation() async throws {
        let carol = try await makeUser("carol", displayName: "Carol")
        let dave = try await makeUser("dave", displayName: "Dave")
        let direct = try await send(.POST, "/api/messages", json: ["recipientId": .string(bob.id), "content": "hi"], token: ann.token)
        XCTAssertEqual(direct.status, .created)
        let group = try await send(.POST, "/api/groups", json: ["name": "Crew", "memberIds": [.string(bob.id), .string(dave.id)]], token: ann.token)
        XCTAssertEqual(group.status, .created)
        let bobSocket = try await connect(bob.token)
        let daveSocket = try await connect(dave.token)
        let carolSocket = try await connect(carol.token)
        let annLaptop = try await connect(ann.token)

        let updated = try await send(.PUT, "/api/users/me", json: ["displayName": "Ann Lee", "bio": "Tea first"], token: ann.token)
        XCTAssertEqual(updated.status, .ok)
        for socket in [bobSocket, daveSocket, annLaptop] {
            let event = try await socket.waitForEvent("user:updated")
            XCTAssertEqual(event.first?["user"]?["id"]?.stringValue, ann.id)
            XCTAssertEqual(event.first?["user"]?["displayName"], "Ann Lee")
            XCTAssertEqual(event.first?["user"]?["bio"], "Tea first")
            XCTAssertNil(event.first?["user"]?["email"] ?? nil, "no private fields")
        }
        let photo = try await upload("/api/users/profile-image", field: "profileImage", filename: "me.png", contentType: "image/png",
                                     data: ImageUploadTests.png, token: ann.token)
        XCTAssertEqual(photo.status, .ok)
        let withPhoto = try await bobSocket.waitForEvent("user:updated", count: 2)
        XCTAssertEqual(withPhoto.first?["user"]?["profileImage"]?.stringValue, photo.json["profileImage"]?.string)
        // Only what others see announces anything.
        _ = try await send(.PUT, "/api/users/me", json: ["showOnlineStatus": false], token: ann.token)
        let removed = try await send(.DELETE, "/api/users/profile-image", token: ann.token)
        XCTAssertEqual(removed.status, .ok)
        _ = try await bobSocket.waitForEvent("user:updated", count: 3)
        _ = await bobSocket.staysSilent(for: .milliseconds(300))
        XCTAssertEqual(bobSocket.count("user:updated"), 3, "bob shares two conversations with ann and hears each change once")
        XCTAssertEqual(annLaptop.count("user:updated"), 3)
        XCTAssertEqual(carolSocket.count("user:updated"), 0, "a stranger hears nothing")
    }

    func testAuthorizationHeader() async throws {
        let client = try await RawClient.connect(port: port, group: app.eventLoopGroup, headers: ["Authorization": "Bearer \(ann.token)"])
        let answer = try await client.connectNamespace()
        XCTAssertTrue(answer.hasPrefix("40{"), answer)
    }

    func testTypingGhostTypingAndExpiry() async throws {
        _ = try await send(.POST, "/api/messages", json: ["recipientId": .string(bob.id), "content": "hi"], token: ann.token)
        let annSocket = try await connect(ann.token)
        let bobSocket = try await connect(bob.token)
        let started = try await annSocket.call("typing:start", ["recipientId": .string(bob.id)])
        XCTAssertEqual(started["ok"], true)
        let typing = try await bobSocket.waitForEvent("typing:status")
        XCTAssertEqual(typing.first?["isTyping"], true)
        XCTAssertEqual(typing.first?["username"], "@ann")
        XCTAssertEqual(typing.first?["type"], "direct")
        XCTAssertEqual(annSocket.count("typing:status"), 0, "not echoed to the typist")
        annSocket.emit("typing:stop", ["recipientId": .string(bob.id)])
        let stopped = try await bobSocket.waitForEvent("typing:status", count: 2)
        XCTAssertEqual(stopped.first?["isTyping"], false)

        let ghost = try await annSocket.call("ghost:typing", ["recipientId": .string(bob.id), "text": "I was thinking"])
        XCTAssertEqual(ghost["ok"], true)
        let seen = try await bobSocket.waitForEvent("ghost:typing")
        XCTAssertEqual(seen.first?["text"], "I was thinking")
        let tooLong = try await annSocket.call("ghost:typing", ["recipientId": .string(bob.id), "text": .string(String(repeating: "g", count: 1001))])
        XCTAssertEqual(tooLong["ok"], false)
        let stored = try await Message.query(on: app.db).count()
        XCTAssertEqual(stored, 1, "ghost text is never stored")
    }

    func testPresenceGoesToContactsOnly() async throws {
        _ = try await send(.POST, "/api/messages", json: ["recipientId": .string(bob.id), "content": "hi"], token: ann.token)
        // Ann and Bob also share a group: each status change still reaches Ann once.
        let group = try await send(.POST, "/api/groups", json: ["name": "Both", "memberIds": [.string(bob.id)]], token: ann.token)
        XCTAssertEqual(group.status, .created)
        let cat = try await makeUser("cat")
        let annSocket = try await connect(ann.token)
        let catSocket = try await connect(cat.token)
        let bobSocket = try await connect(bob.token)
        let online = try await annSocket.waitForEvent("user:status")
        XCTAssertEqual(online.first?["userId"]?.stringValue, bob.id)
        XCTAssertEqual(online.first?["status"], "online")
        _ = await annSocket.staysSilent(for: .milliseconds(200))
        XCTAssertEqual(annSocket.count("user:status"), 1, "one event, though they share two conversations")

        let update = bobSocket.received().events.first { $0.name == "presence:update" }?.args.first
        XCTAssertEqual(update?["status"], "online")
        XCTAssertEqual(update?["onlineUsers"]?.arrayValue?.compactMap { $0["userId"]?.stringValue }, [ann.id])

        let away = try await bobSocket.call("presence:update", "away")
        XCTAssertEqual(away["ok"], true)
        let awayEvent = try await annSocket.waitForEvent("user:status", count: 2)
        XCTAssertEqual(awayEvent.first?["status"], "away")

        await bobSocket.close()
        let offline = try await annSocket.waitForEvent("user:status", count: 3)
        XCTAssertEqual(offline.first?["status"], "offline")
        XCTAssertNotNil(offline.first?["lastSeen"]?.stringValue)
        let bobRow = try await User.find(UUID(uuidString: bob.id), on: app.db)
        XCTAssertNotNil(bobRow?.lastSeen)
        XCTAssertEqual(catSocket.count("user:status"), 0, "presence is not broadcast to strangers")

        let answer = try await annSocket.call("presence:request", [.string(bob.id), .string(cat.id)])
        XCTAssertEqual(answer["ok"], true)
        let response = try await annSocket.waitForEvent("presence:response")
        let statuses = Dictionary(uniqueKeysWithValues: (response.first?.arrayValue ?? []).compactMap { item in
            item["userId"]?.stringValue.map { ($0, item["status"]?.stringValue ?? "") }
        })
        // Cat is online but shares no conversation with Ann: a stranger sees a hidden user, as for
        // an id nobody has.
        let nobody = UUID().uuidString
        let strangers = try await annSocket.call("presence:request", [.string(cat.id), .string(nobody)])
        XCTAssertEqual(statuses, [bob.id: "offline", cat.id: "offline"])
        XCTAssertEqual(strangers["users"]?.arrayValue?.compactMap { $0["status"]?.stringValue }, ["offline", "offline"])
        XCTAssertEqual(strangers["users"]?.arrayValue?.compactMap { $0["lastSeen"] }, [.null, .null])
        _ = try await send(.POST, "/api/messages", json: ["recipientId": .string(cat.id), "content": "hello cat"], token: ann.token)
        let contact = try await annSocket.call("presence:request", [.string(cat.id)])
        XCTAssertEqual(contact["users"]?[0]?["status"], "online", "once they share a conversation, Ann sees Cat online")
        let tooMany = try await annSocket.call("presence:request", .array(Array(repeating: .string(bob.id), count: 10_000)))
        XCTAssertEqual(tooMany["ok"], false)
    }

    func testStrangersSeeEachOtherOnlineFromTheirFirstMessage() async throws {
        let annSocket = try await connect(ann.token)
        let bobSocket = try await connect(bob.token)
        let before = try await annSocket.call("presence:request", [.string(bob.id)])
        XCTAssertEqual(before["users"]?[0]?["status"], "offline", "strangers")
        let first = try await annSocket.call("message:send", ["recipientId": .string(bob.id), "content": "hello stranger"])
        XCTAssertEqual(first["ok"], true)
        let bobSeen = try await annSocket.waitForEvent("user:status")
        XCTAssertEqual(bobSeen.first?["userId"]?.stringValue, bob.id)
        XCTAssertEqual(bobSeen.first?["status"], "online")
        let annSeen = try await bobSocket.waitForEvent("user:status")
        XCTAssertEqual(annSeen.first?["userId"]?.stringValue, ann.id)
        let after = try await annSocket.call("presence:request", [.string(bob.id)])
        XCTAssertEqual(after["users"]?[0]?["status"], "online")
        let own = try await annSocket.call("presence:request", [.string(ann.id)])
        XCTAssertEqual(own["users"]?[0]?["status"], "online", "one's own presence is no secret")
    }

    func testHiddenUsersAlwaysAppearOffline() async throws {
        _ = try await send(.POST, "/api/messages", json: ["recipientId": .string(bob.id), "content": "hi"], token: ann.token)
        let annSocket = try await connect(ann.token)
        let bobSocket = try await connect(bob.token)
        _ = try await annSocket.waitForEvent("user:status")
        let hidden = try await bobSocket.call("settings:update", ["showOnlineStatus": false])
        XCTAssertEqual(hidden["ok"], true)
        let offline = try await annSocket.waitForEvent("user:status", count: 2)
        XCTAssertEqual(offline.first?["status"], "offline")
        let answer = try await annSocket.call("presence:request", [.string(bob.id)])
        XCTAssertEqual(answer["users"]?[0]?["status"], "offline")
        let stored = try await User.find(UUID(uuidString: bob.id), on: app.db)
        XCTAssertEqual(stored?.showOnlineStatus, false)
    }

    func testBadPayloadsGetAClearErrorAndTheSocketStays() async throws {
        let socket = try await connect(ann.token)
        let cases: [SocketValue] = [
            ["recipientId": .string(bob.id), "content": 5],
            ["recipientId": .string(bob.id)],
            ["recipientId": .string(ann.id), "content": "me"],
            ["recipientId": .string(UUID().uuidString), "content": "nobody"],
            "just a string",
        ]
        for payload in cases {
            let answer = try await socket.call("message:send", payload)
            XCTAssertEqual(answer["ok"], false, "\(payload)")
            XCTAssertNotNil(answer["error"]?.stringValue)
        }
        socket.emit("message:send", ["recipientId": .string(bob.id), "content": 5])
        let error = try await socket.waitForEvent("error")
        XCTAssertNotNil(error.first?["message"]?.stringValue, "without an ack the failure arrives as an error event")
        let react = try await socket.call("message:react", ["messageId": .string(UUID().uuidString), "emoji": .string(String(repeating: "x", count: 500))])
        XCTAssertEqual(react["ok"], false)
        let fine = try await socket.call("message:send", ["recipientId": .string(bob.id), "content": "still connected"])
        XCTAssertEqual(fine["ok"], true)
        let count = try await Message.query(on: app.db).count()
        XCTAssertEqual(count, 1)
    }

    func testFloodsAreRateLimited() async throws {
        let socket = try await connect(ann.token)
        for index in 0..<100 { socket.emit("presence:update", "online", ack: 5000 + index) }
        let deadline = ContinuousClock.now + .seconds(5)
        while socket.received().acks.count < 100 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let refusals = socket.received().acks.values.filter { $0.first?["ok"] == false }
        XCTAssertGreaterThan(refusals.count, 0, "a burst over the limit is refused")
        XCTAssertEqual(refusals.first?.first?["error"], "Too many events; slow down")
        XCTAssertEqual(refusals.first?.first?["code"], "rate_limited")
        XCTAssertFalse(socket.isClosed, "but the socket stays")
    }

    func testOneUsersSocketsShareOneBudget() async throws {
        _ = try await send(.POST, "/api/messages", json: ["recipientId": .string(bob.id), "content": "hi"], token: ann.token)
        // Five sockets, each well within its own burst of 60: together they are one user.
        var sockets: [RawClient] = []
        for _ in 0..<5 { sockets.append(try await connect(ann.token)) }
        let bobSocket = try await connect(bob.token)
        for (n, socket) in sockets.enumerated() {
            for index in 0..<40 {
                socket.emit("message:send", ["recipientId": .string(bob.id), "content": .string("flood \(n)-\(index)")], ack: 1000 + index)
            }
        }
        let deadline = ContinuousClock.now + .seconds(10)
        func answered() -> Int { sockets.reduce(0) { $0 + $1.received().acks.count } }
        while answered() < 200 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        XCTAssertEqual(answered(), 200)
        let accepted = sockets.reduce(0) { total, socket in total + socket.received().acks.values.filter { $0.first?["ok"] == true }.count }
        // The shared burst (60), plus what refills while the 200 arrive.
        XCTAssertGreaterThanOrEqual(accepted, 60)
        XCTAssertLessThan(accepted, 120, "200 sent over five sockets, but one user's budget holds")
        let stored = try await Message.query(on: app.db).filter(\.$content ~~ "flood").count()
        XCTAssertEqual(stored, accepted)
        // Bob, meanwhile, is not held back by Ann's flood.
        let reply = try await bobSocket.call("message:send", ["recipientId": .string(ann.id), "content": "calm"])
        XCTAssertEqual(reply["ok"], true)
    }
}
