import Fluent
import XCTVapor
@testable import ChatrServer

/// Messages over REST and the rules of `MessageService` (SPEC §6, §7).
final class MessagingTests: ChatrTestCase {
    var ann: (id: String, token: String)!
    var bob: (id: String, token: String)!

    override func setUp() async throws {
        try await super.setUp()
        ann = try await makeUser("ann", displayName: "Ann")
        bob = try await makeUser("bob", displayName: "Bob")
    }

    @discardableResult
    func sendText(_ content: String, from sender: (id: String, token: String), to recipient: String, clientMessageId: String? = nil,
                  file: StaticString = #filePath, line: UInt = #line) async throws -> JSONValue {
        var body: [String: JSONValue] = ["recipientId": .string(recipient), "content": .string(content)]
        if let clientMessageId { body["clientMessageId"] = .string(clientMessageId) }
        let reply = try await send(.POST, "/api/messages", json: .object(body), token: sender.token)
        XCTAssertTrue([.created, .ok].contains(reply.status), reply.text, file: file, line: line)
        return reply.json
    }

    func user(_ who: (id: String, token: String)) async throws -> User {
        let found = try await User.find(UUID(uuidString: who.id), on: app.db)
        return try XCTUnwrap(found)
    }

    var service: MessageService { MessageService(services: services, db: app.db) }

    func testSendCreatesOneDirectConversationAndIsIdempotent() async throws {
        let first = try await send(.POST, "/api/messages", json: ["recipientId": .string(bob.id), "content": "Hi Bob", "clientMessageId": "c-1"], token: ann.token)
        XCTAssertEqual(first.status, .created)
        let message = first.json
        XCTAssertEqual(message["content"], "Hi Bob")
        XCTAssertEqual(message["senderId"]?.string, ann.id)
        XCTAssertEqual(message["recipientId"]?.string, bob.id)
        XCTAssertEqual(message["senderUsername"], "@ann")
        XCTAssertEqual(message["senderDisplayName"], "Ann")
        XCTAssertEqual(message["groupId"], .null)
        XCTAssertEqual(message["status"], "sent", "nobody is online")
        XCTAssertEqual(message["type"], "text")
        XCTAssertEqual(message["unsent"], false)
        XCTAssertEqual(message["reactions"], [])
        XCTAssertEqual(message["replyTo"], .null)

        let retry = try await send(.POST, "/api/messages", json: ["recipientId": .string(bob.id), "content": "Hi Bob", "clientMessageId": "c-1"], token: ann.token)
        XCTAssertEqual(retry.status, .ok, "a retry returns the first message")
        XCTAssertEqual(retry.json["id"], message["id"])

        let answer = try await sendText("Hi Ann", from: bob, to: ann.id)
        XCTAssertEqual(answer["conversationId"], message["conversationId"], "one conversation per pair, whoever writes")
        let messages = try await Message.query(on: app.db).count()
        let conversations = try await Conversation.query(on: app.db).count()
        let members = try await Member.query(on: app.db).count()
        XCTAssertEqual([messages, conversations, members], [2, 1, 2])
        // Another user may use the same clientMessageId.
        let bobsOwn = try await sendText("Same id", from: bob, to: ann.id, clientMessageId: "c-1")
        XCTAssertNotEqual(bobsOwn["id"], message["id"])
        // Issue 16 (7): the same key for another message — other words, or another recipient —
        // is refused, not answered with the first message (which silently dropped this one).
        let cat = try await makeUser("cat")
        for body: JSONValue in [["recipientId": .string(bob.id), "content": "Something else", "clientMessageId": "c-1"],
                                ["recipientId": .string(cat.id), "content": "Hi Bob", "clientMessageId": "c-1"]] {
            let reused = try await send(.POST, "/api/messages", json: body, token: ann.token)
            XCTAssertEqual(reused.status, .conflict, reused.text)
            XCTAssertEqual(reused.json["code"], "idempotency_key_reused")
        }
        let stored = try await Message.query(on: app.db).count()
        XCTAssertEqual(stored, 3)
    }

