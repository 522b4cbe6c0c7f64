import XCTVapor
@testable import ChatrServer

final class UserTests: ChatrTestCase {
    func testListShowsVerifiedOthersInPages() async throws {
        let me = try await makeUser("myself")
        for name in ["amy", "bob", "cat", "dan", "eve"] { _ = try await makeUser(name) }
        _ = try await send(.POST, "/api/auth/register", json: ["email": "ghost@example.com", "username": "ghost", "password": .string(Self.password)])

        var seen: [String] = []
        var cursor: String?
        repeat {
            let path = "/api/users?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
            let page = try await send(.GET, path, token: me.token)
            XCTAssertEqual(page.status, .ok, page.text)
            let users = try XCTUnwrap(page.json["users"]?.array)
            XCTAssertLessThanOrEqual(users.count, 2)
            for user in users {
                seen.append(try XCTUnwrap(user["username"]?.string))
                XCTAssertNil(user["email"], "public profiles carry no email")
                XCTAssertNil(user["phoneNumber"])
                XCTAssertNil(user["twoFactorEnabled"])
            }
            cursor = page.json["nextCursor"]?.string
        } while cursor != nil
        XCTAssertEqual(seen.sorted(), ["@amy", "@bob", "@cat", "@dan", "@eve"], "no duplicates, no gaps, no me, no unverified")

        for bad in ["/api/users?limit=0", "/api/users?limit=201", "/api/users?limit=abc", "/api/users?cursor=xyz"] {
            let reply = try await send(.GET, bad, token: me.token)
            XCTAssertEqual(reply.status, .badRequest, bad)
            XCTAssertNotNil(reply.error)
        }
    }

    func testUpdateMe() async throws {
        let ann = try await makeUser("ann")
        let updated = try await send(.PUT, "/api/users/me", json: ["displayName": " Ann Lee ", "firstName": "Ann", "lastName": "Lee", "showOnlineStatus": false], token: ann.token)
        XCTAssertEqual(updated.status, .ok)
        XCTAssertEqual(updated.json["displayName"], "Ann Lee")
        XCTAssertEqual(updated.json["firstName"], "Ann")
        XCTAssertEqual(updated.json["showOnlineStatus"], false)
        let partial = try await send(.PUT, "/api/users/me", json: ["lastName": ""], token: ann.token)
        XCTAssertEqual(partial.json["lastName"], .null, "an empty name clears it")
        XCTAssertEqual(partial.json["displayName"], "Ann Lee", "fields not sent are kept")

        let tooLong = try await send(.PUT, "/api/users/me", json: ["displayName": .string(String(repeating: "x", count: 51))], token: ann.token)
        XCTAssertEqual(tooLong.status, .badRequest)
        // Limits count code points, as the OpenAPI document's maxLength does: ten letters each
        // carrying five combining accents are 10 characters on screen but 60 code points.
        let stacked = String(repeating: "e\u{301}\u{302}\u{303}\u{304}\u{308}", count: 10)
        XCTAssertEqual(stacked.count, 10)
        for field in ["displayName", "firstName", "lastName"] {
            let reply = try await send(.PUT, "/api/users/me", json: [field: .string(stacked)], token: ann.token)
            XCTAssertEqual(reply.status, .badRequest, field)
        }
        let accented = try await send(.PUT, "/api/users/me", json: ["firstName": .string(String(repeating: "é", count: 50))], token: ann.token)
        XCTAssertEqual(accented.status, .ok, "50 precomposed letters are 50 code points")
        let empty = try await send(.PUT, "/api/users/me", json: ["displayName": "   "], token: ann.token)
        XCTAssertEqual(empty.status, .badRequest)
        let wrongType = try await send(.PUT, "/api/users/me", json: ["showOnlineStatus": "yes"], token: ann.token)
        XCTAssertEqual(wrongType.status, .badRequest)
        XCTAssertEqual(wrongType.error, "Wrong type for 'showOnlineStatus'")
        let malformed = try await send(.PUT, "/api/users/me", raw: "{\"displayName\":", token: ann.token)
        XCTAssertEqual(malformed.status, .badRequest)
        XCTAssertEqual(malformed.error, "Malformed JSON")
        let stored = try await User.find(UUID(uuidString: ann.id), on: app.db)
        XCTAssertEqual(stored?.displayName, "Ann Lee")
    }

