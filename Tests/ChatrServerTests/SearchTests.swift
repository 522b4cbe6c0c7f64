import Fluent
import Foundation
import SQLKit
import XCTVapor
@testable import ChatrServer

/// `GET /api/search` (issue 17): words, prefixes, phrases and filters over the messages a user
/// may read, on SQLite and (with CHATR_TEST_DATABASE_URL) PostgreSQL.
final class SearchTests: ChatrTestCase {
    var ann: (id: String, token: String)!
    var bob: (id: String, token: String)!
    var cat: (id: String, token: String)!

    override func setUp() async throws {
        try await super.setUp()
        ann = try await makeUser("ann", displayName: "Ann")
        bob = try await makeUser("bob", displayName: "Bob")
        cat = try await makeUser("cat", displayName: "Cat")
    }

    @discardableResult
    func say(_ from: (id: String, token: String), to recipient: String, _ content: String, group: Bool = false) async throws -> String {
        let reply = try await send(.POST, "/api/messages", json: [group ? "groupId" : "recipientId": .string(recipient), "content": .string(content)],
                                   token: from.token)
        XCTAssertEqual(reply.status, .created, reply.text)
        return try XCTUnwrap(reply.json["id"]?.string)
    }

    func search(_ token: String, _ q: String, _ extra: String = "") async throws -> Reply {
        let encoded = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
        return try await send(.GET, "/api/search?q=\(encoded)\(extra)", token: token)
    }

    /// The contents found, in order; fails on anything but 200.
    func found(_ token: String, _ q: String, _ extra: String = "", line: UInt = #line) async throws -> [String] {
        let reply = try await search(token, q, extra)
        XCTAssertEqual(reply.status, .ok, "\(q): \(reply.text)", line: line)
        return reply.json["results"]?.array?.compactMap { $0["message"]?["content"]?.string } ?? []
    }

    /// Asserts what a search finds (in order, or as a set).
    func expect(_ token: String, _ q: String, extra: String = "", _ expected: [String], ordered: Bool = true, _ why: String = "",
                line: UInt = #line) async throws {
        let got = try await found(token, q, extra, line: line)
        if ordered { XCTAssertEqual(got, expected, "\(q) \(why)", line: line) } else { XCTAssertEqual(Set(got), Set(expected), "\(q) \(why)", line: line) }
    }

    func testWordsPrefixesPhrasesAndFoldedText() async throws {
        try await say(ann, to: bob.id, "The release notes are ready for the deploy")
        try await say(bob, to: ann.id, "Notes on the release: deploying on Friday")
        try await say(ann, to: bob.id, "Lunch at the Café du Coin?")
        try await say(bob, to: ann.id, "Nothing to see here")

        try await expect(ann.token, "release", ["The release notes are ready for the deploy", "Notes on the release: deploying on Friday"], ordered: false)
        try await expect(ann.token, "\"release notes\"", ["The release notes are ready for the deploy"], ordered: true, "a phrase keeps its order")
        try await expect(ann.token, "deploy", ["The release notes are ready for the deploy"], ordered: true, "whole words without *")
        let count54 = try await found(ann.token, "deplo*").count
        XCTAssertEqual(count54, 2, "a prefix finds deploy and deploying")
        try await expect(bob.token, "release friday", ["Notes on the release: deploying on Friday"], ordered: true, "words are ANDed")
        for spelling in ["cafe", "CAFÉ", "Café", "cafè"] {
            try await expect(ann.token, spelling, ["Lunch at the Café du Coin?"], ordered: true, spelling)
        }
        try await expect(ann.token, "absent", [])
    }

