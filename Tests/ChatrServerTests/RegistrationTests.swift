import Fluent
import XCTVapor
@testable import ChatrServer

final class RegistrationTests: ChatrTestCase {
    func testRegisterByEmailThenVerifySignsIn() async throws {
        let registered = try await send(.POST, "/api/auth/register", json: [
            "email": "Ann@Example.com", "username": "ann_1", "password": "Passw0rd!", "displayName": "Ann",
        ])
        XCTAssertEqual(registered.status, .created)
        XCTAssertEqual(registered.json["verificationMethod"], "email")
        let userId = try XCTUnwrap(registered.json["userId"]?.string)
        XCTAssertEqual(userId, userId.lowercased(), "ids are lowercase UUIDs")

        let email = try XCTUnwrap(services.outbox.all.last)
        XCTAssertEqual(email.channel, "email")
        XCTAssertEqual(email.to, "ann@example.com", "emails are stored lowercased")
        let code = try XCTUnwrap(email.code)
        XCTAssertEqual(code.count, 6)
        XCTAssertTrue(email.body.contains(code))

        // The code is not stored in the clear.
        let stored = try await VerificationCode.query(on: app.db).all()
        XCTAssertEqual(stored.count, 1)
        XCTAssertFalse(stored[0].codeHash.contains(code))

        let verified = try await send(.POST, "/api/auth/verify-email", json: ["userId": .string(userId), "code": .string(code)])
        XCTAssertEqual(verified.status, .ok)
        XCTAssertNotNil(verified.json["token"]?.string)
        let user = try XCTUnwrap(verified.json["user"])
        XCTAssertEqual(user["username"], "@ann_1")
        XCTAssertEqual(user["displayName"], "Ann")
        XCTAssertEqual(user["emailVerified"], true)
        XCTAssertEqual(user["phoneVerified"], false)
        XCTAssertEqual(user["twoFactorEnabled"], false)
        XCTAssertEqual(user["showOnlineStatus"], true)
        XCTAssertEqual(user["phoneNumber"], .null)
        XCTAssertNotNil(user["createdAt"]?.string.flatMap(ISO8601.date(from:)))

        let me = try await send(.GET, "/api/users/me", token: verified.json["token"]?.string)
        XCTAssertEqual(me.status, .ok)
        XCTAssertEqual(me.json["id"]?.string, userId)
    }

    func testRegisterByPhoneSendsAnSMS() async throws {
        let registered = try await send(.POST, "/api/auth/register", json: [
            "phoneNumber": "+44 7700 900123", "username": "@phoney", "password": "Passw0rd!",
        ])
        XCTAssertEqual(registered.status, .created, registered.text)
        XCTAssertEqual(registered.json["verificationMethod"], "sms")
        let sms = try XCTUnwrap(services.outbox.all.last)
        XCTAssertEqual(sms.channel, "sms")
        XCTAssertEqual(sms.to, "+447700900123")
        XCTAssertTrue(sms.body.contains(try XCTUnwrap(sms.code)))

        let wrongPurpose = try await send(.POST, "/api/auth/verify-email", json: ["userId": registered.json["userId"]!, "code": .string(sms.code!)])
        XCTAssertEqual(wrongPurpose.status, .badRequest, "an SMS code does not verify an email")
        let verified = try await send(.POST, "/api/auth/verify-phone", json: ["userId": registered.json["userId"]!, "code": .string(sms.code!)])
        XCTAssertEqual(verified.status, .ok)
        XCTAssertEqual(verified.json["user"]?["phoneVerified"], true)
        XCTAssertEqual(verified.json["user"]?["username"], "@phoney")
    }

    func testWeakPasswordsAreRefusedWithAReason() async throws {
        for (password, reason) in [("Sh0rt!", "at least 8"), ("alllowercase!", "uppercase"), ("NoSpecials123", "special")] {
            let reply = try await send(.POST, "/api/auth/register", json: ["email": "w@example.com", "username": "weak", "password": .string(password)])
            XCTAssertEqual(reply.status, .badRequest)
            XCTAssertEqual(reply.json["code"], "weak_password")
            XCTAssertTrue(reply.error?.contains(reason) == true, reply.text)
        }
        let count = try await User.query(on: app.db).count()
        XCTAssertEqual(count, 0)
        XCTAssertTrue(services.outbox.all.isEmpty)
    }