    /// Many new pairs writing their first messages at once, from both sides, and again while the
    /// first are being stored: one conversation per pair with its two members, every message in
    /// it, numbered without gaps — and a pair that already had a conversation keeps it.
    func testFirstMessagesOfManyNewPairsAtOnce() async throws {
        var people = [ann!, bob!]
        for index in 0..<10 { people.append(try await makeUser("user\(index)")) }
        let existing = try await sendText("before", from: ann, to: bob.id)
        let pairs = stride(from: 0, to: people.count, by: 2).map { (people[$0], people[$0 + 1]) }
        let (services, db) = (self.services, app.db)
        var senders: [(User, UUID)] = []
        for (a, b) in pairs {
            senders.append((try await user(a), UUID(uuidString: b.id)!))
            senders.append((try await user(b), UUID(uuidString: a.id)!))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for round in 0..<3 {
                for (sender, recipient) in senders {
                    group.addTask {
                        _ = try await MessageService(services: services, db: db).send(from: sender, .init(address: .user(recipient), content: "m\(round)"))
                    }
                }
            }
            try await group.waitForAll()
        }
        let conversations = try await Conversation.query(on: app.db).all()
        XCTAssertEqual(conversations.count, pairs.count, "one conversation per pair")
        for conversation in conversations {
            let members = try await Member.query(on: app.db).filter(\Member.$conversationID == conversation.id!).all()
            XCTAssertEqual(members.count, 2)
            let messages = try await Message.query(on: app.db).filter(\Message.$conversationID == conversation.id!).sort(\Message.$seq).all()
            let expected = conversation.id!.wire == existing["conversationId"]?.string ? 7 : 6
            XCTAssertEqual(messages.map(\.seq), Array(1...Int64(expected)), "every message, numbered without gaps")
            XCTAssertEqual(conversation.lastSeq, Int64(expected))
            XCTAssertEqual(Set(messages.map(\.senderID)), Set(members.map(\.userID)))
        }
    }

    /// A batch finds the conversations that exist (whichever way round, with their members, even
    /// with someone who could not be written to first now), creates the others with their two
    /// members, and refuses a recipient who does not exist or has not verified their account.
    func testBatchedLookupOrCreation() async throws {
        let existing = try await sendText("first", from: ann, to: bob.id)
        let cat = try await makeUser("cat")
        _ = try await send(.POST, "/api/auth/register", json: ["email": "ghost@example.com", "username": "ghost", "password": .string(Self.password)])
        let ghostUser = try await User.query(on: app.db).filter(\.$username == "@ghost").first()
        let ghost = try XCTUnwrap(ghostUser?.id)
        let (a, b, c) = (UUID(uuidString: ann.id)!, UUID(uuidString: bob.id)!, UUID(uuidString: cat.id)!)
        let nobody = UUID()
        let outcomes = try await DirectConversationCreator.lookUpOrCreate([(b, a), (a, c), (c, a), (a, ghost), (a, nobody)], on: app.db, now: Date())
        func entry(_ x: UUID, _ y: UUID) throws -> DirectConversationCache.Entry {
            guard case .found(let entry) = outcomes[Conversation.directKey(x, y)] else {
                throw ChatrError.conflict("no conversation: \(String(describing: outcomes[Conversation.directKey(x, y)]))")
            }
            return entry
        }
        let old = try entry(a, b)
        XCTAssertEqual(old.conversationID.wire, existing["conversationId"]?.string, "the existing one, whichever way round")
        XCTAssertEqual(Set(old.members), [a, b])
        let new = try entry(a, c)
        XCTAssertEqual(Set(new.members), [a, c])
        XCTAssertEqual(outcomes[Conversation.directKey(a, ghost)], .recipientNotFound, "not verified yet")
        XCTAssertEqual(outcomes[Conversation.directKey(a, nobody)], .recipientNotFound)
        let members = try await Member.query(on: app.db).all()
        XCTAssertEqual(Set(members.filter { $0.conversationID == new.conversationID }.map(\.userID)), [a, c])
        XCTAssertEqual(members.count, 4, "no member added to the existing conversation, none for the refused ones")
        let conversations = try await Conversation.query(on: app.db).count()
        XCTAssertEqual(conversations, 2)
        let again = try await DirectConversationCreator.lookUpOrCreate([(c, a)], on: app.db, now: Date())
        guard case .found(let found) = again[Conversation.directKey(a, c)] else { return XCTFail("not found again: \(again)") }
        XCTAssertEqual(found.conversationID, new.conversationID)
        XCTAssertEqual(Set(found.members), [a, c])
        let after = try await Member.query(on: app.db).count()
        XCTAssertEqual(after, 4)
    }

