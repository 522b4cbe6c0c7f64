import Fluent
import NIOCore
import SQLKit
import XCTVapor
@testable import ChatrServer

/// Base of every server test: a fresh app on in-memory SQLite — or on the PostgreSQL database in
/// `CHATR_TEST_DATABASE_URL`, wiped and migrated before each test — with a temporary uploads folder.
class ChatrTestCase: XCTestCase {
    var app: Application!
    var uploadsDirectory: String!

    /// Override to change the configuration a test class runs with.
    func adjust(_ config: inout AppConfig) {}

    override func setUp() async throws {
        try await super.setUp()
        uploadsDirectory = NSTemporaryDirectory() + "chatr-tests-" + UUID().uuidString
        var config = AppConfig.testing(uploadsDirectory: uploadsDirectory)
        config.autoMigrate = false
        adjust(&config)
        app = try await Application.make(.testing)
        try await configure(app, config: config)
        if case .postgres = config.database {
            let sql = app.db as! any SQLDatabase
            try await sql.raw("DROP SCHEMA public CASCADE").run()
            try await sql.raw("CREATE SCHEMA public").run()
        }
        try await app.autoMigrate()
    }

    override func tearDown() async throws {
        // A test that skipped before setUp finished has no app.
        try await app?.asyncShutdown()
        app = nil
        if let uploadsDirectory { try? FileManager.default.removeItem(atPath: uploadsDirectory) }
        try await super.tearDown()
    }

    var services: ChatrServices { app.chatr }

    // MARK: Requests

    struct Reply {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: ByteBuffer
        var json: JSONValue { (try? JSONDecoder().decode(JSONValue.self, from: Data(buffer: body))) ?? .null }
        var text: String { String(buffer: body) }
        /// The SPEC §2 error message, or nil when the body is not an error.
        var error: String? { json["error"]?.string }
    }

    /// Polls `condition` until it holds (fails after `seconds`): for what the server does a
    /// moment after an event it does not answer, such as noting a closed socket.
    func eventually(_ what: String, seconds: Double = 5, file: StaticString = #filePath, line: UInt = #line,
                    _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTFail("never happened: \(what)", file: file, line: line)
    }

    @discardableResult
    func send(_ method: HTTPMethod, _ path: String, json: JSONValue? = nil, raw: String? = nil, token: String? = nil,
              headers extra: HTTPHeaders = [:], file: StaticString = #filePath, line: UInt = #line) async throws -> Reply {
        var headers = extra
        if let token { headers.bearerAuthorization = .init(token: token) }
        var body: ByteBuffer?
        if let json {
            headers.contentType = .json
            body = ByteBuffer(data: try JSONEncoder().encode(json))
        } else if let raw {
            if headers.contentType == nil { headers.contentType = .json }
            body = ByteBuffer(string: raw)
        }
        let response = try await app.sendRequest(method, path, headers: headers, body: body)
        return Reply(status: response.status, headers: response.headers, body: response.body)
    }

    /// `multipart/form-data` with one file part and optional text fields.
    func upload(_ path: String, field: String, filename: String, contentType: String, data: [UInt8],
                fields: [String: String] = [:], token: String?) async throws -> Reply {
        let boundary = "chatr-test-\(UUID().uuidString)"
        var body = ByteBuffer()
        for (name, value) in fields {
            body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n")
        }
        body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field)\"; filename=\"\(filename)\"\r\nContent-Type: \(contentType)\r\n\r\n")
        body.writeBytes(data)
        body.writeString("\r\n--\(boundary)--\r\n")
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=\(boundary)")
        if let token { headers.bearerAuthorization = .init(token: token) }
        let response = try await app.sendRequest(.POST, path, headers: headers, body: body)
        return Reply(status: response.status, headers: response.headers, body: response.body)
    }

    // MARK: Accounts

    static let password = "Sup3r-secret!"

    func code(to recipient: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try XCTUnwrap(services.outbox.latestCode(to: recipient), "no code was sent to \(recipient)", file: file, line: line)
    }

    /// A second session for an existing user: password, then the emailed login code.
    func signIn(_ name: String, file: StaticString = #filePath, line: UInt = #line) async throws -> String {
        let step1 = try await send(.POST, "/api/auth/login", json: ["email": .string(name), "password": .string(Self.password)])
        let userId = try XCTUnwrap(step1.json["userId"], step1.text, file: file, line: line)
        let step2 = try await send(.POST, "/api/auth/login/verify", json: ["userId": userId, "code": .string(try code(to: "\(name)@example.com"))])
        return try XCTUnwrap(step2.json["token"]?.string, step2.text, file: file, line: line)
    }

    /// Registers and verifies by email; returns the user id and a session token.
    func makeUser(_ name: String, displayName: String? = nil, file: StaticString = #filePath, line: UInt = #line) async throws -> (id: String, token: String) {
        var body: [String: JSONValue] = ["email": .string("\(name)@example.com"), "username": .string(name), "password": .string(Self.password)]
        if let displayName { body["displayName"] = .string(displayName) }
        let registered = try await send(.POST, "/api/auth/register", json: .object(body))
        XCTAssertEqual(registered.status, .created, registered.text, file: file, line: line)
        let userId = try XCTUnwrap(registered.json["userId"]?.string, file: file, line: line)
        let verified = try await send(.POST, "/api/auth/verify-email",
                                      json: ["userId": .string(userId), "code": .string(try code(to: "\(name)@example.com"))])
        XCTAssertEqual(verified.status, .ok, verified.text, file: file, line: line)
        return (userId, try XCTUnwrap(verified.json["token"]?.string, file: file, line: line))
    }
}

extension JSONValue {
    var string: String? { if case .string(let value) = self { return value } else { return nil } }
    var bool: Bool? { if case .bool(let value) = self { return value } else { return nil } }
    var int: Int? { if case .number(let value) = self { return Int(value) } else { return nil } }
    var array: [JSONValue]? { if case .array(let value) = self { return value } else { return nil } }
    var isNull: Bool { self == .null }
}