    /// A bio: trimmed, blank lines squeezed, at most 160 code points, cleared by an empty string,
    /// shown on the public profile.
    func testBio() async throws {
        let ann = try await makeUser("ann")
        let bob = try await makeUser("bob")
        let set = try await send(.PUT, "/api/users/me", json: ["bio": "  Tea first.\n\n\n  Then code.  "], token: ann.token)
        XCTAssertEqual(set.status, .ok)
        XCTAssertEqual(set.json["bio"], "Tea first.\nThen code.")
        let seen = try await send(.GET, "/api/users/ann", token: bob.token)
        XCTAssertEqual(seen.json["bio"], "Tea first.\nThen code.")
        let renamed = try await send(.PUT, "/api/users/me", json: ["displayName": "Ann"], token: ann.token)
        XCTAssertEqual(renamed.json["bio"], "Tea first.\nThen code.", "kept when not sent")
        let tooLong = try await send(.PUT, "/api/users/me", json: ["bio": .string(String(repeating: "é", count: 161))], token: ann.token)
        XCTAssertEqual(tooLong.status, .badRequest)
        XCTAssertEqual(tooLong.json["code"], "invalid_bio")
        let longest = try await send(.PUT, "/api/users/me", json: ["bio": .string(String(repeating: "é", count: 160))], token: ann.token)
        XCTAssertEqual(longest.status, .ok)
        let nul = try await send(.PUT, "/api/users/me", json: ["bio": "nul\u{0}"], token: ann.token)
        XCTAssertEqual(nul.status, .badRequest)
        let cleared = try await send(.PUT, "/api/users/me", json: ["bio": " \n "], token: ann.token)
        XCTAssertEqual(cleared.json["bio"], .null)
        let me = try await send(.GET, "/api/users/me", token: ann.token)
        XCTAssertEqual(me.json["bio"], .null)
    }

    func testCheckAndSuggestUsernames() async throws {
        _ = try await makeUser("taken")
        let free = try await send(.GET, "/api/users/check-username?username=freebie")
        XCTAssertEqual(free.json["available"], true)
        XCTAssertEqual(free.json["username"], "@freebie")
        let taken = try await send(.GET, "/api/users/check-username?username=%40TAKEN")
        XCTAssertEqual(taken.json["available"], false)
        let invalid = try await send(.GET, "/api/users/check-username?username=a!")
        XCTAssertEqual(invalid.json["available"], false)
        XCTAssertNotNil(invalid.json["reason"]?.string)
        let missing = try await send(.GET, "/api/users/check-username")
        XCTAssertEqual(missing.status, .badRequest)

        let suggestions = try await send(.GET, "/api/users/suggest-username?username=taken")
        let names = try XCTUnwrap(suggestions.json["suggestions"]?.array?.compactMap(\.string))
        XCTAssertEqual(names.count, 5)
        XCTAssertFalse(names.map { $0.lowercased() }.contains("@taken"))
        for name in names {
            XCTAssertNotNil(CredentialRules.normalizedUsername(name), name)
            let check = try await send(.GET, "/api/users/check-username?username=\(name.dropFirst())")
            XCTAssertEqual(check.json["available"], true, name)
        }
    }