    func testTheSnippetMarksTheMatchedWordsByOffset() async throws {
        try await say(ann, to: bob.id, "Déjà vu: the café 👋 opens at nine, the CAFÉ closes at six")
        let reply = try await search(ann.token, "cafe")
        let hit = try XCTUnwrap(reply.json["results"]?.array?.first, reply.text)
        let snippet = try XCTUnwrap(hit["snippet"])
        let text = try XCTUnwrap(snippet["text"]?.string)
        let utf16 = Array(text.utf16)
        let marked = try XCTUnwrap(snippet["highlights"]?.array).map { range -> String in
            let start = range["start"]?.int ?? -1, length = range["length"]?.int ?? -1
            return String(utf16CodeUnits: Array(utf16[start..<start + length]), count: length)
        }
        XCTAssertEqual(marked, ["café", "CAFÉ"], "UTF-16 offsets of the original words: \(snippet)")
        XCTAssertEqual(snippet["field"]?.string, "content")
        for (q, words) in [("OPENS dEJA", ["Déjà", "opens"]), ("at", ["at", "at"]), ("vu", ["vu"])] {
            let other = try await search(ann.token, q)
            let highlighted = try XCTUnwrap(other.json["results"]?.array?.first?["snippet"]?["highlights"]?.array, other.text).map { range -> String in
                let start = range["start"]?.int ?? -1, length = range["length"]?.int ?? -1
                return String(utf16CodeUnits: Array(utf16[start..<start + length]), count: length)
            }
            XCTAssertEqual(highlighted, words, "\(q): whole words, folded, ASCII or not")
        }
        XCTAssertEqual(hit["conversation"]?["kind"]?.string, "direct")
        XCTAssertEqual(hit["conversation"]?["user"]?["id"]?.string, bob.id, "the conversation is shown as the other person")

        // "\r\n" is one Character but two UTF-16 units: the offsets after it must still point at the word.
        try await say(ann, to: bob.id, "first line\r\nthe roadmap")
        let crlf = try await search(ann.token, "roadmap")
        let crlfSnippet = try XCTUnwrap(crlf.json["results"]?.array?.first?["snippet"], crlf.text)
        let crlfText = Array(try XCTUnwrap(crlfSnippet["text"]?.string).utf16)
        let crlfMarked = try XCTUnwrap(crlfSnippet["highlights"]?.array).map { range -> String in
            let start = range["start"]?.int ?? -1, length = range["length"]?.int ?? -1
            return String(utf16CodeUnits: Array(crlfText[start..<start + length]), count: length)
        }
        XCTAssertEqual(crlfMarked, ["roadmap"], "\(crlfSnippet)")
    }

    func testOnlyConversationsOneBelongsToFromWhenOneJoined() async throws {
        try await say(ann, to: bob.id, "secret plans for the party")
        try await expect(cat.token, "party", [], ordered: true, "a stranger finds nothing of others' chats")
        try await expect(bob.token, "party", ["secret plans for the party"])

        let group = try await send(.POST, "/api/groups", json: ["name": "Planners", "memberIds": [.string(bob.id)]], token: ann.token)
        let groupID = try XCTUnwrap(group.json["id"]?.string, group.text)
        try await say(ann, to: groupID, "group party before cat", group: true)
        let added = try await send(.POST, "/api/groups/\(groupID)/members", json: ["userId": .string(cat.id)], token: ann.token)
        XCTAssertEqual(added.status.code / 100, 2, added.text)
        try await say(bob, to: groupID, "group party after cat", group: true)
        try await expect(cat.token, "party", ["group party after cat"], ordered: true, "a late joiner finds only what was said since")
        try await expect(bob.token, "party", ["secret plans for the party", "group party before cat", "group party after cat"], ordered: false)

        let removed = try await send(.DELETE, "/api/groups/\(groupID)/members/\(bob.id)", token: ann.token)
        XCTAssertEqual(removed.status.code / 100, 2, removed.text)
        try await expect(bob.token, "party", ["secret plans for the party"], ordered: true, "a removed member no longer finds the group's messages")
        try await expect(ann.token, "party", extra: "&conversationId=\(UUID().uuidString)", [], ordered: true, "another conversation id finds nothing")
    }

