import SocketIO
import SocketIOTestClient
import XCTVapor
@testable import ChatrServer

/// Groups over REST (SPEC §6) and their realtime events (SPEC §7).
final class GroupTests: ChatrTestCase {
    var ann: (id: String, token: String)!
    var bob: (id: String, token: String)!
    var cat: (id: String, token: String)!

    var serverStarted = false

    override func tearDown() async throws {
        if serverStarted {
            await app.socketIOServer?.shutdownGracefully()
            await app.server.shutdown()
        }
        try await super.tearDown()
    }

    override func setUp() async throws {
        try await super.setUp()
        ann = try await makeUser("ann")
        bob = try await makeUser("bob")
        cat = try await makeUser("cat")
    }

    /// An invite link's token for group `id`, made by its owner ann.
    func invite(_ id: String, json: [String: JSONValue] = [:]) async throws -> String {
        let reply = try await send(.POST, "/api/groups/\(id)/invites", json: .object(json), token: ann.token)
        XCTAssertEqual(reply.status, .created, reply.text)
        return try XCTUnwrap(reply.json["token"]?.string)
    }

    func createGroup(_ name: String = "Lunch", members: [String]) async throws -> String {
        let reply = try await send(.POST, "/api/groups", json: ["name": .string(name), "description": "Where to eat",
                                                                "memberIds": .array(members.map { .string($0) })], token: ann.token)
        XCTAssertEqual(reply.status, .created, reply.text)
        return try XCTUnwrap(reply.json["id"]?.string)
    }

    func testCreateListGetAndValidation() async throws {
        let reply = try await send(.POST, "/api/groups", json: ["name": "  Lunch  ", "memberIds": [.string(bob.id)]], token: ann.token)
        XCTAssertEqual(reply.status, .created)
        XCTAssertEqual(reply.json["name"], "Lunch")
        XCTAssertEqual(reply.json["ownerId"]?.string, ann.id)
        XCTAssertEqual(reply.json["memberCount"], 2)
        XCTAssertEqual(reply.json["members"]?.array?.compactMap { $0["role"]?.string }, ["owner", "member"])
        let id = try XCTUnwrap(reply.json["id"]?.string)

        let mine = try await send(.GET, "/api/groups", token: bob.token)
        XCTAssertEqual(mine.json["groups"]?.array?.compactMap { $0["id"]?.string }, [id])
        let none = try await send(.GET, "/api/groups", token: cat.token)
        XCTAssertEqual(none.json["groups"], [])
        let outsider = try await send(.GET, "/api/groups/\(id)", token: cat.token)
        XCTAssertEqual(outsider.status, .forbidden)
        let missing = try await send(.GET, "/api/groups/\(UUID().uuidString)", token: ann.token)
        XCTAssertEqual(missing.status, .notFound)

        for body: JSONValue in [["name": ""], ["name": .string(String(repeating: "n", count: 101))],
                                ["name": "ok", "description": .string(String(repeating: "d", count: 501))],
                                ["name": "ok", "memberIds": [.string(UUID().uuidString)]], ["name": "ok", "memberIds": ["nope"]], ["name": 7]] {
            let bad = try await send(.POST, "/api/groups", json: body, token: ann.token)
            XCTAssertEqual(bad.status, .badRequest, "\(body)")
        }
        let groups = try await Conversation.query(on: app.db).all().filter { $0.kind == Conversation.Kind.group }.count
        XCTAssertEqual(groups, 1)
    }