    func testSearchByUsernameOrDisplayName() async throws {
        let me = try await makeUser("searcher")
        _ = try await makeUser("alice_w", displayName: "Alice Wonder")
        _ = try await makeUser("bob", displayName: "Bobby Tables")
        _ = try await makeUser("al_x", displayName: "Xavier")
        let byName = try await send(.GET, "/api/users/search?q=ALI", token: me.token)
        XCTAssertEqual(byName.json["users"]?.array?.compactMap { $0["username"]?.string }, ["@alice_w"])
        let byDisplay = try await send(.GET, "/api/users/search?q=tables", token: me.token)
        XCTAssertEqual(byDisplay.json["users"]?.array?.compactMap { $0["username"]?.string }, ["@bob"])
        // "_" is a literal underscore, not a wildcard.
        let underscore = try await send(.GET, "/api/users/search?q=l_", token: me.token)
        XCTAssertEqual(underscore.json["users"]?.array?.compactMap { $0["username"]?.string }, ["@al_x"])
        let percent = try await send(.GET, "/api/users/search?q=%25", token: me.token)
        XCTAssertEqual(percent.json["users"]?.array?.count, 0)
        let notMe = try await send(.GET, "/api/users/search?q=searcher", token: me.token)
        XCTAssertEqual(notMe.json["users"]?.array?.count, 0)
        let empty = try await send(.GET, "/api/users/search?q=", token: me.token)
        XCTAssertEqual(empty.json["users"]?.array?.count, 0)
    }

    func testProfileByUsername() async throws {
        let me = try await makeUser("viewer")
        let ann = try await makeUser("ann", displayName: "Ann")
        let profile = try await send(.GET, "/api/users/ANN", token: me.token)
        XCTAssertEqual(profile.status, .ok)
        XCTAssertEqual(profile.json["id"]?.string, ann.id)
        XCTAssertEqual(profile.json["displayName"], "Ann")
        XCTAssertNil(profile.json["email"])
        let withAt = try await send(.GET, "/api/users/@ann", token: me.token)
        XCTAssertEqual(withAt.status, .ok)
        let missing = try await send(.GET, "/api/users/nobody", token: me.token)
        XCTAssertEqual(missing.status, .notFound)
        XCTAssertEqual(missing.error, "User not found")
        let anonymous = try await send(.GET, "/api/users/ann")
        XCTAssertEqual(anonymous.status, .unauthorized)
    }

    func testHiddenOnlineStatusHidesLastSeen() async throws {
        let me = try await makeUser("viewer")
        let ann = try await makeUser("ann")
        let user = try await User.find(UUID(uuidString: ann.id), on: app.db)!
        user.lastSeen = Date()
        user.showOnlineStatus = false
        try await user.save(on: app.db)
        let profile = try await send(.GET, "/api/users/ann", token: me.token)
        XCTAssertEqual(profile.json["lastSeen"], .null)
    }

    func testOnlyContactsSeeWhenSomeoneWasLastSeen() async throws {
        let stranger = try await makeUser("stranger")
        let friend = try await makeUser("friend")
        let ann = try await makeUser("ann")
        let user = try await User.find(UUID(uuidString: ann.id), on: app.db)!
        user.lastSeen = Date()
        try await user.save(on: app.db)
        _ = try await send(.POST, "/api/messages", json: ["recipientId": .string(ann.id), "content": "hi"], token: friend.token)

        for path in ["/api/users/ann", "/api/users/search?q=ann", "/api/users?limit=200"] {
            let seenByStranger = try await send(.GET, path, token: stranger.token)
            let seenByFriend = try await send(.GET, path, token: friend.token)
            XCTAssertEqual(seenByStranger.status, .ok, path)
            func annIn(_ json: JSONValue) -> JSONValue? {
                json["users"]?.array?.first { $0["username"] == "@ann" } ?? (json["username"] == "@ann" ? json : nil)
            }
            XCTAssertEqual(annIn(seenByStranger.json)?["lastSeen"], .null, "\(path): a stranger does not learn when Ann was last seen")
            XCTAssertNotNil(annIn(seenByFriend.json)?["lastSeen"]?.string, "\(path): a contact does")
        }
    }
}