    func testEditedMessagesAreFoundByTheirNewTextAndUnsentOnesNever() async throws {
        let edited = try await say(ann, to: bob.id, "meet at the harbour")
        let unsent = try await say(ann, to: bob.id, "the harbour code is 4411")
        let found = try await User.find(UUID(uuidString: ann.id), on: app.db)
        let annUser = try XCTUnwrap(found)
        let service = MessageService(services: app.chatr, db: app.db)
        _ = try await service.edit(try XCTUnwrap(UUID(uuidString: edited)), content: "meet at the station", by: annUser)
        _ = try await service.unsend(try XCTUnwrap(UUID(uuidString: unsent)), by: annUser)
        try await expect(bob.token, "harbour", [], ordered: true, "neither the old text nor the unsent message")
        try await expect(bob.token, "station", ["meet at the station"])
        try await expect(bob.token, "4411", [])
    }

    func testFilters() async throws {
        try await say(ann, to: bob.id, "budget draft from ann")
        try await say(bob, to: ann.id, "budget comments from bob")
        try await say(ann, to: cat.id, "budget talk with cat")
        let group = try await send(.POST, "/api/groups", json: ["name": "Budget Crew", "memberIds": [.string(bob.id)]], token: ann.token)
        let groupID = try XCTUnwrap(group.json["id"]?.string, group.text)
        try await say(bob, to: groupID, "budget in the crew", group: true)

        try await expect(ann.token, "budget from:@bob", ["budget comments from bob", "budget in the crew"], ordered: false)
        try await expect(ann.token, "budget in:@cat", ["budget talk with cat"])
        try await expect(ann.token, "budget in:\"#budget crew\"", ["budget in the crew"], ordered: true, "group names fold case")
        let inGroup = try await search(ann.token, "crew")
        let place = inGroup.json["results"]?.array?.first?["conversation"]
        XCTAssertEqual(place?["kind"]?.string, "group", inGroup.text)
        XCTAssertEqual(place?["group"]?["name"]?.string, "Budget Crew", inGroup.text)
        XCTAssertEqual(place?["user"], .null, "a group hit names no person")
        try await expect(ann.token, "budget in:#nowhere", [])
        try await expect(ann.token, "budget from:@nobody", [])
        try await expect(ann.token, "budget has:file", [], ordered: true, "no files sent")
        try await expect(ann.token, "budget before:2000-01-01", [])
        let count127 = try await found(ann.token, "budget after:2000-01-01").count
        XCTAssertEqual(count127, 4, "")
        try await expect(ann.token, "from:@bob", extra: "&sort=date", ["budget in the crew", "budget comments from bob"], ordered: true,
                         "filters alone list newest first")
        let count131 = try await found(ann.token, "budget", "&from=\(bob.id)").count
        XCTAssertEqual(count131, 2, "")
        for (q, code) in [("budget has:spaceship", "invalid_filter"), ("budget before:31-12-2025", "invalid_filter"), ("", "empty_query")] {
            let reply = try await search(ann.token, q)
            XCTAssertEqual(reply.status, .badRequest, "\(q): \(reply.text)")
            XCTAssertEqual(reply.json["code"]?.string, code, q)
        }
    }

    /// One relevance rule on both databases (`SearchRanking`): a word said more often, then in a
    /// shorter message, ranks higher; equally relevant messages come newest first.
    func testRelevanceOnBothDatabasesAlike() async throws {
        try await say(ann, to: bob.id, "the roadmap for the long quarterly planning meeting on the first monday of next month")
        try await say(bob, to: ann.id, "roadmap")
        try await say(ann, to: bob.id, "roadmap roadmap roadmap please")
        try await say(bob, to: ann.id, "new roadmap")
        try await say(ann, to: bob.id, "old roadmap")
        try await expect(ann.token, "roadmap", ["roadmap roadmap roadmap please", "roadmap", "old roadmap", "new roadmap",
                                                "the roadmap for the long quarterly planning meeting on the first monday of next month"])
        try await expect(bob.token, "roadmap", extra: "&limit=2", ["roadmap roadmap roadmap please", "roadmap"], ordered: true, "a page is the best first")
        let second = try await search(bob.token, "roadmap", "&limit=2&cursor=o2")
        XCTAssertEqual(second.json["results"]?.array?.compactMap { $0["message"]?["content"]?.string }, ["old roadmap", "new roadmap"], second.text)
        try await expect(ann.token, "\"old roadmap\" roadmap", ["old roadmap"])
        try await expect(ann.token, "road*", extra: "&sort=date", ["old roadmap", "new roadmap", "roadmap roadmap roadmap please", "roadmap",
                                                                   "the roadmap for the long quarterly planning meeting on the first monday of next month"])
    }

