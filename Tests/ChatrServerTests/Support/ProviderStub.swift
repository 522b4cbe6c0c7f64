import NIOConcurrencyHelpers
import Vapor

/// A local HTTP server standing in for Mailtrap or The SMS Works: it records every request and
/// answers with the status a test chooses. Real HTTP, real AsyncHTTPClient on our side.
/// @unchecked: `baseURL` is set once in `init`, before the stub is shared; the recorded requests
/// and the chosen status are in locked boxes.
final class ProviderStub: @unchecked Sendable {
    struct Recorded: Sendable {
        var method: HTTPMethod
        var path: String
        var headers: HTTPHeaders
        var body: String
    }

    let app: Application
    private let requests = NIOLockedValueBox<[Recorded]>([])
    private let status = NIOLockedValueBox<HTTPResponseStatus>(.ok)
    private(set) var baseURL = ""

    init() async throws {
        app = try await Application.make(.testing)
        app.http.server.configuration.hostname = "127.0.0.1"
        app.http.server.configuration.port = 0
        app.routes.defaultMaxBodySize = "1mb"
        app.middleware = Middlewares()
        app.on(.POST, "**") { [requests, status] req -> Response in
            requests.withLockedValue {
                $0.append(Recorded(method: req.method, path: req.url.path, headers: req.headers,
                                   body: req.body.string ?? ""))
            }
            let code = status.withLockedValue { $0 }
            return Response(status: code, headers: ["Content-Type": "application/json"], body: .init(string: #"{"success":true}"#))
        }
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        let port = try XCTUnwrap(app.http.server.shared.localAddress?.port)
        baseURL = "http://127.0.0.1:\(port)"
    }

    var recorded: [Recorded] { requests.withLockedValue { $0 } }

    func respond(with code: HTTPResponseStatus) { status.withLockedValue { $0 = code } }

    func shutdown() async throws {
        await app.server.shutdown()
        try await app.asyncShutdown()
    }
}

import XCTest