    func testRolesGovernChanges() async throws {
        let id = try await createGroup(members: [bob.id])
        let byMember = try await send(.PUT, "/api/groups/\(id)", json: ["name": "Mine now"], token: bob.token)
        XCTAssertEqual(byMember.status, .forbidden)
        let byOwner = try await send(.PUT, "/api/groups/\(id)", json: ["name": "Dinner"], token: ann.token)
        XCTAssertEqual(byOwner.json["name"], "Dinner")
        let addByMember = try await send(.POST, "/api/groups/\(id)/members", json: ["userId": .string(cat.id)], token: bob.token)
        XCTAssertEqual(addByMember.status, .forbidden)
        let add = try await send(.POST, "/api/groups/\(id)/members", json: ["userId": .string(cat.id)], token: ann.token)
        XCTAssertEqual(add.json["memberCount"], 3)
        let twice = try await send(.POST, "/api/groups/\(id)/members", json: ["userId": .string(cat.id)], token: ann.token)
        XCTAssertEqual(twice.status, .conflict)
        let removeOwner = try await send(.DELETE, "/api/groups/\(id)/members/\(ann.id)", token: bob.token)
        XCTAssertEqual(removeOwner.status, .forbidden)
        let remove = try await send(.DELETE, "/api/groups/\(id)/members/\(cat.id)", token: ann.token)
        XCTAssertEqual(remove.status, .ok)
        let catView = try await send(.GET, "/api/groups/\(id)/messages", token: cat.token)
        XCTAssertEqual(catView.status, .forbidden, "a removed member cannot read")
        let deleteByMember = try await send(.DELETE, "/api/groups/\(id)", token: bob.token)
        XCTAssertEqual(deleteByMember.status, .forbidden)
        let delete = try await send(.DELETE, "/api/groups/\(id)", token: ann.token)
        XCTAssertEqual(delete.status, .ok)
        let gone = try await send(.GET, "/api/groups/\(id)", token: ann.token)
        XCTAssertEqual(gone.status, .notFound)
    }

    /// Sends use a cache of the group's members: every membership change must reach it at once.
    func testWhoMaySendFollowsMembershipChangesAtOnce() async throws {
        let id = try await createGroup(members: [bob.id])
        func post(_ token: String, _ text: String) async throws -> HTTPStatus {
            try await send(.POST, "/api/groups/\(id)/messages", json: ["content": .string(text)], token: token).status
        }
        let first = try await post(bob.token, "warm the cache")
        XCTAssertEqual(first, .created)
        let outsider = try await post(cat.token, "let me in")
        XCTAssertEqual(outsider, .forbidden)
        _ = try await send(.POST, "/api/groups/\(id)/members", json: ["userId": .string(cat.id)], token: ann.token)
        let added = try await post(cat.token, "added")
        XCTAssertEqual(added, .created, "an added member may send at once")
        _ = try await send(.DELETE, "/api/groups/\(id)/members/\(cat.id)", token: ann.token)
        let removed = try await post(cat.token, "removed")
        XCTAssertEqual(removed, .forbidden, "a removed member may not")
        let token = try await invite(id)
        _ = try await send(.POST, "/api/groups/\(id)/join", json: ["inviteToken": .string(token)], token: cat.token)
        let joined = try await post(cat.token, "joined")
        XCTAssertEqual(joined, .created)
        _ = try await send(.POST, "/api/groups/\(id)/leave", token: bob.token)
        let left = try await post(bob.token, "left")
        XCTAssertEqual(left, .forbidden)
        _ = try await send(.DELETE, "/api/groups/\(id)", token: ann.token)
        let deleted = try await post(ann.token, "deleted")
        XCTAssertEqual(deleted, .notFound)
    }

    func testLeavingHandsOverOwnershipAndTheLastOneOutDeletes() async throws {
        let id = try await createGroup(members: [bob.id])
        services.clock.advance(by: 1)
        let join = try await send(.POST, "/api/invites/\(try await invite(id))/join", token: cat.token)
        XCTAssertEqual(join.json["memberCount"], 3)
        let leave = try await send(.POST, "/api/groups/\(id)/leave", token: ann.token)
        XCTAssertEqual(leave.status, .ok)
        let group = try await send(.GET, "/api/groups/\(id)", token: bob.token)
        XCTAssertEqual(group.json["ownerId"]?.string, bob.id, "the longest-standing member becomes owner")
        _ = try await send(.POST, "/api/groups/\(id)/leave", token: bob.token)
        _ = try await send(.POST, "/api/groups/\(id)/leave", token: cat.token)
        let rows = try await Conversation.query(on: app.db).count()
        XCTAssertEqual(rows, 0, "the last member leaving deletes the group")
        let notMember = try await send(.POST, "/api/groups/\(id)/leave", token: ann.token)
        XCTAssertEqual(notMember.status, .notFound)
    }