    func testPagesAndSortByDate() async throws {
        for n in 1...5 { try await say(ann, to: bob.id, "report number \(n)") }
        let first = try await search(bob.token, "report", "&limit=2&sort=date")
        XCTAssertEqual(first.json["results"]?.array?.compactMap { $0["message"]?["content"]?.string }, ["report number 5", "report number 4"])
        let cursor = try XCTUnwrap(first.json["nextCursor"]?.string, first.text)
        let second = try await search(bob.token, "report", "&limit=2&sort=date&cursor=\(cursor)")
        XCTAssertEqual(second.json["results"]?.array?.compactMap { $0["message"]?["content"]?.string }, ["report number 3", "report number 2"])
        let last = try await search(bob.token, "report", "&limit=2&sort=date&cursor=\(try XCTUnwrap(second.json["nextCursor"]?.string))")
        XCTAssertEqual(last.json["results"]?.array?.count, 1)
        XCTAssertEqual(last.json["nextCursor"], .null)
        for extra in ["&cursor=abc", "&limit=0", "&limit=51", "&limit=ten", "&sort=popularity", "&conversationId=nope", "&before=yesterday"] {
            let reply = try await search(bob.token, "report", extra)
            XCTAssertEqual(reply.status, .badRequest, "\(extra): \(reply.text)")
        }
    }

    func testHostileQueriesNeverFail() async throws {
        try await say(ann, to: bob.id, "an ordinary message about robert tables")
        let hostile = ["\"", "*", "\"\"", "\"unclosed phrase", "a*", "NEAR(robert tables)", "robert AND OR NOT", "message_search:robert",
                       "'; DROP TABLE messages; --", "robert) OR (1=1", "^robert", "robert:*", "!robert & tables", "\\", "%_%",
                       "from:", "in:", "in:#", "has:", String(repeating: "é", count: 400), "🙂 robert", "-robert", "+tables"]
        for q in hostile {
            let reply = try await search(ann.token, q)
            XCTAssertTrue([200, 400].contains(reply.status.code), "\(q): \(reply.status) \(reply.text)")
            XCTAssertEqual(reply.headers.contentType, .json, q)
        }
        try await expect(ann.token, "(robert) tables!*", ["an ordinary message about robert tables"], ordered: true, "punctuation is not syntax")
        let long = try await search(ann.token, String(repeating: "robert ", count: 1500))
        XCTAssertEqual(long.status, .badRequest, "a 10 KB query")
        XCTAssertEqual(long.json["code"]?.string, "query_too_long")
        let many = try await search(ann.token, (1...20).map { "w\($0)" }.joined(separator: " "))
        XCTAssertEqual(many.json["code"]?.string, "too_many_terms")
        let longPhrase = try await search(ann.token, "\"" + (1...20).map { "w\($0)" }.joined(separator: " ") + "\"")
        XCTAssertEqual(longPhrase.json["code"]?.string, "too_many_terms", "a phrase's words count too")
        // The words standing for conversations in the index are not searchable: `zq*` would
        // list every message of every conversation one is in.
        for q in ["zq*", "zqab", "\"zqa robert\"", "²", "½ ²"] {
            let reply = try await search(ann.token, q)
            if q.contains("robert") {
                XCTAssertEqual(reply.json["results"]?.array?.count, 1, "\(q): only the real word counts: \(reply.text)")
            } else {
                XCTAssertEqual(reply.json["code"]?.string, "empty_query", "\(q): \(reply.text)")
            }
        }
        let anonymous = try await search("not-a-token", "robert")
        XCTAssertEqual(anonymous.status, .unauthorized)
    }

