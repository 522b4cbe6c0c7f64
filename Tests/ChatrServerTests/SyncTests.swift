import Fluent
import SocketIO
import SocketIOTestClient
import XCTVapor
@testable import ChatrServer

/// Gap-free sync (SPEC §6 `GET /api/sync`, §8): a client away for a while is brought, by the
/// change feed, to exactly the state a fresh load gives; and a socket back within the window is
/// recovered with what it missed. On SQLite, and on PostgreSQL with CHATR_TEST_DATABASE_URL.
final class SyncTests: ChatrTestCase {
    var port = 0
    var ann: (id: String, token: String)!
    var bob: (id: String, token: String)!
    var cat: (id: String, token: String)!

    override func setUp() async throws {
        try await super.setUp()
        ann = try await makeUser("ann", displayName: "Ann")
        bob = try await makeUser("bob", displayName: "Bob")
        cat = try await makeUser("cat", displayName: "Cat")
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        port = try XCTUnwrap(app.http.server.shared.localAddress?.port)
    }

    override func tearDown() async throws {
        await app.socketIOServer?.shutdownGracefully()
        await app.server.shutdown()
        try await super.tearDown()
    }

    // MARK: Helpers

    /// A signed-in socket asking for recovery offsets; returns it with its CONNECT reply.
    func connect(_ token: String, extra: String = "") async throws -> (RawClient, sid: String, pid: String) {
        let client = try await RawClient.connect(port: port, group: app.eventLoopGroup)
        let reply = try await client.connectNamespace(auth: #"{"token":"\#(token)","recover":true\#(extra)}"#)
        let (packet, _) = try SocketCodec.decode(String(reply.dropFirst()))
        _ = try await client.waitForEvent("presence:update")
        return (client, try XCTUnwrap(packet.data?["sid"]?.stringValue, reply), try XCTUnwrap(packet.data?["pid"]?.stringValue, reply))
    }

    func cursor(_ token: String) async throws -> String {
        let reply = try await send(.GET, "/api/sync", token: token)
        return try XCTUnwrap(reply.json["cursor"]?.string, reply.text)
    }

    func sendText(_ token: String, to recipient: String, _ content: String) async throws -> String {
        let reply = try await send(.POST, "/api/messages", json: ["recipientId": .string(recipient), "content": .string(content)], token: token)
        XCTAssertEqual(reply.status, .created, reply.text)
        return try XCTUnwrap(reply.json["id"]?.string)
    }

    func sendToGroup(_ token: String, _ group: String, _ content: String) async throws -> String {
        let reply = try await send(.POST, "/api/messages", json: ["groupId": .string(group), "content": .string(content)], token: token)
        XCTAssertEqual(reply.status, .created, reply.text)
        return try XCTUnwrap(reply.json["id"]?.string)
    }

    func createGroup(_ token: String, _ name: String, members: [String]) async throws -> (group: String, conversation: String) {
        let reply = try await send(.POST, "/api/groups", json: ["name": .string(name), "memberIds": .array(members.map { .string($0) })], token: token)
        XCTAssertEqual(reply.status, .created, reply.text)
        let id = try XCTUnwrap(reply.json["id"]?.string)
        let conversation = try await send(.GET, "/api/messages/conversations", token: token).json["conversations"]?.array?
            .first { $0["group"]?["id"]?.string == id }?["conversationId"]?.string
        return (id, try XCTUnwrap(conversation))
    }

    /// Every page after `since`: (entries, final cursor).
    func feed(_ token: String, since: String, limit: Int = 3) async throws -> ([JSONValue], String) {
        var entries: [JSONValue] = []
        var cursor = since
        for _ in 0..<200 {
            let page = try await send(.GET, "/api/sync?since=\(cursor)&limit=\(limit)", token: token)
            XCTAssertEqual(page.status, .ok, page.text)
            entries += page.json["changes"]?.array ?? []
            cursor = try XCTUnwrap(page.json["cursor"]?.string)
            if page.json["hasMore"] != .bool(true) { break }
        }
        return (entries, cursor)
    }

    /// What a client holds: the conversation list by id, and every conversation's messages by id.
    struct ClientState: Equatable {
        var conversations: [String: JSONValue] = [:]
        var messages: [String: [String: JSONValue]] = [:]
    }

    /// A fresh load, as a client starting now would see it.
    func freshState(_ token: String) async throws -> ClientState {
        var state = ClientState()
        for item in try await send(.GET, "/api/messages/conversations", token: token).json["conversations"]?.array ?? [] {
            let id = try XCTUnwrap(item["conversationId"]?.string)
            state.conversations[id] = item
            let history = try await send(.GET, "/api/messages/history?conversationId=\(id)&limit=200", token: token).json["messages"]?.array ?? []
            state.messages[id] = Dictionary(uniqueKeysWithValues: history.compactMap { message in message["id"]?.string.map { ($0, message) } })
        }
        return state
    }

    /// The feed applied the way clients apply it: messages upserted, list entries replaced,
    /// removed conversations dropped.
    func apply(_ entries: [JSONValue], to state: inout ClientState) throws {
        for entry in entries {
            switch entry["type"]?.string {
            case "message":
                let message = try XCTUnwrap(entry["message"])
                state.messages[try XCTUnwrap(message["conversationId"]?.string), default: [:]][try XCTUnwrap(message["id"]?.string)] = message
            case "conversation":
                let item = try XCTUnwrap(entry["conversation"])
                state.conversations[try XCTUnwrap(item["conversationId"]?.string)] = item
            case "conversation:removed":
                let id = try XCTUnwrap(entry["conversationId"]?.string)
                state.conversations[id] = nil
                state.messages[id] = nil
            default:
                XCTFail("unknown entry \(entry)")
            }
        }
    }

    // MARK: The feed

    func testAClientAwayIsBroughtToTheFreshStateByTheFeed() async throws {
        // Before the gap: a direct chat with Bob, a group with Bob and Cat, a group Ann will leave.
        let first = try await sendText(bob.token, to: ann.id, "Hello Ann")
        let mine = try await sendText(ann.token, to: bob.id, "Hi Bob")
        let (team, teamConversation) = try await createGroup(bob.token, "Team", members: [ann.id, cat.id])
        _ = try await sendToGroup(cat.token, team, "Morning team")
        let (old, oldConversation) = try await createGroup(bob.token, "Old", members: [ann.id])
        _ = try await sendToGroup(bob.token, old, "Soon gone")
        var state = try await freshState(ann.token)
        let since = try await cursor(ann.token)

        // While Ann is away: everything that changes what she sees.
        let (bobSocket, _, _) = try await connect(bob.token)
        let second = try await sendText(bob.token, to: ann.id, "Are you there?")
        let gone = try await sendText(bob.token, to: ann.id, "Oops, wrong chat")
        let value1 = try await bobSocket.call("message:edit", ["messageId": .string(first), "content": "Hello Ann (edited)"])["ok"]
        XCTAssertEqual(value1, true)
        let value2 = try await bobSocket.call("message:unsend", .string(gone))["ok"]
        XCTAssertEqual(value2, true)
        let value3 = try await bobSocket.call("message:react", ["messageId": .string(mine), "emoji": "👍"])["ok"]
        XCTAssertEqual(value3, true)
        let read = try await send(.POST, "/api/messages/read", json: ["otherUserId": .string(ann.id), "upToMessageId": .string(mine)], token: bob.token)
        XCTAssertEqual(read.status, .ok, read.text)
        for n in 1...4 { _ = try await sendToGroup(cat.token, team, "Team news \(n)") }
        let value4 = try await send(.PUT, "/api/groups/\(team)", json: ["name": "Team A"], token: bob.token).status
        XCTAssertEqual(value4, .ok)
        let (fresh, freshConversation) = try await createGroup(bob.token, "New", members: [ann.id])
        _ = try await sendToGroup(bob.token, fresh, "Welcome")
        let value5 = try await send(.DELETE, "/api/groups/\(old)/members/\(ann.id)", token: bob.token).status
        XCTAssertEqual(value5, .ok)
        _ = try await sendToGroup(bob.token, old, "After Ann left")
        // Ann's other device reads the group: her unread count there goes to zero.
        let otherDevice = try await signIn("ann")
        let teamLast = try await sendToGroup(cat.token, team, "Last one")
        let readTeam = try await send(.POST, "/api/messages/read", json: ["groupId": .string(team), "upToMessageId": .string(teamLast)], token: otherDevice)
        XCTAssertEqual(readTeam.status, .ok, readTeam.text)
        await bobSocket.close()
        // The server notes Bob's last seen time when it sees his socket go, a moment after the
        // close: wait for it, or the feed and the fresh load can read his card either side of it.
        try await eventually("Bob's last seen time is stored") {
            try await self.send(.GET, "/api/users/@bob", token: self.ann.token).json["lastSeen"]?.string != nil
        }

        // Back: the feed, in small pages, then the comparison with a fresh load, field by field.
        let (entries, next) = try await feed(ann.token, since: since)
        try apply(entries, to: &state)
        let expected = try await freshState(ann.token)
        XCTAssertEqual(Set(state.conversations.keys), Set(expected.conversations.keys))
        XCTAssertNil(state.conversations[oldConversation], "removed: gone from the list")
        XCTAssertNotNil(state.conversations[freshConversation], "added: in the list")
        for (id, item) in expected.conversations { XCTAssertEqual(state.conversations[id], item, "conversation \(id)") }
        for (id, messages) in expected.messages {
            XCTAssertEqual(Set(state.messages[id]?.keys ?? [:].keys), Set(messages.keys), "messages of \(id)")
            for (messageID, message) in messages { XCTAssertEqual(state.messages[id]?[messageID], message, "message \(messageID)") }
        }
        XCTAssertEqual(state.conversations[teamConversation]?["unreadCount"], 0, "read on another device")
        XCTAssertEqual(state.messages.values.flatMap(\.values).first { $0["id"]?.string == gone }?["unsent"], true)
        XCTAssertNotNil(state.messages.values.flatMap(\.values).first { $0["id"]?.string == second })
        // Nothing after Ann left the old group reached her.
        XCTAssertFalse(entries.contains { $0["message"]?["content"]?.string == "After Ann left" })
        // In one page, each message comes once however many times it changed (across small
        // pages it may come again, newer: applying it again is harmless).
        let (whole, _) = try await feed(ann.token, since: since, limit: 1_000)
        let ids = whole.compactMap { $0["message"]?["id"]?.string }
        XCTAssertEqual(ids.count, Set(ids).count, "no message twice in one page")
        XCTAssertEqual(Set(ids), Set(entries.compactMap { $0["message"]?["id"]?.string }))

        // Nothing new: an empty page, the same cursor.
        let again = try await send(.GET, "/api/sync?since=\(next)", token: ann.token)
        XCTAssertEqual(again.json["changes"], [])
        XCTAssertEqual(again.json["cursor"]?.string, next)
    }

    func testTheFeedNeverShowsOthersConversationsNorWhatCameBeforeJoiningOrAfterLeaving() async throws {
        let catSince = try await cursor(cat.token)
        let (group, conversation) = try await createGroup(ann.token, "Private", members: [bob.id])
        let early = try await sendToGroup(ann.token, group, "Before Cat")
        _ = try await sendText(ann.token, to: bob.id, "Just us two")
        // An old message changes after Cat joins: she may see its new state, as a member now.
        let value6 = try await send(.POST, "/api/groups/\(group)/members", json: ["userId": .string(cat.id)], token: ann.token).status
        XCTAssertEqual(value6, .ok)
        let late = try await sendToGroup(ann.token, group, "With Cat")
        let (entries, _) = try await feed(cat.token, since: catSince, limit: 100)
        let contents = entries.compactMap { $0["message"]?["content"]?.string }
        XCTAssertEqual(contents, ["added", "With Cat"], "nothing from before she joined (her notice is the first), nothing of others' chats")
        XCTAssertFalse(contents.contains("Before Cat"))
        XCTAssertTrue(entries.contains { $0["conversation"]?["conversationId"]?.string == conversation })
        // History agrees: members see it from when they joined (SPEC §6), and so does the list.
        let history = try await send(.GET, "/api/messages/history?groupId=\(group)", token: cat.token)
        XCTAssertEqual(history.json["messages"]?.array?.compactMap { $0["content"]?.string }, ["added", "With Cat"])
        let bobHistory = try await send(.GET, "/api/messages/history?groupId=\(group)", token: bob.token)
        XCTAssertEqual(bobHistory.json["messages"]?.array?.compactMap { $0["content"]?.string }, ["Before Cat", "added", "With Cat"])
        let catList = try await send(.GET, "/api/messages/conversations", token: cat.token)
        let item = catList.json["conversations"]?.array?.first { $0["conversationId"]?.string == conversation }
        XCTAssertEqual(item?["unreadCount"], 1, "only what came after she joined is unread")
        XCTAssertNotEqual(early, late)

        // Removed: the feed says so, and shows nothing sent afterwards.
        let catAgain = try await cursor(cat.token)
        let value7 = try await send(.DELETE, "/api/groups/\(group)/members/\(cat.id)", token: ann.token).status
        XCTAssertEqual(value7, .ok)
        _ = try await sendToGroup(ann.token, group, "Without Cat")
        let (after, _) = try await feed(cat.token, since: catAgain, limit: 100)
        XCTAssertEqual(after.map { $0["type"]?.string }, ["conversation:removed"])
        XCTAssertEqual(after.first?["conversationId"]?.string, conversation)
    }

    func testEveryReaderOfAGroupMessageReachesItsSenderThroughTheFeed() async throws {
        let (group, _) = try await createGroup(ann.token, "Readers", members: [bob.id, cat.id])
        let posted = try await sendToGroup(ann.token, group, "Read me")
        let since = try await cursor(ann.token)
        for reader in [bob.token, cat.token] {
            let read = try await send(.POST, "/api/messages/read", json: ["groupId": .string(group), "upToMessageId": .string(posted)], token: reader)
            XCTAssertEqual(read.status, .ok, read.text)
        }
        let (entries, _) = try await feed(ann.token, since: since, limit: 100)
        let synced = entries.last { $0["message"]?["id"]?.string == posted }?["message"]
        let history = try await send(.GET, "/api/messages/history?groupId=\(group)", token: ann.token).json["messages"]?.array?.first
        XCTAssertEqual(synced?["readBy"]?.array?.count, 2, "both readers, not only the first")
        XCTAssertEqual(synced, history)
    }

    func testBadCursorsAreRefusedAndPrunedOnesAreGone() async throws {
        let since = try await cursor(ann.token)
        _ = try await sendText(bob.token, to: ann.id, "one")
        let now = try await cursor(ann.token)
        let seq = try XCTUnwrap(Int64(now.split(separator: ".")[0]))
        for bad in ["abc", "5", "5.deadbeefdeadbeef", "\(seq + 1).\(now.split(separator: ".")[1])", "99999999999999999999.00",
                    services.syncCursors.string(for: seq + 1_000), "-1.00", "%00"] {
            let reply = try await send(.GET, "/api/sync?since=\(bad)", token: ann.token)
            XCTAssertEqual(reply.status, .badRequest, "\(bad): \(reply.text)")
            // A NUL is refused at the door, before any route reads the cursor.
            XCTAssertEqual(reply.json["code"], bad == "%00" ? "invalid_text" : "invalid_cursor", bad)
        }
        for limit in ["0", "5001", "x"] {
            let value8 = try await send(.GET, "/api/sync?since=\(since)&limit=\(limit)", token: ann.token).status
            XCTAssertEqual(value8, .badRequest, limit)
        }
        let value9 = try await send(.GET, "/api/sync?since=\(since)").status
        XCTAssertEqual(value9, .unauthorized)

        // Pruned: a cursor from before answers 410 with what to do; a new one works.
        let pruned = try await ChangeFeed(services: services, db: app.db).prune(olderThan: .seconds(0), now: Date().addingTimeInterval(60))
        XCTAssertGreaterThan(pruned, 0)
        let expired = try await send(.GET, "/api/sync?since=\(since)", token: ann.token)
        XCTAssertEqual(expired.status, .gone, expired.text)
        XCTAssertEqual(expired.json["code"], "cursor_expired")
        let current = try await cursor(ann.token)
        let value10 = try await send(.GET, "/api/sync?since=\(current)", token: ann.token).status
        XCTAssertEqual(value10, .ok)
    }

    func testLiveEventsCarryACursorTheFeedAccepts() async throws {
        let (annSocket, _, _) = try await connect(ann.token)
        _ = try await sendText(bob.token, to: ann.id, "live")
        let event = try await annSocket.waitForEvent("message:received")
        let cursor = try XCTUnwrap(event.first?["cursor"]?.stringValue, "\(event)")
        XCTAssertEqual(event.last?.stringValue?.contains("-"), true, "the recovery offset comes last")
        let value11 = try await send(.GET, "/api/sync?since=\(cursor)", token: ann.token).status
        XCTAssertEqual(value11, .ok)
    }

    // MARK: Connection state recovery

    func testASocketBackWithinTheWindowGetsWhatItMissedAndOnlyItsOwnerCanTakeItBack() async throws {
        let (group, _) = try await createGroup(bob.token, "Club", members: [ann.id])
        let (first, sid, pid) = try await connect(ann.token)
        _ = try await sendText(bob.token, to: ann.id, "before")
        let before = try await first.waitForEvent("message:received")
        let offset = try XCTUnwrap(before.last?.stringValue)
        await first.close()
        try await waitUntil { self.app.socketIOServer?.sockets.socket(sid) == nil }

        // Away: a direct message, and Ann is removed from the club (whose messages she must not get).
        _ = try await sendText(bob.token, to: ann.id, "missed 1")
        let value12 = try await send(.DELETE, "/api/groups/\(group)/members/\(ann.id)", token: bob.token).status
        XCTAssertEqual(value12, .ok)
        _ = try await sendToGroup(bob.token, group, "club secret")
        _ = try await sendText(bob.token, to: ann.id, "missed 2")

        // Bob presenting Ann's pid: his own fresh socket, none of her events.
        let (thief, thiefSid, _) = try await connect(bob.token, extra: #","pid":"\#(pid)","offset":"\#(offset)""#)
        XCTAssertNotEqual(thiefSid, sid)
        XCTAssertEqual(thief.count("message:received"), 0)

        let (back, backSid, backPid) = try await connect(ann.token, extra: #","pid":"\#(pid)","offset":"\#(offset)""#)
        XCTAssertEqual(backSid, sid)
        XCTAssertEqual(backPid, pid)
        try await back.waitForEvent("message:received", count: 2)
        let replayed = back.received().events.filter { $0.name.hasSuffix("message:received") }.compactMap { $0.args.first?["content"]?.stringValue }
        XCTAssertEqual(replayed, ["missed 1", "missed 2"], "in order, and nothing of the club she left")
        _ = try await sendToGroup(bob.token, group, "club later")
        _ = try await sendText(bob.token, to: ann.id, "after")
        try await back.waitForEvent("message:received", count: 3)
        XCTAssertFalse(back.received().events.contains { $0.args.first?["content"]?.stringValue?.hasPrefix("club") == true })
    }

    private func waitUntil(_ condition: @escaping () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(3)
        while !condition() {
            guard ContinuousClock.now < deadline else { XCTFail("condition not met in time"); return }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
