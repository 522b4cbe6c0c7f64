import XCTVapor
@testable import ChatrServer

final class HTTPBasicsTests: ChatrTestCase {
    func testHealth() async throws {
        let reply = try await send(.GET, "/api/health")
        XCTAssertEqual(reply.status, .ok)
        XCTAssertEqual(reply.json["status"], "ok")
        XCTAssertEqual(reply.json["database"], "ok")
        let timestamp = try XCTUnwrap(reply.json["timestamp"]?.string)
        XCTAssertNotNil(ISO8601.date(from: timestamp))
        XCTAssertTrue(timestamp.hasSuffix("Z") && timestamp.contains("."), "ISO 8601 UTC with milliseconds: \(timestamp)")
    }

    func testClientConfigGivesTheServersOwnLimits() async throws {
        let reply = try await send(.GET, "/api/client-config")
        XCTAssertEqual(reply.status, .ok)
        XCTAssertEqual(reply.json["mode"], "testing")
        XCTAssertEqual(reply.json["maxUploadBytes"]?.int, 10_485_760)
        XCTAssertEqual(reply.json["maxMessageLength"]?.int, MessageRules.maxContent)
        let types = try XCTUnwrap(reply.json["uploadTypes"]?.array).compactMap(\.string)
        XCTAssertTrue(types.contains("image/png") && types.contains("application/pdf"), "\(types)")
        XCTAssertFalse(types.contains("text/html"))
    }

    func testEveryFailureIsJSON() async throws {
        let unknown = try await send(.GET, "/api/nope")
        XCTAssertEqual(unknown.status, .notFound)
        XCTAssertEqual(unknown.error, "Not found")
        XCTAssertEqual(unknown.headers.contentType, .json)

        let malformed = try await send(.POST, "/api/auth/login", raw: "{\"email\": ")
        XCTAssertEqual(malformed.status, .badRequest)
        XCTAssertEqual(malformed.error, "Malformed JSON")

        let notAnObject = try await send(.POST, "/api/auth/login", raw: "[1,2,3]")
        XCTAssertEqual(notAnObject.status, .badRequest)
        XCTAssertNotNil(notAnObject.error)

        let wrongType = try await send(.POST, "/api/auth/login", json: ["email": ["a"], "password": "x"])
        XCTAssertEqual(wrongType.status, .badRequest)
        XCTAssertEqual(wrongType.error, "Wrong type for 'email'")

        let empty = try await send(.POST, "/api/auth/login", raw: "")
        XCTAssertEqual(empty.status, .badRequest)
        XCTAssertNotNil(empty.error)

        var xml = HTTPHeaders()
        xml.contentType = .xml
        let unsupported = try await send(.POST, "/api/auth/login", raw: "<login/>", headers: xml)
        XCTAssertEqual(unsupported.status, .unsupportedMediaType)
        XCTAssertNotNil(unsupported.error)

        for reply in [unknown, malformed, notAnObject, wrongType, empty, unsupported] {
            XCTAssertFalse(reply.text.contains("<html"), reply.text)
            XCTAssertFalse(reply.text.contains("Swift"), reply.text)
        }
    }

