import XCTVapor
@testable import ChatrServer

final class LoginTests: ChatrTestCase {
    /// Login step 1 → login code → token.
    func signIn(_ identifier: String, email: String, method: String? = nil) async throws -> String {
        var body: [String: JSONValue] = ["email": .string(identifier), "password": .string(Self.password)]
        if let method { body["verificationMethod"] = .string(method) }
        let step1 = try await send(.POST, "/api/auth/login", json: .object(body))
        XCTAssertEqual(step1.status, .ok, step1.text)
        XCTAssertEqual(step1.json["requiresLoginVerification"], true)
        let step2 = try await send(.POST, "/api/auth/login/verify", json: ["userId": step1.json["userId"]!, "code": .string(try code(to: email))])
        XCTAssertEqual(step2.status, .ok, step2.text)
        return try XCTUnwrap(step2.json["token"]?.string)
    }

    func testLoginByEmailOrUsernameWithACodeStep() async throws {
        let ann = try await makeUser("ann")
        for identifier in ["ann@example.com", "ANN@example.com", "ann", "@Ann"] {
            let token = try await signIn(identifier, email: "ann@example.com")
            let me = try await send(.GET, "/api/users/me", token: token)
            XCTAssertEqual(me.json["id"]?.string, ann.id)
        }
        XCTAssertEqual(services.outbox.all.last?.subject, "Your Chatr login code")
    }

    func testWrongCredentialsLookTheSame() async throws {
        _ = try await makeUser("ann")
        let wrongPassword = try await send(.POST, "/api/auth/login", json: ["email": "ann@example.com", "password": "Wrong-pass1"])
        let noSuchUser = try await send(.POST, "/api/auth/login", json: ["email": "nobody@example.com", "password": "Wrong-pass1"])
        XCTAssertEqual(wrongPassword.status, .unauthorized)
        XCTAssertEqual(noSuchUser.status, .unauthorized)
        XCTAssertEqual(wrongPassword.error, "Invalid credentials")
        XCTAssertEqual(noSuchUser.error, "Invalid credentials")
        XCTAssertEqual(services.outbox.all.count, 1, "no login code was sent")
    }

    func testUnverifiedAccountGetsAFreshVerificationCode() async throws {
        let registered = try await send(.POST, "/api/auth/register", json: ["email": "u@example.com", "username": "unver", "password": .string(Self.password)])
        let login = try await send(.POST, "/api/auth/login", json: ["email": "unver", "password": .string(Self.password)])
        XCTAssertEqual(login.status, .ok)
        XCTAssertEqual(login.json["requiresEmailVerification"], true)
        XCTAssertEqual(login.json["userId"], registered.json["userId"])
        XCTAssertNil(login.json["token"])
        XCTAssertEqual(services.outbox.all.filter { $0.to == "u@example.com" }.count, 2)
        let verified = try await send(.POST, "/api/auth/verify-email", json: ["userId": login.json["userId"]!, "code": .string(try code(to: "u@example.com"))])
        XCTAssertEqual(verified.status, .ok)
    }

    func testLoginCodeBySMS() async throws {
        let registered = try await send(.POST, "/api/auth/register", json: [
            "email": "both@example.com", "phoneNumber": "+15555550100", "username": "both", "password": .string(Self.password)])
        _ = try await send(.POST, "/api/auth/verify-email", json: ["userId": registered.json["userId"]!, "code": .string(try code(to: "both@example.com"))])
        let token = try await signIn("both", email: "+15555550100", method: "sms")
        XCTAssertEqual(services.outbox.all.last?.channel, "sms")
        let me = try await send(.GET, "/api/users/me", token: token)
        XCTAssertEqual(me.json["phoneNumber"], "+15555550100")
        let badMethod = try await send(.POST, "/api/auth/login", json: ["email": "both", "password": .string(Self.password), "verificationMethod": "pigeon"])
        XCTAssertEqual(badMethod.status, .badRequest)
    }

    func testLegacyOneStepFormWithLoginVerificationCode() async throws {
        _ = try await makeUser("legacy")
        let step1 = try await send(.POST, "/api/auth/login", json: ["email": "legacy@example.com", "password": .string(Self.password)])
        XCTAssertEqual(step1.json["requiresLoginVerification"], true)
        let code = try code(to: "legacy@example.com")
        let wrongPassword = try await send(.POST, "/api/auth/login", json: ["email": "legacy@example.com", "password": "Nope-nope1", "loginVerificationCode": .string(code)])
        XCTAssertEqual(wrongPassword.status, .unauthorized)
        let done = try await send(.POST, "/api/auth/login", json: ["email": "legacy@example.com", "password": .string(Self.password), "loginVerificationCode": .string(code)])
        XCTAssertEqual(done.status, .ok, done.text)
        XCTAssertNotNil(done.json["token"]?.string)
        XCTAssertEqual(done.json["user"]?["username"], "@legacy")
    }

