import XCTVapor
@testable import ChatrServer

final class TwoFactorTests: ChatrTestCase {
    func totp(for secret: String) throws -> TimeOTP { TimeOTP(secret: try XCTUnwrap(Base32.decode(secret))) }

    func enableTwoFactor(token: String) async throws -> TimeOTP {
        let setup = try await send(.POST, "/api/auth/2fa/setup", token: token)
        XCTAssertEqual(setup.status, .ok, setup.text)
        let totp = try totp(for: try XCTUnwrap(setup.json["secret"]?.string))
        let enabled = try await send(.POST, "/api/auth/2fa/verify", json: ["token": .string(totp.code(at: services.clock.now))], token: token)
        XCTAssertEqual(enabled.status, .ok, enabled.text)
        return totp
    }

    func testSetupGivesASecretAURIAndAQRCode() async throws {
        let ann = try await makeUser("ann")
        let setup = try await send(.POST, "/api/auth/2fa/setup", token: ann.token)
        let secret = try XCTUnwrap(setup.json["secret"]?.string)
        XCTAssertEqual(Base32.decode(secret)?.count, 20)
        XCTAssertEqual(setup.json["otpauthUrl"]?.string,
                       "otpauth://totp/Chatr:ann@example.com?secret=\(secret)&issuer=Chatr&algorithm=SHA1&digits=6&period=30")
        XCTAssertTrue(setup.json["qrCode"]?.string?.hasPrefix("data:image/svg+xml;base64,") == true)
        let me = try await send(.GET, "/api/users/me", token: ann.token)
        XCTAssertEqual(me.json["twoFactorEnabled"], false, "setup alone does not enable it")
        XCTAssertNil(me.json["twoFactorSecret"], "the secret never appears in a profile")
    }

    func testVerifyEnablesOnlyWithAValidCode() async throws {
        let ann = try await makeUser("ann")
        let notSetUp = try await send(.POST, "/api/auth/2fa/verify", json: ["token": "123456"], token: ann.token)
        XCTAssertEqual(notSetUp.status, .badRequest)
        let setup = try await send(.POST, "/api/auth/2fa/setup", token: ann.token)
        let totp = try totp(for: setup.json["secret"]!.string!)
        let stale = totp.code(at: services.clock.now.addingTimeInterval(-120))
        let wrong = try await send(.POST, "/api/auth/2fa/verify", json: ["token": .string(stale)], token: ann.token)
        XCTAssertEqual(wrong.status, .badRequest)
        let ok = try await send(.POST, "/api/auth/2fa/verify", json: ["token": .string(totp.code(at: services.clock.now))], token: ann.token)
        XCTAssertEqual(ok.status, .ok)
        let me = try await send(.GET, "/api/users/me", token: ann.token)
        XCTAssertEqual(me.json["twoFactorEnabled"], true)
        let again = try await send(.POST, "/api/auth/2fa/setup", token: ann.token)
        XCTAssertEqual(again.status, .conflict, "a second setup cannot replace a working secret")
    }

    func testLoginAsksForTheTOTPAndKeepsTheCodeValid() async throws {
        let ann = try await makeUser("ann")
        let totp = try await enableTwoFactor(token: ann.token)

        let step1 = try await send(.POST, "/api/auth/login", json: ["email": "ann", "password": .string(Self.password)])
        let code = try code(to: "ann@example.com")
        let withoutTOTP = try await send(.POST, "/api/auth/login/verify", json: ["userId": step1.json["userId"]!, "code": .string(code)])
        XCTAssertEqual(withoutTOTP.status, .ok)
        XCTAssertEqual(withoutTOTP.json["requiresTwoFactor"], true)
        XCTAssertNil(withoutTOTP.json["error"], "a first step is not an error")
        XCTAssertNil(withoutTOTP.json["token"])

        let wrongTOTP = try await send(.POST, "/api/auth/login/verify", json: [
            "userId": step1.json["userId"]!, "code": .string(code), "twoFactorCode": .string(totp.code(at: services.clock.now.addingTimeInterval(600)))])
        XCTAssertEqual(wrongTOTP.json["requiresTwoFactor"], true)
        XCTAssertEqual(wrongTOTP.json["error"], "invalid_totp", "a client can say the code was wrong")
        XCTAssertNil(wrongTOTP.json["token"])

        let done = try await send(.POST, "/api/auth/login/verify", json: [
            "userId": step1.json["userId"]!, "code": .string(code), "twoFactorCode": .string(totp.code(at: services.clock.now))])
        XCTAssertEqual(done.status, .ok)
        XCTAssertNotNil(done.json["token"]?.string)
        let reused = try await send(.POST, "/api/auth/login/verify", json: [
            "userId": step1.json["userId"]!, "code": .string(code), "twoFactorCode": .string(totp.code(at: services.clock.now))])
        XCTAssertEqual(reused.status, .badRequest, "the login code is spent once a token is issued")
    }

    func testWrongTOTPsUseUpTheLoginCode() async throws {
        let ann = try await makeUser("ann")
        let totp = try await enableTwoFactor(token: ann.token)
        let step1 = try await send(.POST, "/api/auth/login", json: ["email": "ann", "password": .string(Self.password)])
        let code = try code(to: "ann@example.com")
        let wrongTOTP = totp.code(at: services.clock.now.addingTimeInterval(900))
        for _ in 1...5 {
            _ = try await send(.POST, "/api/auth/login/verify", json: ["userId": step1.json["userId"]!, "code": .string(code), "twoFactorCode": .string(wrongTOTP)])
        }
        let locked = try await send(.POST, "/api/auth/login/verify", json: [
            "userId": step1.json["userId"]!, "code": .string(code), "twoFactorCode": .string(totp.code(at: services.clock.now))])
        XCTAssertEqual(locked.json["code"], "code_locked", "a TimeOTP cannot be guessed forever on one login code")
    }

    func testDisableNeedsACurrentCode() async throws {
        let ann = try await makeUser("ann")
        let totp = try await enableTwoFactor(token: ann.token)
        let wrong = try await send(.POST, "/api/auth/2fa/disable", json: ["token": "000000"], token: ann.token)
        XCTAssertEqual(wrong.status, .badRequest)
        let ok = try await send(.POST, "/api/auth/2fa/disable", json: ["token": .string(totp.code(at: services.clock.now))], token: ann.token)
        XCTAssertEqual(ok.status, .ok)
        let me = try await send(.GET, "/api/users/me", token: ann.token)
        XCTAssertEqual(me.json["twoFactorEnabled"], false)
        let twice = try await send(.POST, "/api/auth/2fa/disable", json: ["token": .string(totp.code(at: services.clock.now))], token: ann.token)
        XCTAssertEqual(twice.status, .badRequest)
        let anonymous = try await send(.POST, "/api/auth/2fa/setup")
        XCTAssertEqual(anonymous.status, .unauthorized)
    }
}