    func testOddRequestsGetAnErrorInTheSpecFormat() async throws {
        for path in ["/", "/api/health", "/api/nope"] {
            let trace = try await send(.TRACE, path)
            XCTAssertEqual(trace.status, .methodNotAllowed, path)
            XCTAssertEqual(trace.json["code"], "method_not_allowed", path)
            XCTAssertEqual(trace.headers.first(name: "Allow"), "GET, HEAD", path)
        }
        // A documented path asked with a method it does not list: 405 with what it does serve.
        let user = try await makeUser("mallory")
        for (method, path, allow) in [(HTTPMethod.DELETE, "/api/users/me", "GET, HEAD, PUT"), (.PUT, "/api/health", "GET, HEAD"),
                                      (.POST, "/index.html", "GET, HEAD"), (.PATCH, "/socket.io/", "GET, HEAD, OPTIONS, POST")] {
            let reply = try await send(method, path, token: user.token)
            XCTAssertEqual(reply.status, .methodNotAllowed, "\(method) \(path)")
            XCTAssertEqual(reply.headers.first(name: "Allow"), allow, "\(method) \(path)")
        }
        // A folder of the uploads is not a file: 404 in JSON (it used to close the connection).
        try FileManager.default.createDirectory(atPath: uploadsDirectory + "/messages", withIntermediateDirectories: true)
        for path in ["/uploads/messages", "/uploads/messages/", "/uploads/"] {
            let folder = try await send(.GET, path)
            XCTAssertEqual(folder.status, .notFound, path)
            XCTAssertNotNil(folder.error, path)
        }
        // A multipart body with no part at all, or malformed: 400, not 500.
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=X")
        let empty = try await send(.POST, "/api/messages/upload", raw: "--X--\r\n", token: user.token, headers: headers)
        XCTAssertEqual(empty.status, .badRequest, empty.text)
        XCTAssertEqual(empty.json["code"], "missing_file")
        let garbage = try await send(.POST, "/api/messages/upload", raw: "--X\r\ngarbage\r\n\r\nabc\r\n--X--\r\n", token: user.token, headers: headers)
        XCTAssertEqual(garbage.json["code"], "invalid_multipart", garbage.text)
    }

    /// MultipartKit traps on a part header name with a byte ≥ 0x80: one request — even to the
    /// login route, signed out — used to crash the server. Uploads parse with `MultipartStream`
    /// now, and JSON routes refuse multipart bodies (415) before any parser sees them.
    func testACraftedMultipartHeaderCrashesNothing() async throws {
        let user = try await makeUser("ann")
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=X")
        func crafted(field: String) -> ByteBuffer {
            var body = ByteBuffer(string: "--X\r\nContent-Disposition: form-data; name=\"\(field)\"; filename=\"a.txt\"\r\n")
            body.writeBytes([0x8B] + Array("ontent-Type: text/plain\r\n\r\nhello\r\n--X--\r\n".utf8))
            return body
        }
        for (path, field) in [("/api/messages/upload", "file"), ("/api/users/profile-image", "profileImage")] {
            var signedIn = headers
            signedIn.bearerAuthorization = .init(token: user.token)
            let reply = try await app.sendRequest(.POST, path, headers: signedIn, body: crafted(field: field))
            XCTAssertEqual(reply.status, .badRequest, path)
        }
        let raw = String(decoding: crafted(field: "file").readableBytesView, as: UTF8.self)
        for path in ["/api/auth/login", "/api/messages", "/api/groups"] {
            let reply = try await send(.POST, path, raw: raw, token: user.token, headers: headers)
            XCTAssertEqual(reply.status, .unsupportedMediaType, path)
        }
        var form = HTTPHeaders()
        form.contentType = .urlEncodedForm
        let formBody = try await send(.POST, "/api/auth/login", raw: "email=ann&password=x", headers: form)
        XCTAssertEqual(formBody.status, .unsupportedMediaType, "only JSON")
        let health = try await send(.GET, "/api/health")
        XCTAssertEqual(health.status, .ok, "still up")
    }