    func testInvalidInputIsRefused() async throws {
        let cases: [(JSONValue, String)] = [
            (["username": "nobody", "password": "Passw0rd!"], "missing_contact"),
            (["email": "not-an-email", "username": "nobody", "password": "Passw0rd!"], "invalid_email"),
            (["phoneNumber": "07700900123", "username": "nobody", "password": "Passw0rd!"], "invalid_phone"),
            (["email": "x@example.com", "username": "no", "password": "Passw0rd!"], "invalid_username"),
            (["email": "x@example.com", "username": "has space", "password": "Passw0rd!"], "invalid_username"),
            (["email": "x@example.com", "username": "waytoolongusername_123", "password": "Passw0rd!"], "invalid_username"),
            (["email": "x@example.com", "username": "okname", "password": "Passw0rd!", "displayName": .string(String(repeating: "d", count: 51))], "invalid_display_name"),
        ]
        for (body, code) in cases {
            let reply = try await send(.POST, "/api/auth/register", json: body)
            XCTAssertEqual(reply.status, .badRequest, "\(body)")
            XCTAssertEqual(reply.json["code"]?.string, code, reply.text)
        }
        let missing = try await send(.POST, "/api/auth/register", json: ["email": "x@example.com", "password": "Passw0rd!"])
        XCTAssertEqual(missing.status, .badRequest)
        XCTAssertEqual(missing.error, "Missing field 'username'")
        let wrongType = try await send(.POST, "/api/auth/register", json: ["email": 42, "username": "okname", "password": "Passw0rd!"])
        XCTAssertEqual(wrongType.status, .badRequest)
        XCTAssertEqual(wrongType.error, "Wrong type for 'email'")
        let count = try await User.query(on: app.db).count()
        XCTAssertEqual(count, 0)
    }

    func testVerifiedUsernameEmailAndPhoneAreTaken() async throws {
        _ = try await makeUser("taken")
        let sameUsername = try await send(.POST, "/api/auth/register", json: ["email": "other@example.com", "username": "@TAKEN", "password": "Passw0rd!"])
        XCTAssertEqual(sameUsername.status, .conflict)
        XCTAssertEqual(sameUsername.json["code"], "username_taken")
        let sameEmail = try await send(.POST, "/api/auth/register", json: ["email": "TAKEN@example.com", "username": "other", "password": "Passw0rd!"])
        XCTAssertEqual(sameEmail.status, .conflict)
        XCTAssertEqual(sameEmail.json["code"], "email_taken")
        let count = try await User.query(on: app.db).count()
        XCTAssertEqual(count, 1)
    }

    func testAnUnverifiedDuplicateIsReplaced() async throws {
        let first = try await send(.POST, "/api/auth/register", json: ["email": "dup@example.com", "username": "dup", "password": "Passw0rd!"])
        let firstCode = try code(to: "dup@example.com")
        let second = try await send(.POST, "/api/auth/register", json: ["email": "dup@example.com", "username": "dup2", "password": "Passw0rd!"])
        XCTAssertEqual(second.status, .created)
        XCTAssertNotEqual(first.json["userId"], second.json["userId"])
        let users = try await User.query(on: app.db).all()
        XCTAssertEqual(users.map(\.username), ["@dup2"])
        // The first registration's code died with it.
        let stale = try await send(.POST, "/api/auth/verify-email", json: ["userId": first.json["userId"]!, "code": .string(firstCode)])
        XCTAssertEqual(stale.status, .badRequest)
    }

    func testWrongExpiredAndReusedCodes() async throws {
        let registered = try await send(.POST, "/api/auth/register", json: ["email": "c@example.com", "username": "coder", "password": "Passw0rd!"])
        let userId = registered.json["userId"]!
        let good = try code(to: "c@example.com")
        let wrong = good == "000000" ? "111111" : "000000"

        let attempt = try await send(.POST, "/api/auth/verify-email", json: ["userId": userId, "code": .string(wrong)])
        XCTAssertEqual(attempt.status, .badRequest)
        XCTAssertEqual(attempt.json["code"], "invalid_code")
        XCTAssertEqual(attempt.json["details"]?["attemptsLeft"], "4")

        services.clock.advance(by: 16 * 60)
        let expired = try await send(.POST, "/api/auth/verify-email", json: ["userId": userId, "code": .string(good)])
        XCTAssertEqual(expired.status, .badRequest)
        XCTAssertEqual(expired.json["code"], "code_expired")

        let resent = try await send(.POST, "/api/auth/resend-verification", json: ["userId": userId])
        XCTAssertEqual(resent.status, .ok)
        let fresh = try code(to: "c@example.com")
        let ok = try await send(.POST, "/api/auth/verify-email", json: ["userId": userId, "code": .string(fresh)])
        XCTAssertEqual(ok.status, .ok)
        let reused = try await send(.POST, "/api/auth/verify-email", json: ["userId": userId, "code": .string(fresh)])
        XCTAssertEqual(reused.status, .badRequest, "a code works once")
        XCTAssertNil(reused.json["token"])
    }