    func testWrongLoginCodeCountsAndLocks() async throws {
        _ = try await makeUser("ann")
        let step1 = try await send(.POST, "/api/auth/login", json: ["email": "ann", "password": .string(Self.password)])
        let good = try code(to: "ann@example.com")
        let wrong = good == "123123" ? "321321" : "123123"
        for _ in 1...5 {
            let reply = try await send(.POST, "/api/auth/login/verify", json: ["userId": step1.json["userId"]!, "code": .string(wrong)])
            XCTAssertEqual(reply.status, .badRequest)
        }
        let locked = try await send(.POST, "/api/auth/login/verify", json: ["userId": step1.json["userId"]!, "code": .string(good)])
        XCTAssertEqual(locked.json["code"], "code_locked")
        services.clock.advance(by: 11 * 60)
        let sessions = try await Session.query(on: app.db).count()
        XCTAssertEqual(sessions, 1, "only the sign-up session exists")
    }

    func testLoginIsRateLimitedPerAccount() async throws {
        _ = try await makeUser("target")
        for _ in 1...10 {
            let reply = try await send(.POST, "/api/auth/login", json: ["email": "target", "password": "Wrong-pass1"])
            XCTAssertEqual(reply.status, .unauthorized)
        }
        let limited = try await send(.POST, "/api/auth/login", json: ["email": "target@example.com", "password": .string(Self.password)])
        XCTAssertEqual(limited.status, .tooManyRequests, "the right password does not get past the limit either")
        XCTAssertNotNil(limited.headers.first(name: "Retry-After"))
        XCTAssertEqual(limited.json["code"], "rate_limited")
        services.clock.advance(by: 15 * 60 + 1)
        let later = try await send(.POST, "/api/auth/login", json: ["email": "target", "password": .string(Self.password)])
        XCTAssertEqual(later.status, .ok)
    }
}

/// Login limits keyed by account and source. In-process requests have no peer address
/// ("unknown"), so the tests trust it as a proxy and give each "client" its own X-Real-IP.
final class LoginSourceLimitTests: ChatrTestCase {
    override func adjust(_ config: inout AppConfig) {
        config.trustedProxies = ["unknown"]
    }

    func login(_ account: String, _ password: String, from ip: String) async throws -> Reply {
        try await send(.POST, "/api/auth/login", json: ["email": .string(account), "password": .string(password)], headers: ["X-Real-IP": ip])
    }

    func testWrongPasswordsLockOutTheirSourceNotTheAccountOwner() async throws {
        _ = try await makeUser("victim")
        let attacker = "203.0.113.9", owner = "198.51.100.7"
        for _ in 1...10 {
            let reply = try await login("victim", "Wrong-pass1", from: attacker)
            XCTAssertEqual(reply.status, .unauthorized)
        }
        let attackerAgain = try await login("victim", Self.password, from: attacker)
        XCTAssertEqual(attackerAgain.status, .tooManyRequests, "the attacker's address is locked out of this account")
        let ownerLogin = try await login("victim", Self.password, from: owner)
        XCTAssertEqual(ownerLogin.status, .ok, "the owner, elsewhere, still signs in: \(ownerLogin.text)")
        XCTAssertEqual(ownerLogin.json["requiresLoginVerification"], true)
    }

    func testFailuresFromOneSourceBackOffExponentially() async throws {
        let guesser = "203.0.113.10"
        for index in 1...10 {  // free failures, on as many accounts
            let reply = try await login("nobody\(index)", "Wrong-pass1", from: guesser)
            XCTAssertEqual(reply.status, .unauthorized)
        }
        var waits: [Int] = []
        for _ in 1...4 {
            let failed = try await login("someone", "Wrong-pass1", from: guesser)
            XCTAssertEqual(failed.status, .unauthorized, "allowed once the wait is over, and wrong")
            let closed = try await login("someone", "Wrong-pass1", from: guesser)
            XCTAssertEqual(closed.status, .tooManyRequests)
            let wait = try XCTUnwrap(closed.headers.first(name: "Retry-After").flatMap(Int.init))
            waits.append(wait)
            services.clock.advance(by: TimeInterval(wait))
        }
        XCTAssertEqual(waits, [1, 2, 4, 8], "each failure doubles the wait")
        let other = try await login("someone", "Wrong-pass1", from: "192.0.2.1")
        XCTAssertEqual(other.status, .unauthorized, "another source is not slowed down")
    }
}

final class AuthRateLimitPerIPTests: ChatrTestCase {
    func testThirtyAuthRequestsPerMinutePerIP() async throws {
        for index in 1...30 {
            let reply = try await send(.POST, "/api/auth/forgot-password", json: ["email": .string("n\(index)@example.com")])
            XCTAssertEqual(reply.status, .ok)
        }
        let limited = try await send(.POST, "/api/auth/login", json: ["email": "x", "password": "y"])
        XCTAssertEqual(limited.status, .tooManyRequests)
        let retryAfter = try XCTUnwrap(limited.headers.first(name: "Retry-After").flatMap(Int.init))
        XCTAssertTrue((1...60).contains(retryAfter))
        // Signed-in routes are not counted against the auth limit.
        let health = try await send(.GET, "/api/health")
        XCTAssertEqual(health.status, .ok)
        services.clock.advance(by: 61)
        let again = try await send(.POST, "/api/auth/forgot-password", json: ["email": "n@example.com"])
        XCTAssertEqual(again.status, .ok)
    }
}