    /// Over real HTTP (the in-memory tester skips body collection): a 2 MB JSON body is refused
    /// with 413 before any handler runs.
    /// PostgreSQL text cannot hold U+0000 (each of these was a 500 there): refused at the door,
    /// on both databases, with nothing stored.
    func testNULInTextIsRefusedEverywhere() async throws {
        let ann = try await makeUser("ann")
        let bob = try await makeUser("bob")
        let bodies: [(HTTPMethod, String, JSONValue)] = [
            (.POST, "/api/messages", ["recipientId": .string(bob.id), "content": "a\u{0}b"]),
            (.PUT, "/api/users/me", ["displayName": "a\u{0}b"]),
            (.POST, "/api/groups", ["name": "a\u{0}b"]),
            (.DELETE, "/api/push/subscriptions", ["endpoint": "https://push.example.com/a\u{0}b"]),
            (.POST, "/api/auth/login", ["email": "a\u{0}b@example.com", "password": "x"]),
        ]
        for (method, path, body) in bodies {
            let reply = try await send(method, path, json: body, token: ann.token)
            XCTAssertEqual(reply.status, .badRequest, "\(method) \(path): \(reply.text)")
            XCTAssertEqual(reply.json["code"], "invalid_text", path)
        }
        for path in ["/api/users/search?q=a%00b", "/api/invites/a%00b", "/api/search?q=a%00b"] {
            let reply = try await send(.GET, path, token: ann.token)
            XCTAssertEqual(reply.status, .badRequest, "\(path): \(reply.text)")
        }
        // The six characters `\u0000` as text are fine: only the escape is NUL.
        let literal = try await send(.POST, "/api/messages", raw: #"{"recipientId":"\#(bob.id)","content":"path C:\\u0000"}"#, token: ann.token)
        XCTAssertEqual(literal.status, .created, literal.text)
        XCTAssertEqual(literal.json["content"], #"path C:\u0000"#)
        let stored = try await Message.query(on: app.db).count()
        XCTAssertEqual(stored, 1)
    }

    func testOversizedBodiesAre413() async throws {
        let port = Int.random(in: 20_000...40_000)
        let server = try app.testable(method: .running(hostname: "127.0.0.1", port: port))
        var headers = HTTPHeaders()
        headers.contentType = .json
        let body = ByteBuffer(string: "{\"username\":\"" + String(repeating: "a", count: 2_000_000) + "\"}")
        let response = try await server.sendRequest(.POST, "/api/auth/register", headers: headers, body: body)
        XCTAssertEqual(response.status, .payloadTooLarge)
        let json = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body))
        XCTAssertEqual(json["error"], "Request body is too large")
        let count = try await User.query(on: app.db).count()
        XCTAssertEqual(count, 0)
    }