    /// Messages stored before search existed are indexed by the migration, which writes nothing
    /// to the change feed (filling a new column changes nothing a client sees).
    func testTheMigrationIndexesExistingMessagesQuietly() async throws {
        try await say(ann, to: bob.id, "an old message from before search")
        let sql = app.db as! any SQLDatabase
        try await CreateMessageSearch().revert(on: app.db)
        let changesBefore = try await sql.raw("SELECT COUNT(*) AS n FROM changes").first()?.decode(column: "n", as: Int.self)
        try await CreateMessageSearch().prepare(on: app.db)
        let changesAfter = try await sql.raw("SELECT COUNT(*) AS n FROM changes").first()?.decode(column: "n", as: Int.self)
        XCTAssertEqual(changesAfter, changesBefore, "the backfill wrote to the change feed")
        try await expect(bob.token, "old search", ["an old message from before search"])
        // And the triggers it made keep the index in step from then on.
        try await say(bob, to: ann.id, "a new message after the migration")
        try await expect(ann.token, "migration", ["a new message after the migration"])
        let inserted = try await sql.raw("SELECT COUNT(*) AS n FROM changes").first()?.decode(column: "n", as: Int.self)
        XCTAssertGreaterThan(inserted ?? 0, changesAfter ?? 0, "a new message reaches the feed")
        // An edit (an update of the content and search_text) still reaches the feed.
        let users = try await User.query(on: app.db).all()
        let bobUser = try XCTUnwrap(users.first { $0.id?.wire == bob.id })
        let newestMessage = try await Message.query(on: app.db).filter(\.$content == "a new message after the migration").first()
        let newest = try XCTUnwrap(newestMessage)
        _ = try await MessageService(services: app.chatr, db: app.db).edit(try newest.requireID(), content: "an edited message", by: bobUser)
        let edited = try await sql.raw("SELECT COUNT(*) AS n FROM changes").first()?.decode(column: "n", as: Int.self)
        XCTAssertGreaterThan(edited ?? 0, inserted ?? 0, "the feed's update trigger fires for an edit")
        try await expect(ann.token, "edited", ["an edited message"])
    }

    /// A hit opens in its conversation: `history?around=<id>` is the message with the ones just
    /// before and after it, and says whether there are more on each side.
    func testAHitOpensWithTheHistoryAroundIt() async throws {
        var ids: [String] = []
        for n in 1...9 { ids.append(try await say(ann, to: bob.id, n == 5 ? "the needle" : "hay \(n)")) }
        let hit = try await search(bob.token, "needle")
        let hitID = try XCTUnwrap(hit.json["results"]?.array?.first?["message"]?["id"]?.string, hit.text)
        XCTAssertEqual(hitID, ids[4])
        let page = try await send(.GET, "/api/messages/history?otherUserId=\(ann.id)&around=\(hitID)&limit=4", token: bob.token)
        XCTAssertEqual(page.status, .ok, page.text)
        XCTAssertEqual(page.json["messages"]?.array?.compactMap { $0["content"]?.string }, ["hay 4", "the needle", "hay 6", "hay 7"], "oldest first")
        XCTAssertEqual(page.json["hasMore"], .bool(true))
        XCTAssertEqual(page.json["hasMoreAfter"], .bool(true))
        let edge = try await send(.GET, "/api/messages/history?otherUserId=\(ann.id)&around=\(ids[8])&limit=4", token: bob.token)
        XCTAssertEqual(edge.json["messages"]?.array?.compactMap { $0["content"]?.string }, ["hay 8", "hay 9"])
        XCTAssertEqual(edge.json["hasMoreAfter"], .bool(false))
        try await say(cat, to: bob.id, "hi bob")
        let elsewhere = try await send(.GET, "/api/messages/history?otherUserId=\(cat.id)&around=\(hitID)", token: bob.token)
        XCTAssertEqual(elsewhere.status, .badRequest, "a message of another conversation is no anchor: \(elsewhere.text)")
        let both = try await send(.GET, "/api/messages/history?otherUserId=\(ann.id)&around=\(hitID)&before=\(hitID)", token: bob.token)
        XCTAssertEqual(both.status, .badRequest)
    }
}