    /// Unread counts are exact up to the cap; past it the list says the cap ("999+" on screen),
    /// and counting stops there rather than scanning every unread message on each request.
    func testUnreadCountsStopAtTheCap() async throws {
        let (services, db) = (self.services, app.db)
        let bobUser = try await user(bob)
        let annID = UUID(uuidString: ann.id)!
        func unread() async throws -> JSONValue? {
            try await send(.GET, "/api/messages/conversations", token: ann.token).json["conversations"]?.array?.first?["unreadCount"]
        }
        _ = try await sendText("mine, not unread", from: ann, to: bob.id)
        let total = MessageRules.maxUnreadCount + 5
        for start in stride(from: 0, to: total, by: 100) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in start..<min(total, start + 100) {
                    group.addTask { _ = try await MessageService(services: services, db: db).send(from: bobUser, .init(address: .user(annID), content: "n\(index)")) }
                }
                try await group.waitForAll()
            }
            if start == 0 {
                let exact = try await unread()
                XCTAssertEqual(exact, 100, "exact below the cap")
            }
        }
        let capped = try await unread()
        XCTAssertEqual(capped, .number(Double(MessageRules.maxUnreadCount)))
    }

    func testBadSendsChangeNothing() async throws {
        // Registered but not verified: nobody can write to them yet.
        _ = try await send(.POST, "/api/auth/register", json: ["email": "ghost@example.com", "username": "ghost", "password": .string(Self.password)])
        let unverified = try await User.query(on: app.db).filter(\.$username == "@ghost").first()
        let ghostID = try XCTUnwrap(unverified?.id)
        let cases: [(JSONValue, HTTPStatus)] = [
            (["recipientId": .string(ghostID.uuidString), "content": "too early"], .notFound),
            (["recipientId": .string(ann.id), "content": "me"], .badRequest),
            (["recipientId": .string(UUID().uuidString), "content": "ghost"], .notFound),
            (["recipientId": "not-a-uuid", "content": "x"], .badRequest),
            (["recipientId": .string(bob.id), "content": "   "], .badRequest),
            (["recipientId": .string(bob.id), "content": .string(String(repeating: "a", count: 10_001))], .badRequest),
            (["recipientId": .string(bob.id), "content": 5], .badRequest),
            (["content": "nobody"], .badRequest),
            (["recipientId": .string(bob.id), "groupId": .string(bob.id), "content": "both"], .badRequest),
            (["recipientId": .string(bob.id), "content": "x", "type": "image"], .badRequest),
            (["recipientId": .string(bob.id), "content": "x", "type": "hologram"], .badRequest),
            (["recipientId": .string(bob.id), "content": "x", "replyToId": .string(UUID().uuidString)], .badRequest),
            (["recipientId": .string(bob.id), "content": "x", "clientMessageId": .string(String(repeating: "c", count: 101))], .badRequest),
        ]
        for (body, status) in cases {
            let reply = try await send(.POST, "/api/messages", json: body, token: ann.token)
            XCTAssertEqual(reply.status, status, "\(body): \(reply.text)")
            XCTAssertNotNil(reply.error)
        }
        // Issue 16 (8): a refused first message leaves no empty conversation in Bob's list.
        let bobsList = try await send(.GET, "/api/messages/conversations", token: bob.token)
        XCTAssertEqual(bobsList.json["conversations"], [])
        let conversations = try await Conversation.query(on: app.db).count()
        XCTAssertEqual(conversations, 0)
        let exactly = try await send(.POST, "/api/messages", json: ["recipientId": .string(bob.id), "content": .string(String(repeating: "é", count: 10_000))], token: ann.token)
        XCTAssertEqual(exactly.status, .created, "10,000 characters is allowed")
        let count = try await Message.query(on: app.db).count()
        XCTAssertEqual(count, 1)
        let anonymous = try await send(.POST, "/api/messages", json: ["recipientId": .string(bob.id), "content": "x"])
        XCTAssertEqual(anonymous.status, .unauthorized)
    }

    func testHistoryPagesInAStableOrderWithoutSideEffects() async throws {
        var ids: [String] = []
        for index in 1...7 {
            let sender = index % 2 == 0 ? bob! : ann!
            let message = try await sendText("m\(index)", from: sender, to: sender.id == ann.id ? bob.id : ann.id)
            ids.append(try XCTUnwrap(message["id"]?.string))
        }
        let latest = try await send(.GET, "/api/messages/history?otherUserId=\(bob.id)&limit=3", token: ann.token)
        XCTAssertEqual(latest.status, .ok)
        XCTAssertEqual(latest.json["messages"]?.array?.compactMap { $0["content"]?.string }, ["m5", "m6", "m7"], "oldest first")
        XCTAssertEqual(latest.json["hasMore"], true)

        var collected: [String] = latest.json["messages"]!.array!.compactMap { $0["id"]?.string }
        var cursor = collected.first!
        while true {
            let page = try await send(.GET, "/api/messages/history?otherUserId=\(bob.id)&limit=3&before=\(cursor)", token: ann.token)
            let pageIDs = page.json["messages"]!.array!.compactMap { $0["id"]?.string }
            collected.insert(contentsOf: pageIDs, at: 0)
            guard page.json["hasMore"] == true, let first = pageIDs.first else { break }
            cursor = first
        }
        XCTAssertEqual(collected, ids, "every message once, in order")

        let after = try await send(.GET, "/api/messages/history?otherUserId=\(bob.id)&after=\(ids[4])", token: ann.token)
        XCTAssertEqual(after.json["messages"]?.array?.compactMap { $0["content"]?.string }, ["m6", "m7"])
        XCTAssertEqual(after.json["hasMore"], false)
        let byConversation = try await send(.GET, "/api/messages/history?conversationId=\(latest.json["messages"]!.array![0]["conversationId"]!.string!)", token: bob.token)
        XCTAssertEqual(byConversation.json["messages"]?.array?.count, 7)

        let statuses = try await Message.query(on: app.db).all().map(\.status)
        XCTAssertTrue(statuses.allSatisfy { $0 == .sent }, "reading history marks nothing read")

        let cat = try await makeUser("cat")
        let outsider = try await send(.GET, "/api/messages/history?conversationId=\(latest.json["messages"]!.array![0]["conversationId"]!.string!)", token: cat.token)
        XCTAssertEqual(outsider.status, .forbidden)
        let none = try await send(.GET, "/api/messages/history?otherUserId=\(cat.id)", token: ann.token)
        XCTAssertEqual(none.json["messages"], [], "no conversation yet: an empty history")
        for bad in ["limit=0", "limit=500", "before=zzz", "before=\(UUID().uuidString)", "before=\(ids[0])&after=\(ids[1])"] {
            let reply = try await send(.GET, "/api/messages/history?otherUserId=\(bob.id)&\(bad)", token: ann.token)
            XCTAssertEqual(reply.status, .badRequest, bad)
        }
        let noTarget = try await send(.GET, "/api/messages/history", token: ann.token)
        XCTAssertEqual(noTarget.status, .badRequest)
    }

    func testConversationListOrderUnreadAndRead() async throws {
        let cat = try await makeUser("cat", displayName: "Cat")
        try await sendText("hello ann", from: bob, to: ann.id)
        try await sendText("again", from: bob, to: ann.id)
        services.clock.advance(by: 1)
        let last = try await sendText("meow", from: cat, to: ann.id)
        try await sendText("my own", from: ann, to: cat.id)

        let list = try await send(.GET, "/api/messages/conversations", token: ann.token)
        XCTAssertEqual(list.status, .ok)
        let items = try XCTUnwrap(list.json["conversations"]?.array)
        XCTAssertEqual(items.count, 2)
        XCTAssertEqual(items[0]["user"]?["username"], "@cat", "newest activity first")
        XCTAssertEqual(items[0]["lastMessage"]?["content"], "my own")
        XCTAssertEqual(items[0]["unreadCount"], 1, "my own messages are never unread")
        XCTAssertEqual(items[1]["user"]?["username"], "@bob")
        XCTAssertEqual(items[1]["unreadCount"], 2)
        XCTAssertEqual(items[1]["kind"], "direct")
        XCTAssertNil(items[1]["user"]?["email"])
        let alias = try await send(.GET, "/api/users/conversations", token: ann.token)
        XCTAssertEqual(alias.json, list.json)

        let read = try await send(.POST, "/api/messages/read", json: ["otherUserId": .string(cat.id), "upToMessageId": last["id"]!], token: ann.token)
        XCTAssertEqual(read.status, .ok)
        let readAll = try await send(.POST, "/api/messages/read", json: ["otherUserId": .string(bob.id)], token: ann.token)
        XCTAssertEqual(readAll.status, .ok)
        let after = try await send(.GET, "/api/messages/conversations", token: ann.token)
        XCTAssertEqual(after.json["conversations"]?.array?.map { $0["unreadCount"] }, [0, 0])
        let bobID = try XCTUnwrap(UUID(uuidString: bob.id))
        let stored = try await Message.query(on: app.db).all().filter { $0.senderID == bobID }
        XCTAssertTrue(stored.allSatisfy { $0.status == Message.Status.read && $0.readAt != nil })

        let emptyList = try await send(.GET, "/api/messages/conversations", token: (try await makeUser("dan")).token)
        XCTAssertEqual(emptyList.json["conversations"], [])
        let outsider = try await send(.POST, "/api/messages/read", json: ["conversationId": last["conversationId"]!], token: bob.token)
        XCTAssertEqual(outsider.status, .forbidden)
    }

    func testEditRulesAndHistory() async throws {
        let message = try await sendText("frist", from: ann, to: bob.id)
        let id = try XCTUnwrap(UUID(uuidString: message["id"]!.string!))
        let annUser = try await user(ann), bobUser = try await user(bob)

        let edited = try await service.edit(id, content: "first", by: annUser)
        XCTAssertEqual(edited.value.content, "first")
        XCTAssertTrue(edited.value.edited)
        XCTAssertEqual(edited.events.map(\.name), ["message:edited"])
        _ = try await service.edit(id, content: "first!", by: annUser)

        await XCTAssertThrowsChatrError(.forbidden) { _ = try await self.service.edit(id, content: "hacked", by: bobUser) }
        await XCTAssertThrowsChatrError(.badRequest) { _ = try await self.service.edit(id, content: "  ", by: annUser) }
        await XCTAssertThrowsChatrError(.badRequest) { _ = try await self.service.edit(id, content: String(repeating: "x", count: 10_001), by: annUser) }

        let history = try await send(.GET, "/api/messages/\(id.wire)/edits", token: bob.token)
        XCTAssertEqual(history.status, .ok)
        XCTAssertEqual(history.json["messageId"]?.string, id.wire)
        XCTAssertEqual(history.json["edits"]?.array?.compactMap { $0["previousContent"]?.string }, ["frist", "first"])
        XCTAssertEqual(history.json["edits"]?.array?.first?["editedBy"]?["username"], "@ann")

        let cat = try await makeUser("cat")
        let outsider = try await send(.GET, "/api/messages/\(id.wire)/edits", token: cat.token)
        XCTAssertEqual(outsider.status, .forbidden)
        let unknown = try await send(.GET, "/api/messages/\(UUID().uuidString)/edits", token: ann.token)
        XCTAssertEqual(unknown.status, .notFound)

        _ = try await service.unsend(id, by: annUser)
        await XCTAssertThrowsChatrError(.badRequest) { _ = try await self.service.edit(id, content: "after unsend", by: annUser) }
        let rows = try await MessageEdit.query(on: app.db).count()
        XCTAssertEqual(rows, 2, "failed edits append nothing")
    }

    func testUnsendLeavesAPlaceholder() async throws {
        let message = try await sendText("oops", from: ann, to: bob.id)
        let id = try XCTUnwrap(UUID(uuidString: message["id"]!.string!))
        await XCTAssertThrowsChatrError(.forbidden) { _ = try await self.service.unsend(id, by: try await self.user(self.bob)) }
        let events = try await service.unsend(id, by: try await user(ann))
        XCTAssertEqual(events.map(\.name), ["message:unsent"])
        XCTAssertEqual(events.first?.payload["senderDisplayName"], "Ann")
        await XCTAssertThrowsChatrError(.badRequest) { _ = try await self.service.unsend(id, by: try await self.user(self.ann)) }
        let history = try await send(.GET, "/api/messages/history?otherUserId=\(ann.id)", token: bob.token)
        let shown = try XCTUnwrap(history.json["messages"]?.array?.first)
        XCTAssertEqual(shown["unsent"], true)
        XCTAssertEqual(shown["content"], "")
        XCTAssertEqual(shown["edited"], false)
        let row = try await Message.find(id, on: app.db)
        XCTAssertEqual(row?.content, "oops", "the row is kept")
    }

    func testReactionsToggle() async throws {
        let message = try await sendText("nice", from: ann, to: bob.id)
        let id = try XCTUnwrap(UUID(uuidString: message["id"]!.string!))
        let bobUser = try await user(bob)
        var outcome = try await service.react(id, emoji: "👍", by: bobUser)
        XCTAssertEqual(outcome.value.map(\.emoji), ["👍"])
        XCTAssertEqual(outcome.value.first?.username, "@bob")
        outcome = try await service.react(id, emoji: "❤️", by: bobUser)
        XCTAssertEqual(outcome.value.map(\.emoji), ["❤️"], "one reaction per user: another emoji replaces it")
        outcome = try await service.react(id, emoji: "😂", by: try await user(ann))
        XCTAssertEqual(outcome.value.count, 2)
        outcome = try await service.react(id, emoji: "❤️", by: bobUser)
        XCTAssertEqual(outcome.value.map(\.emoji), ["😂"], "the same emoji again removes it")
        await XCTAssertThrowsChatrError(.badRequest) { _ = try await self.service.react(id, emoji: String(repeating: "x", count: 500), by: bobUser) }
        await XCTAssertThrowsChatrError(.badRequest) { _ = try await self.service.react(id, emoji: "", by: bobUser) }
        let cat = try await makeUser("cat")
        await XCTAssertThrowsChatrError(.forbidden) { _ = try await self.service.react(id, emoji: "👀", by: try await self.user(cat)) }
        let history = try await send(.GET, "/api/messages/history?otherUserId=\(bob.id)", token: ann.token)
        XCTAssertEqual(history.json["messages"]?.array?.first?["reactions"]?.array?.compactMap { $0["emoji"]?.string }, ["😂"])
    }

    func testReceiptsFollowTheStatusRules() async throws {
        let message = try await sendText("status?", from: ann, to: bob.id)
        let id = try XCTUnwrap(UUID(uuidString: message["id"]!.string!))
        let annUser = try await user(ann), bobUser = try await user(bob)
        await XCTAssertThrowsChatrError(.badRequest) { _ = try await self.service.markRead(upTo: id, by: annUser) }
        await XCTAssertThrowsChatrError(.badRequest) { _ = try await self.service.markDelivered(id, by: annUser) }
        let delivered = try await service.markDelivered(id, by: bobUser)
        XCTAssertEqual(delivered.first?.name, "message:status")
        XCTAssertEqual(delivered.first?.target, .user(UUID(uuidString: ann.id)!))
        XCTAssertEqual(delivered.first?.payload["status"], "delivered")
        let read = try await service.markRead(upTo: id, by: bobUser)
        XCTAssertEqual(read.first?.payload["status"], "read")
        XCTAssertNotNil(read.first?.payload["readAt"]?.stringValue)
        let again = try await service.markDelivered(id, by: bobUser)
        XCTAssertTrue(again.isEmpty, "read never goes back to delivered")
        await XCTAssertThrowsChatrError(.badRequest) {
            _ = try await self.service.listening(id, isListening: true, isEnded: false, by: bobUser)
        }
    }

    func testReplySnapshot() async throws {
        let original = try await sendText("Lunch at noon?", from: ann, to: bob.id)
        let reply = try await send(.POST, "/api/messages", json: ["recipientId": .string(ann.id), "content": "Yes!", "replyToId": original["id"]!], token: bob.token)
        XCTAssertEqual(reply.status, .created)
        XCTAssertEqual(reply.json["replyTo"]?["id"], original["id"])
        XCTAssertEqual(reply.json["replyTo"]?["content"], "Lunch at noon?")
        XCTAssertEqual(reply.json["replyTo"]?["senderDisplayName"], "Ann")
    }
}

/// Asserts that `body` throws a `ChatrError` with `status`.
func XCTAssertThrowsChatrError(_ status: HTTPStatus, file: StaticString = #filePath, line: UInt = #line,
                               _ body: () async throws -> Void) async {
    do {
        try await body()
        XCTFail("expected \(status)", file: file, line: line)
    } catch let error as ChatrError {
        XCTAssertEqual(error.status, status, error.reason, file: file, line: line)
    } catch {
        XCTFail("unexpected \(error)", file: file, line: line)
    }
}

import SocketIO