    func testCORSAllowsTheConfiguredOriginWithCredentials() async throws {
        let preflight = try await send(.OPTIONS, "/api/users/me", headers: [
            "Origin": "http://localhost:3001", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"])
        XCTAssertEqual(preflight.headers.first(name: "Access-Control-Allow-Origin"), "http://localhost:3001")
        XCTAssertEqual(preflight.headers.first(name: "Access-Control-Allow-Credentials"), "true")
        let other = try await send(.GET, "/api/health", headers: ["Origin": "https://evil.example"])
        XCTAssertNotEqual(other.headers.first(name: "Access-Control-Allow-Origin"), "https://evil.example")
    }

    func testTheWebClientIsServedAtTheRoot() async throws {
        let page = try await send(.GET, "/")
        XCTAssertEqual(page.status, .ok)
        XCTAssertTrue(page.text.contains("Chatr"))
    }

    func testDevOutboxAndEmailPreview() async throws {
        _ = try await send(.POST, "/api/auth/register", json: ["email": "dev@example.com", "username": "dev", "password": "Passw0rd!"])
        let outbox = try await send(.GET, "/api/dev/outbox?to=dev@example.com")
        XCTAssertEqual(outbox.status, .ok)
        let entry = try XCTUnwrap(outbox.json.array?.last)
        XCTAssertEqual(entry["channel"], "email")
        XCTAssertEqual(entry["to"], "dev@example.com")
        XCTAssertEqual(entry["code"]?.string?.count, 6)
        XCTAssertNotNil(entry["at"]?.string.flatMap(ISO8601.date(from:)))

        let index = try await send(.GET, "/api/email-preview")
        XCTAssertTrue(index.text.contains("password-reset"))
        let html = try await send(.GET, "/api/email-preview?template=login")
        XCTAssertEqual(html.headers.contentType?.subType, "html")
        XCTAssertTrue(html.text.contains("123456"))
        XCTAssertTrue(html.text.contains("Chatr"))
        let text = try await send(.GET, "/api/email-preview?template=verification&format=text")
        XCTAssertTrue(text.text.contains("123456"))
        XCTAssertFalse(text.text.contains("<"))
        let missing = try await send(.GET, "/api/email-preview?template=nope")
        XCTAssertEqual(missing.status, .notFound)
    }

    func testEmailsEscapeWhatUsersTyped() {
        let message = CodeMessage(kind: .verifyEmail, code: "123456", recipientName: "<script>x</script>", productName: "Chatr",
                                  frontendURL: "http://localhost:3001", validMinutes: 15)
        XCTAssertFalse(message.html.contains("<script>"))
        XCTAssertTrue(message.html.contains("&lt;script&gt;"))
        XCTAssertTrue(message.text.contains("123456"))
    }

    /// Every route the app registers is described in the OpenAPI document.
    func testOpenAPIDescribesEveryRoute() async throws {
        let reply = try await send(.GET, "/api/openapi.json")
        XCTAssertEqual(reply.status, .ok)
        let document = reply.json
        XCTAssertEqual(document["openapi"], "3.1.0")
        XCTAssertNotNil(document["components"]?["securitySchemes"]?["bearerAuth"])
        let paths = try XCTUnwrap(document["paths"])
        // The Socket.IO library also answers PUT, DELETE and PATCH (the protocol's 400) for apps
        // without a method guard; Chatr's answers them 405 before routing, so they are not API.
        let routes = app.routes.all.filter { !($0.path.first == .constant("socket.io") && [.PUT, .DELETE, .PATCH].contains($0.method)) }
        for route in routes {
            let path = "/" + route.path.map { component -> String in
                switch component {
                case .constant(let value): return value
                case .parameter(let name): return "{\(name)}"
                case .catchall: return "{path}"
                case .anything: return "{any}"
                }
            }.joined(separator: "/")
            let operation = paths[path]?[route.method.rawValue.lowercased()]
            XCTAssertNotNil(operation, "\(route.method) \(path) is not in the OpenAPI document")
            if route.path.contains(where: { $0 == .constant("me") }) {
                XCTAssertNotNil(operation?["security"], "\(path) is marked as needing a token")
            }
        }
        // …and nothing is documented that does not exist.
        let registered = Set(routes.map { "\($0.method.rawValue.lowercased()) /" + $0.path.map { "\($0)" }.joined(separator: "/") })
        XCTAssertEqual(OpenAPIDocument.operations.count, registered.count)

        let docs = try await send(.GET, "/api/docs")
        XCTAssertEqual(docs.status, .ok)
        XCTAssertTrue(docs.text.contains("/api/openapi.json"))
        XCTAssertTrue(docs.text.contains("swagger-ui"))
    }

    /// The server refuses U+0000 in every text it reads (`NULText`), so every string the
    /// document describes must say so — a pattern of its own included — or schema-driven
    /// clients (schemathesis did) send NUL as valid data and get a 400.
    func testEveryDocumentedStringExcludesNUL() async throws {
        let document = try await send(.GET, "/api/openapi.json").json
        var checked = 0
        func walk(_ value: JSONValue, at path: String) {
            switch value {
            case .array(let items):
                for (index, item) in items.enumerated() { walk(item, at: "\(path)/\(index)") }
            case .object(let object):
                for (key, child) in object { walk(child, at: "\(path)/\(key)") }
                let isString = object["type"] == .string("string") || object["type"] == .array([.string("string"), .string("null")])
                guard isString, object["format"] == nil, object["enum"] == nil, object["const"] == nil else { return }
                checked += 1
                guard case .string(let pattern)? = object["pattern"], let regex = try? NSRegularExpression(pattern: pattern) else {
                    return XCTFail("\(path): a string without a usable pattern")
                }
                let withNUL = "ab\u{0}cd"
                XCTAssertNil(regex.firstMatch(in: withNUL, range: NSRange(withNUL.startIndex..., in: withNUL)),
                             "\(path): pattern \(pattern) lets U+0000 through")
            default:
                return
            }
        }
        walk(document, at: "#")
        XCTAssertGreaterThan(checked, 50)
    }

    /// SPEC §1: a request id on every response (the proxy's when it is sane, so both logs match),
    /// and the security headers — on errors too.
    func testEveryResponseCarriesARequestIDAndTheSecurityHeaders() async throws {
        let forwarded = try await send(.GET, "/api/health", headers: ["X-Request-Id": "nginx-7f3a.1_b"])
        XCTAssertEqual(forwarded.headers.first(name: "X-Request-Id"), "nginx-7f3a.1_b")
        for response in [try await send(.GET, "/api/health"), try await send(.GET, "/api/nothing-here"), try await send(.GET, "/"),
                         try await send(.GET, "/api/health", headers: ["X-Request-Id": "bad id\u{7}<script>"])] {
            let id = try XCTUnwrap(response.headers.first(name: "X-Request-Id"))
            XCTAssertFalse(id.isEmpty || id.contains(" ") || id.contains("<"), id)
            XCTAssertEqual(response.headers.first(name: "X-Content-Type-Options"), "nosniff")
            let csp = try XCTUnwrap(response.headers.first(name: "Content-Security-Policy"))
            XCTAssertTrue(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), csp)
            XCTAssertFalse(csp.contains("unpkg"), "only the docs page may load from the CDN")
        }
        let docs = try await send(.GET, "/api/docs")
        XCTAssertTrue(docs.headers.first(name: "Content-Security-Policy")?.contains("https://unpkg.com") == true, "Swagger UI can load")
    }

    func testReadinessAndMetrics() async throws {
        let ready = try await send(.GET, "/api/ready")
        XCTAssertEqual(ready.status, .ok)
        XCTAssertEqual(ready.json["status"], "ready")
        XCTAssertEqual(ready.json["cluster"], "off")
        XCTAssertEqual(ready.json["database"], "ok")

        let before = try await metric("chatr_messages_sent_total")
        let ann = try await makeUser("ann")
        let bob = try await makeUser("bob")
        let sent = try await send(.POST, "/api/messages", json: ["recipientId": .string(bob.id), "content": "hi"], token: ann.token)
        XCTAssertEqual(sent.status, .created)
        let after = try await metric("chatr_messages_sent_total")
        XCTAssertEqual(after - before, 1)

        let text = try await send(.GET, "/metrics").text
        for name in ["chatr_sockets_connected", "chatr_deliveries_total", "chatr_message_store_seconds_bucket",
                     "http_requests_total", "http_request_duration_seconds"] {
            XCTAssertTrue(text.contains(name), "\(name) missing from /metrics")
        }
        XCTAssertTrue(text.contains("path=\"/api/ready\""), "HTTP requests are labelled by route:\n\(text.split(separator: "\n").filter { $0.hasPrefix("http_requests_total") }.joined(separator: "\n"))")
    }

    private func metric(_ name: String) async throws -> Double {
        let text = try await send(.GET, "/metrics").text
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + " ") }) else { return 0 }
        return Double(line.split(separator: " ").last ?? "") ?? 0
    }
}