    func testInviteLinksAreTheOnlyWayInBesidesBeingAdded() async throws {
        let dan = try await makeUser("dan")
        let id = try await createGroup(members: [bob.id])
        let byID = try await send(.POST, "/api/groups/\(id)/join", token: cat.token)
        XCTAssertEqual(byID.status, .forbidden, "the group's id alone lets nobody in")
        XCTAssertEqual(byID.json["code"], "invite_required")
        let byMember = try await send(.POST, "/api/groups/\(id)/invites", token: bob.token)
        XCTAssertEqual(byMember.status, .forbidden, "a plain member makes no links")

        _ = try await send(.POST, "/api/groups/\(id)/messages", json: ["content": "before cat"], token: ann.token)
        let once = try await invite(id, json: ["maxUses": 1, "expiresInHours": 2])
        let preview = try await send(.GET, "/api/invites/\(once)", token: cat.token)
        XCTAssertEqual(preview.json["group"]?["name"], "Lunch")
        XCTAssertEqual(preview.json["group"]?["memberCount"], 2)
        XCTAssertEqual(preview.json["alreadyMember"], false)
        let joined = try await send(.POST, "/api/invites/\(once)/join", token: cat.token)
        XCTAssertEqual(joined.status, .ok, joined.text)
        XCTAssertEqual(joined.json["myRole"], "member")
        _ = try await send(.POST, "/api/groups/\(id)/messages", json: ["content": "after cat"], token: ann.token)
        let history = try await send(.GET, "/api/groups/\(id)/messages", token: cat.token)
        XCTAssertEqual(history.json["messages"]?.array?.compactMap { $0["content"]?.string }, ["joined", "after cat"],
                       "a newcomer sees the messages from when they joined (from the notice of their joining on)")

        let usedUp = try await send(.POST, "/api/invites/\(once)/join", token: dan.token)
        XCTAssertEqual(usedUp.status, .notFound, "one use only")
        let again = try await send(.POST, "/api/invites/\(once)/join", token: cat.token)
        XCTAssertEqual(again.status, .ok, "a member asking again is answered without a use")

        let open = try await invite(id)
        let other = try await createGroup("Other", members: [])
        let wrongGroup = try await send(.POST, "/api/groups/\(other)/join", json: ["inviteToken": .string(open)], token: dan.token)
        XCTAssertEqual(wrongGroup.status, .forbidden, "a link opens only its own group")
        let listed = try await send(.GET, "/api/groups/\(id)/invites", token: ann.token)
        XCTAssertEqual(listed.json["invites"]?.array?.compactMap { $0["token"]?.string }, [open], "used-up links are not listed")
        let revoked = try await send(.DELETE, "/api/groups/\(id)/invites/\(open)", token: ann.token)
        XCTAssertEqual(revoked.status, .ok)
        for path in ["/api/invites/\(open)/join", "/api/groups/\(id)/join"] {
            let reply = try await send(.POST, path, json: ["inviteToken": .string(open)], token: dan.token)
            XCTAssertEqual(reply.status, .notFound, path)
        }
        let revokedAgain = try await send(.DELETE, "/api/groups/\(id)/invites/\(open)", token: ann.token)
        XCTAssertEqual(revokedAgain.status, .notFound)

        let expiring = try await invite(id, json: ["expiresInHours": 1])
        services.clock.advance(by: 3601)
        let expired = try await send(.GET, "/api/invites/\(expiring)", token: dan.token)
        XCTAssertEqual(expired.status, .notFound, "an hour later the link is dead")
        for bad in [["maxUses": JSONValue.number(0)], ["expiresInHours": .number(9000)], ["maxUses": .string("ten")]] {
            let reply = try await send(.POST, "/api/groups/\(id)/invites", json: .object(bad), token: ann.token)
            XCTAssertEqual(reply.status, .badRequest, "\(bad)")
        }
    }

