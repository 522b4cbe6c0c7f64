import JWTKit
import XCTVapor
@testable import ChatrServer

final class SessionTests: ChatrTestCase {
    func testMissingMalformedAndForgedTokensAre401() async throws {
        let ann = try await makeUser("ann")
        let none = try await send(.GET, "/api/users/me")
        XCTAssertEqual(none.status, .unauthorized)
        XCTAssertEqual(none.error, "Authentication required")
        let garbage = try await send(.GET, "/api/users/me", token: "not.a.jwt")
        XCTAssertEqual(garbage.status, .unauthorized)

        // Same claims, signed with another key.
        let forger = JWTKeyCollection()
        await forger.add(hmac: HMACKey(from: "some-other-secret-that-is-long-enough"), digestAlgorithm: .sha256)
        let real = try await services.tokens.keys.verify(ann.token, as: AccessTokenPayload.self)
        let forged = try await forger.sign(real)
        let forgedReply = try await send(.GET, "/api/users/me", token: forged)
        XCTAssertEqual(forgedReply.status, .unauthorized)

        // A token for a session that does not exist.
        let orphan = AccessTokenPayload(userId: ann.id, username: "@ann", jti: "nope", iat: .init(value: .now), exp: .init(value: .now.addingTimeInterval(3600)))
        let orphanReply = try await send(.GET, "/api/users/me", token: try await services.tokens.keys.sign(orphan))
        XCTAssertEqual(orphanReply.status, .unauthorized)
    }

    func testTokenClaimsFollowTheSpec() async throws {
        let ann = try await makeUser("ann")
        let parts = ann.token.split(separator: ".")
        XCTAssertEqual(parts.count, 3)
        var payload = String(parts[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while payload.count % 4 != 0 { payload += "=" }
        let claims = try JSONDecoder().decode(JSONValue.self, from: try XCTUnwrap(Data(base64Encoded: payload)))
        XCTAssertEqual(claims["userId"]?.string, ann.id)
        XCTAssertEqual(claims["username"], "@ann")
        XCTAssertNotNil(claims["jti"]?.string)
        let iat = try XCTUnwrap(claims["iat"]?.int), exp = try XCTUnwrap(claims["exp"]?.int)
        XCTAssertEqual(exp - iat, 7 * 86_400)
        let header = String(parts[0])
        XCTAssertTrue(String(decoding: Data(base64Encoded: header + String(repeating: "=", count: (4 - header.count % 4) % 4))!, as: UTF8.self).contains("HS256"))
    }

    func testExpiredTokensAre401() async throws {
        let ann = try await makeUser("ann")
        services.clock.advance(by: 7 * 86_400 + 1)
        let reply = try await send(.GET, "/api/users/me", token: ann.token)
        XCTAssertEqual(reply.status, .unauthorized)
        XCTAssertEqual(reply.error, "Invalid or expired token")
    }

    func testLogoutRevokesOnlyThatToken() async throws {
        let ann = try await makeUser("ann")
        let step1 = try await send(.POST, "/api/auth/login", json: ["email": "ann", "password": .string(Self.password)])
        let second = try await send(.POST, "/api/auth/login/verify", json: ["userId": step1.json["userId"]!, "code": .string(try code(to: "ann@example.com"))])
        let otherDevice = try XCTUnwrap(second.json["token"]?.string)

        let logout = try await send(.POST, "/api/auth/logout", token: ann.token)
        XCTAssertEqual(logout.status, .ok)
        for (method, path) in [(HTTPMethod.GET, "/api/users/me"), (.GET, "/api/users"), (.POST, "/api/auth/logout"), (.POST, "/api/auth/2fa/setup"), (.GET, "/api/users/search?q=a")] {
            let reply = try await send(method, path, token: ann.token)
            XCTAssertEqual(reply.status, .unauthorized, "\(method) \(path) after logout")
        }
        let stillIn = try await send(.GET, "/api/users/me", token: otherDevice)
        XCTAssertEqual(stillIn.status, .ok, "the other device stays signed in")
        let session = try await Session.query(on: app.db).all().filter { $0.revokedAt != nil }.count
        XCTAssertEqual(session, 1)
    }
}

final class PasswordResetTests: ChatrTestCase {
    func testForgotPasswordNeverTellsWhoExists() async throws {
        let unknown = try await send(.POST, "/api/auth/forgot-password", json: ["email": "ghost@example.com"])
        XCTAssertEqual(unknown.status, .ok)
        XCTAssertTrue(services.outbox.all.isEmpty)
        _ = try await makeUser("ann")
        let known = try await send(.POST, "/api/auth/forgot-password", json: ["email": "ann@example.com"])
        XCTAssertEqual(known.status, .ok)
        XCTAssertEqual(known.json["message"], unknown.json["message"])
        XCTAssertEqual(services.outbox.all.last?.subject, "Reset your Chatr password")
    }

    func testResetChangesThePasswordAndEndsEverySession() async throws {
        let ann = try await makeUser("ann")
        _ = try await send(.POST, "/api/auth/forgot-password", json: ["email": "ann@example.com"])
        let code = try code(to: "ann@example.com")
        let wrong = try await send(.POST, "/api/auth/reset-password", json: ["email": "ann@example.com", "code": .string(code == "000000" ? "000001" : "000000"), "newPassword": "Brand-new1!"])
        XCTAssertEqual(wrong.status, .badRequest)
        let weak = try await send(.POST, "/api/auth/reset-password", json: ["email": "ann@example.com", "code": .string(code), "newPassword": "weak"])
        XCTAssertEqual(weak.status, .badRequest)
        XCTAssertEqual(weak.json["code"], "weak_password")
        let nobody = try await send(.POST, "/api/auth/reset-password", json: ["email": "ghost@example.com", "code": .string(code), "newPassword": "Brand-new1!"])
        XCTAssertEqual(nobody.status, .badRequest)

        let reset = try await send(.POST, "/api/auth/reset-password", json: ["email": "ann@example.com", "code": .string(code), "newPassword": "Brand-new1!"])
        XCTAssertEqual(reset.status, .ok, reset.text)
        let old = try await send(.GET, "/api/users/me", token: ann.token)
        XCTAssertEqual(old.status, .unauthorized, "reset revokes existing sessions")
        let oldPassword = try await send(.POST, "/api/auth/login", json: ["email": "ann", "password": .string(Self.password)])
        XCTAssertEqual(oldPassword.status, .unauthorized)
        let newPassword = try await send(.POST, "/api/auth/login", json: ["email": "ann", "password": "Brand-new1!"])
        XCTAssertEqual(newPassword.json["requiresLoginVerification"], true)
        let reused = try await send(.POST, "/api/auth/reset-password", json: ["email": "ann@example.com", "code": .string(code), "newPassword": "Another-1!"])
        XCTAssertEqual(reused.status, .badRequest)
    }

    func testResetCodesExpireAfterFifteenMinutes() async throws {
        _ = try await makeUser("ann")
        _ = try await send(.POST, "/api/auth/forgot-password", json: ["email": "ann"])
        let code = try code(to: "ann@example.com")
        services.clock.advance(by: 15 * 60 + 1)
        let late = try await send(.POST, "/api/auth/reset-password", json: ["email": "ann@example.com", "code": .string(code), "newPassword": "Brand-new1!"])
        XCTAssertEqual(late.json["code"], "code_expired")
    }
}
