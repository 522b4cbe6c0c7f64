import XCTVapor
@testable import ChatrServer

/// The live Mailtrap and SMS Works senders, against a local server that speaks their API.
final class DeliveryTests: ChatrTestCase {
    var stub: ProviderStub!

    override func setUp() async throws {
        stub = try await ProviderStub()
        try await super.setUp()
    }

    override func adjust(_ config: inout AppConfig) {
        config.mailtrap = .init(apiKey: "mt-key", apiURL: stub.baseURL, fromAddress: "hello@chatr.test", fromName: "Chatr")
        config.smsWorks = .init(token: "sms-jwt", apiURL: stub.baseURL + "/v1", sender: "Chatr")
    }

    override func tearDown() async throws {
        try await super.tearDown()
        try await stub.shutdown()
    }

    func testEmailGoesThroughTheMailtrapAPI() async throws {
        let registered = try await send(.POST, "/api/auth/register", json: ["email": "ann@example.com", "username": "ann", "password": "Passw0rd!"])
        XCTAssertEqual(registered.status, .created, registered.text)
        XCTAssertTrue(services.outbox.all.isEmpty, "the live mailer does not use the dev outbox")

        let request = try XCTUnwrap(stub.recorded.last)
        XCTAssertEqual(request.path, "/api/send")
        XCTAssertEqual(request.headers.first(name: .authorization), "Bearer mt-key")
        let body = try JSONDecoder().decode(JSONValue.self, from: Data(request.body.utf8))
        XCTAssertEqual(body["from"]?["email"], "hello@chatr.test")
        XCTAssertEqual(body["to"]?.array?.first?["email"], "ann@example.com")
        XCTAssertEqual(body["subject"], "Verify your Chatr account")
        let html = try XCTUnwrap(body["html"]?.string)
        let text = try XCTUnwrap(body["text"]?.string)
        XCTAssertTrue(html.contains("<html"))
        // The code in the email is the one that verifies the account.
        let code = try XCTUnwrap(text.split(whereSeparator: \.isWhitespace).first { $0.count == 6 && $0.allSatisfy(\.isNumber) })
        XCTAssertTrue(html.contains(String(code)))
        let verified = try await send(.POST, "/api/auth/verify-email", json: ["userId": registered.json["userId"]!, "code": .string(String(code))])
        XCTAssertEqual(verified.status, .ok)
    }

    func testSMSGoesThroughTheSMSWorksAPI() async throws {
        let registered = try await send(.POST, "/api/auth/register", json: ["phoneNumber": "+447700900123", "username": "texter", "password": "Passw0rd!"])
        XCTAssertEqual(registered.status, .created, registered.text)
        let request = try XCTUnwrap(stub.recorded.last)
        XCTAssertEqual(request.path, "/v1/message/send")
        XCTAssertEqual(request.headers.first(name: .authorization), "JWT sms-jwt")
        let body = try JSONDecoder().decode(JSONValue.self, from: Data(request.body.utf8))
        XCTAssertEqual(body["destination"], "447700900123", "number without the +")
        XCTAssertEqual(body["sender"], "Chatr")
        let content = try XCTUnwrap(body["content"]?.string)
        let code = try XCTUnwrap(content.split(whereSeparator: { !$0.isNumber }).first { $0.count == 6 })
        let verified = try await send(.POST, "/api/auth/verify-phone", json: ["userId": registered.json["userId"]!, "code": .string(String(code))])
        XCTAssertEqual(verified.status, .ok)
    }

    func testAProviderFailureIsA502AndCanBeRetried() async throws {
        stub.respond(with: .internalServerError)
        let failed = try await send(.POST, "/api/auth/register", json: ["email": "ann@example.com", "username": "ann", "password": "Passw0rd!"])
        XCTAssertEqual(failed.status, .badGateway)
        XCTAssertEqual(failed.json["code"], "delivery_failed")
        // Forgot-password still answers 200, so it reveals nothing.
        let forgot = try await send(.POST, "/api/auth/forgot-password", json: ["email": "ann@example.com"])
        XCTAssertEqual(forgot.status, .ok)

        stub.respond(with: .ok)
        let retried = try await send(.POST, "/api/auth/register", json: ["email": "ann@example.com", "username": "ann", "password": "Passw0rd!"])
        XCTAssertEqual(retried.status, .created, "registering again replaces the unverified attempt")
        let users = try await User.query(on: app.db).count()
        XCTAssertEqual(users, 1)
    }
}