final class ProductionModeTests: ChatrTestCase {
    override func adjust(_ config: inout AppConfig) {
        config.mode = .production
        config.swaggerCredentials = ("docs", "s3cret")
    }

    func testDevRoutesDoNotExistAndDocsNeedBasicAuth() async throws {
        let outbox = try await send(.GET, "/api/dev/outbox")
        XCTAssertEqual(outbox.status, .notFound)
        let preview = try await send(.GET, "/api/email-preview")
        XCTAssertEqual(preview.status, .notFound)
        let anonymous = try await send(.GET, "/api/docs")
        XCTAssertEqual(anonymous.status, .unauthorized)
        XCTAssertNotNil(anonymous.headers.first(name: "WWW-Authenticate"))
        var headers = HTTPHeaders()
        headers.basicAuthorization = .init(username: "docs", password: "s3cret")
        let allowed = try await send(.GET, "/api/docs", headers: headers)
        XCTAssertEqual(allowed.status, .ok)
    }
}

/// A database that cannot be reached: health says so with 503 instead of hanging or crashing.
final class HealthWithoutDatabaseTests: XCTestCase {
    func testHealthIs503WhenTheDatabaseIsDown() async throws {
        let app = try await Application.make(.testing)
        var config = AppConfig.testing(uploadsDirectory: NSTemporaryDirectory())
        config.database = .postgres("postgres://nobody:nothing@127.0.0.1:1/none")
        config.autoMigrate = false
        try await configure(app, config: config)
        let response = try await app.sendRequest(.GET, "/api/health")
        XCTAssertEqual(response.status, .serviceUnavailable)
        let body = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body))
        XCTAssertEqual(body["status"], "error")
        XCTAssertEqual(body["database"], "unreachable")
        try await app.asyncShutdown()
    }

}