    func testGroupMessagesHistoryAndConversationList() async throws {
        let id = try await createGroup(members: [bob.id])
        let sent = try await send(.POST, "/api/groups/\(id)/messages", json: ["content": "Pizza?", "clientMessageId": "g-1"], token: bob.token)
        XCTAssertEqual(sent.status, .created)
        XCTAssertEqual(sent.json["groupId"]?.string, id)
        XCTAssertEqual(sent.json["recipientId"], .null)
        let again = try await send(.POST, "/api/groups/\(id)/messages", json: ["content": "Pizza?", "clientMessageId": "g-1"], token: bob.token)
        XCTAssertEqual(again.status, .ok)
        let outsider = try await send(.POST, "/api/groups/\(id)/messages", json: ["content": "let me in"], token: cat.token)
        XCTAssertEqual(outsider.status, .forbidden)
        let history = try await send(.GET, "/api/groups/\(id)/messages", token: ann.token)
        XCTAssertEqual(history.json["messages"]?.array?.compactMap { $0["content"]?.string }, ["Pizza?"])
        let list = try await send(.GET, "/api/messages/conversations", token: ann.token)
        let item = try XCTUnwrap(list.json["conversations"]?.array?.first)
        XCTAssertEqual(item["kind"], "group")
        XCTAssertEqual(item["group"]?["name"], "Lunch")
        XCTAssertEqual(item["user"], .null)
        XCTAssertEqual(item["unreadCount"], 1)
        XCTAssertEqual(item["lastMessage"]?["content"], "Pizza?")
    }

    /// Read state in a group is per person: Bob reading does not make the message read for Cat,
    /// and Ann (the sender) sees who has read it.
    func testGroupReadStateIsPerMember() async throws {
        let id = try await createGroup(members: [bob.id, cat.id])
        let sent = try await send(.POST, "/api/groups/\(id)/messages", json: ["content": "Anyone?"], token: ann.token)
        let messageID = try XCTUnwrap(sent.json["id"]?.string)
        func mine(_ token: String) async throws -> JSONValue {
            let history = try await send(.GET, "/api/groups/\(id)/messages", token: token)
            return try XCTUnwrap(history.json["messages"]?.array?.first)
        }
        let ownBefore = try await mine(ann.token)
        XCTAssertEqual(ownBefore["isRead"], false)
        XCTAssertEqual(ownBefore["readBy"], .array([]))

        let read = try await send(.POST, "/api/messages/read", json: ["groupId": .string(id), "upToMessageId": .string(messageID)], token: bob.token)
        XCTAssertEqual(read.status, .ok, read.text)

        let forBob = try await mine(bob.token)
        XCTAssertEqual(forBob["isRead"], true)
        XCTAssertEqual(forBob["readBy"], .null, "only the sender is told who read")
        let forCat = try await mine(cat.token)
        XCTAssertEqual(forCat["isRead"], false, "Bob reading is not Cat reading")
        let list = try await send(.GET, "/api/messages/conversations", token: cat.token)
        XCTAssertEqual(list.json["conversations"]?.array?.first?["unreadCount"], 1)
        XCTAssertEqual(list.json["conversations"]?.array?.first?["lastMessage"]?["isRead"], false)
        let forAnn = try await mine(ann.token)
        XCTAssertEqual(forAnn["isRead"], true)
        XCTAssertEqual(forAnn["readBy"], .array([.string(bob.id)]))
    }

