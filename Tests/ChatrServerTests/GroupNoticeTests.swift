import SocketIO
import SocketIOTestClient
import XCTVapor
@testable import ChatrServer

/// "Alice joined / left / was added / was removed" (issue 15): notices kept in a group's history
/// as `system` messages, shown to the members of the moment, never counted or acted on as a
/// person's message.
final class GroupNoticeTests: ChatrTestCase {
    var ann: (id: String, token: String)!
    var bob: (id: String, token: String)!
    var cat: (id: String, token: String)!
    var serverStarted = false

    override func setUp() async throws {
        try await super.setUp()
        ann = try await makeUser("ann")
        bob = try await makeUser("bob")
        cat = try await makeUser("cat")
    }

    override func tearDown() async throws {
        if serverStarted {
            await app.socketIOServer?.shutdownGracefully()
            await app.server.shutdown()
        }
        try await super.tearDown()
    }

    private func createGroup(members: [String]) async throws -> String {
        let reply = try await send(.POST, "/api/groups", json: ["name": "Lunch", "memberIds": .array(members.map { .string($0) })], token: ann.token)
        XCTAssertEqual(reply.status, .created, reply.text)
        return try XCTUnwrap(reply.json["id"]?.string)
    }

    /// `(type, senderId, content)` of the history `token` sees, oldest first.
    private func history(_ id: String, _ token: String) async throws -> [String] {
        let reply = try await send(.GET, "/api/messages/history?groupId=\(id)", token: token)
        XCTAssertEqual(reply.status, .ok, reply.text)
        return (reply.json["messages"]?.array ?? []).map { m in
            let who = [ann, bob, cat].first { $0!.id == m["senderId"]?.string }.map { name(of: $0!.id) } ?? "?"
            return "\(m["type"]?.string ?? "?") \(who) \(m["content"]?.string ?? "")"
        }
    }

    private func name(of id: String) -> String { id == ann.id ? "ann" : id == bob.id ? "bob" : "cat" }

    func testEveryChangeOfMembershipLeavesANoticeTheMembersOfTheMomentSee() async throws {
        let id = try await createGroup(members: [bob.id])
        _ = try await send(.POST, "/api/groups/\(id)/messages", json: ["content": "hello"], token: ann.token)
        _ = try await send(.POST, "/api/groups/\(id)/members", json: ["userId": .string(cat.id)], token: ann.token)
        _ = try await send(.DELETE, "/api/groups/\(id)/members/\(cat.id)", token: ann.token)
        let invite = try await send(.POST, "/api/groups/\(id)/invites", json: [:], token: ann.token)
        let join = try await send(.POST, "/api/groups/\(id)/join", json: ["inviteToken": .string(try XCTUnwrap(invite.json["token"]?.string))], token: cat.token)
        XCTAssertEqual(join.status, .ok, join.text)
        let leave = try await send(.POST, "/api/groups/\(id)/leave", token: bob.token)
        XCTAssertEqual(leave.status, .ok, leave.text)

        let annSees = try await history(id, ann.token)
        XCTAssertEqual(annSees, ["text ann hello", "system cat added", "system cat removed", "system cat joined", "system bob left"])
        let catSees = try await history(id, cat.token)
        XCTAssertEqual(catSees, ["system cat joined", "system bob left"], "a member who rejoined sees from their own notice on")

        // Nobody's unread: ann read nothing since her own message, and the notices do not count.
        let list = try await send(.GET, "/api/messages/conversations", token: ann.token)
        let entry = try XCTUnwrap(list.json["conversations"]?.array?.first { $0["conversationId"]?.string == id })
        XCTAssertEqual(entry["unreadCount"], 0)
        XCTAssertEqual(entry["lastMessage"]?["type"], "system", "the list previews the last notice")
        XCTAssertEqual(entry["lastMessage"]?["content"], "left")
        let catList = try await send(.GET, "/api/messages/conversations", token: cat.token)
        XCTAssertEqual(catList.json["conversations"]?.array?.first?["unreadCount"], 0, "bob's leaving is not news to count")

        // Not searchable, and not something a client may send.
        _ = try await send(.POST, "/api/groups/\(id)/messages", json: ["content": "who joined?"], token: ann.token)
        let search = try await send(.GET, "/api/search?q=joined", token: ann.token)
        XCTAssertEqual(search.status, .ok)
        XCTAssertEqual(search.json["results"]?.array?.compactMap { $0["message"]?["content"]?.string }, ["who joined?"], search.text)
        let forged = try await send(.POST, "/api/groups/\(id)/messages", json: ["content": "joined", "type": "system"], token: cat.token)
        XCTAssertEqual(forged.status, .badRequest)
        XCTAssertEqual(forged.json["code"], "invalid_type")
        let reply = try await send(.POST, "/api/messages", json: ["groupId": .string(id), "content": "welcome",
                                                                  "replyToId": .string(try noticeID(id, "joined"))], token: ann.token)
        XCTAssertEqual(reply.status, .badRequest, "a notice cannot be quoted")
        XCTAssertEqual(reply.json["code"], "system_message")
    }

    private func noticeID(_ group: String, _ content: String) async throws -> String {
        let reply = try await send(.GET, "/api/messages/history?groupId=\(group)", token: ann.token)
        let notice = reply.json["messages"]?.array?.last { $0["type"] == "system" && $0["content"]?.string == content }
        return try XCTUnwrap(notice?["id"]?.string)
    }

    func testANoticeArrivesLiveAndItsSubjectCannotEditUnsendOrReactToIt() async throws {
        let id = try await createGroup(members: [bob.id])
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        serverStarted = true
        let port = try XCTUnwrap(app.http.server.shared.localAddress?.port)
        func connect(_ token: String) async throws -> RawClient {
            let client = try await RawClient.connect(port: port, group: app.eventLoopGroup)
            _ = try await client.connectNamespace(auth: #"{"token":"\#(token)"}"#)
            _ = try await client.waitForEvent("presence:update")
            return client
        }
        let bobSocket = try await connect(bob.token)
        let catSocket = try await connect(cat.token)
        _ = try await send(.POST, "/api/groups/\(id)/members", json: ["userId": .string(cat.id)], token: ann.token)
        for socket in [bobSocket, catSocket] {
            let received = try await socket.waitForEvent("group:message:received")
            let notice = try XCTUnwrap(received.first)
            XCTAssertEqual(notice["type"], "system")
            XCTAssertEqual(notice["content"], "added")
            XCTAssertEqual(notice["senderId"], .string(cat.id))
        }
        let noticeID = SocketValue.string(try await noticeID(id, "added"))
        for (event, payload): (String, SocketValue) in [("message:edit", ["messageId": noticeID, "content": "I was not"]),
                                                        ("message:unsend", noticeID),
                                                        ("message:react", ["messageId": noticeID, "emoji": "👍"])] {
            let answer = try await catSocket.call(event, payload)
            XCTAssertEqual(answer["ok"], false, event)
            XCTAssertEqual(answer["code"], "system_message", "\(event): \(answer)")
        }
        // Bob reads up to the notice: nobody gets a receipt for it.
        bobSocket.emit("message:read", noticeID)
        _ = await catSocket.staysSilent(for: .milliseconds(200))
        XCTAssertEqual(catSocket.count("message:status"), 0)
        let history = try await history(id, ann.token)
        XCTAssertEqual(history, ["system cat added"], "unchanged")
    }
}