    func testTheSixthTryIsLockedEvenWithTheRightCode() async throws {
        let registered = try await send(.POST, "/api/auth/register", json: ["email": "l@example.com", "username": "locky", "password": "Passw0rd!"])
        let userId = registered.json["userId"]!
        let good = try code(to: "l@example.com")
        let wrong = good == "999999" ? "888888" : "999999"
        for _ in 1...5 {
            let reply = try await send(.POST, "/api/auth/verify-email", json: ["userId": userId, "code": .string(wrong)])
            XCTAssertEqual(reply.status, .badRequest)
        }
        let sixth = try await send(.POST, "/api/auth/verify-email", json: ["userId": userId, "code": .string(good)])
        XCTAssertEqual(sixth.status, .badRequest)
        XCTAssertEqual(sixth.json["code"], "code_locked")
        let user = try await User.find(UUID(uuidString: userId.string!), on: app.db)
        XCTAssertEqual(user?.emailVerified, false)
    }

    /// Issue 16 (1): wrong codes sent at once cannot outrun the lock — at most five are ever
    /// compared, and the right code is refused after them.
    func testConcurrentWrongCodesAreCountedBeforeTheyAreCompared() async throws {
        let registered = try await send(.POST, "/api/auth/register", json: ["email": "race@example.com", "username": "racer", "password": "Passw0rd!"])
        let userId = try XCTUnwrap(registered.json["userId"]?.string)
        let good = try code(to: "race@example.com")
        let wrong = good == "999999" ? "888888" : "999999"
        let app = self.app!
        let codes = await withTaskGroup(of: String.self) { group -> [String] in
            for _ in 0..<20 {
                group.addTask {
                    var headers = HTTPHeaders()
                    headers.contentType = .json
                    let body = ByteBuffer(string: #"{"userId":"\#(userId)","code":"\#(wrong)"}"#)
                    guard let reply = try? await app.sendRequest(.POST, "/api/auth/verify-email", headers: headers, body: body),
                          let json = try? JSONDecoder().decode(JSONValue.self, from: Data(buffer: reply.body)) else { return "no answer" }
                    return json["code"]?.string ?? "status \(reply.status.code)"
                }
            }
            var codes: [String] = []
            for await code in group { codes.append(code) }
            return codes
        }
        XCTAssertEqual(codes.filter { $0 == "invalid_code" }.count, 4, "\(codes)")
        XCTAssertEqual(codes.filter { $0 == "code_locked" }.count, 16, "\(codes)")
        let stored = try await VerificationCode.query(on: app.db).filter(\.$userID == UUID(uuidString: userId)!).first()
        XCTAssertEqual(stored?.attempts, 5)
        let right = try await send(.POST, "/api/auth/verify-email", json: ["userId": .string(userId), "code": .string(good)])
        XCTAssertEqual(right.json["code"], "code_locked")
    }

    /// Issue 16 (2): an unknown account is checked against a hash as costly as a real one.
    func testTheDecoyHashCostsWhatARealHashCosts() async throws {
        let real = try await services.passwords.hash("Passw0rd!")
        XCTAssertEqual(services.passwords.decoy.split(separator: "$")[1], real.split(separator: "$")[1], "same bcrypt cost")
        XCTAssertEqual(String(services.passwords.decoy.split(separator: "$")[1]), String(format: "%02d", services.passwords.cost))
    }

    func testResendIsThrottledAndRetiresTheOldCode() async throws {
        let registered = try await send(.POST, "/api/auth/register", json: ["email": "r@example.com", "username": "resender", "password": "Passw0rd!"])
        let userId = registered.json["userId"]!
        let first = try code(to: "r@example.com")
        let tooSoon = try await send(.POST, "/api/auth/resend-verification", json: ["userId": userId])
        XCTAssertEqual(tooSoon.status, .tooManyRequests)
        let retryAfter = try XCTUnwrap(tooSoon.headers.first(name: "Retry-After").flatMap(Int.init))
        XCTAssertTrue((1...30).contains(retryAfter))

        services.clock.advance(by: 31)
        let resent = try await send(.POST, "/api/auth/resend-verification", json: ["userId": userId, "method": "email"])
        XCTAssertEqual(resent.status, .ok)
        let second = try code(to: "r@example.com")
        XCTAssertEqual(services.outbox.all.filter { $0.to == "r@example.com" }.count, 2)
        if first != second {
            let old = try await send(.POST, "/api/auth/verify-email", json: ["userId": userId, "code": .string(first)])
            XCTAssertEqual(old.status, .badRequest, "a new code retires the previous one")
        }
        let smsWithoutPhone = try await send(.POST, "/api/auth/resend-verification", json: ["userId": userId, "method": "sms"])
        XCTAssertEqual(smsWithoutPhone.status, .badRequest)
        let unknown = try await send(.POST, "/api/auth/resend-verification", json: ["userId": .string(UUID().uuidString)])
        XCTAssertEqual(unknown.status, .notFound)
        let badId = try await send(.POST, "/api/auth/resend-verification", json: ["userId": "not-a-uuid"])
        XCTAssertEqual(badId.status, .badRequest)
    }
}