    func testRealtimeGroupEventsAndRemoval() async throws {
        let id = try await createGroup(members: [bob.id, cat.id])
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        serverStarted = true
        let port = try XCTUnwrap(app.http.server.shared.localAddress?.port)
        func connect(_ token: String) async throws -> RawClient {
            let client = try await RawClient.connect(port: port, group: app.eventLoopGroup)
            _ = try await client.connectNamespace(auth: #"{"token":"\#(token)"}"#)
            _ = try await client.waitForEvent("presence:update")
            return client
        }
        let annSocket = try await connect(ann.token)
        let bobSocket = try await connect(bob.token)
        let catSocket = try await connect(cat.token)

        let ack = try await annSocket.call("group:message:send", ["groupId": .string(id), "content": "Hi all"])
        XCTAssertEqual(ack["ok"], true)
        for socket in [bobSocket, catSocket] {
            let received = try await socket.waitForEvent("group:message:received")
            XCTAssertEqual(received.first?["content"], "Hi all")
        }
        XCTAssertEqual(annSocket.count("group:message:received"), 0, "not echoed to the sender as received")
        // Bob reads it: Ann, whose message it is, hears who read it; Cat hears nothing (it is not
        // her read, and a big group would otherwise hear every read of everyone).
        let messageID = try XCTUnwrap(ack["message"]?["id"]?.stringValue)
        bobSocket.emit("message:read", .string(messageID))
        let receipt = try await annSocket.waitForEvent("message:status")
        XCTAssertEqual(receipt.first?["userId"], .string(bob.id))
        XCTAssertEqual(receipt.first?["status"], "read")
        _ = await catSocket.staysSilent(for: .milliseconds(200))
        XCTAssertEqual(catSocket.count("message:status"), 0, "no receipt for Cat")
        // Bob reading again reaches no new message: nobody is told again.
        bobSocket.emit("message:read", .string(messageID))
        _ = await annSocket.staysSilent(for: .milliseconds(200))
        XCTAssertEqual(annSocket.count("message:status"), 1)

        annSocket.emit("typing:start", ["groupId": .string(id)])
        let typing = try await bobSocket.waitForEvent("typing:status")
        XCTAssertEqual(typing.first?["type"], "group")
        XCTAssertEqual(typing.first?["groupId"]?.stringValue, id)

        let removed = try await send(.DELETE, "/api/groups/\(id)/members/\(cat.id)", token: ann.token)
        XCTAssertEqual(removed.status, .ok)
        let left = try await bobSocket.waitForEvent("group:user:left")
        XCTAssertEqual(left.first?["userId"]?.stringValue, cat.id)
        _ = try await catSocket.waitForEvent("group:user:left")
        _ = try await annSocket.call("group:message:send", ["groupId": .string(id), "content": "Cat is gone"])
        let removedNotice = try await bobSocket.waitForEvent("group:message:received", count: 2)
        XCTAssertEqual(removedNotice.first?["content"], "removed")
        _ = try await bobSocket.waitForEvent("group:message:received", count: 3)
        XCTAssertEqual(catSocket.count("group:message:received"), 1, "a removed member stops receiving at once, her removal's notice included")

        let refused = try await catSocket.call("group:join", .string(id))
        XCTAssertEqual(refused["ok"], false, "a removed member needs an invite to come back")
        XCTAssertEqual(refused["code"], "invite_required")
        let rejoin = try await catSocket.call("group:join", ["groupId": .string(id), "inviteToken": .string(try await invite(id))])
        XCTAssertEqual(rejoin["ok"], true, "\(rejoin)")
        let joined = try await annSocket.waitForEvent("group:user:joined")
        XCTAssertEqual(joined.first?["username"], "@cat")
        _ = try await annSocket.call("group:message:send", ["groupId": .string(id), "content": "Welcome back"])
        let rejoined = try await catSocket.waitForEvent("group:message:received", count: 2)
        XCTAssertEqual(rejoined.first?["content"], "joined", "she hears the notice of her own return")
        let back = try await catSocket.waitForEvent("group:message:received", count: 3)
        XCTAssertEqual(back.first?["content"], "Welcome back")
    }
}
