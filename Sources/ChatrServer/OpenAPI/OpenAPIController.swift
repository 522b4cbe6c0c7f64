import Vapor

/// Serves the OpenAPI document and a Swagger UI page for it (basic auth in production when
/// `SWAGGER_USER`/`SWAGGER_PASS` are set).
struct OpenAPIController: RouteCollection {
    let document: JSONValue

    func boot(routes: any RoutesBuilder) throws {
        // Encoded once, keys sorted: the same bytes on every start. Swift's dictionaries iterate
        // in a per-process random order, and schema-driven tools (schemathesis) generate their
        // cases from the document's order — a fixed seed only repeats a run on a fixed document.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = try encoder.encode(document)
        routes.get("api", "openapi.json") { _ in
            Response(status: .ok, headers: ["Content-Type": "application/json; charset=utf-8"], body: .init(data: body))
        }
        routes.grouped(SwaggerBasicAuth()).get("api", "docs", use: Self.docs)
    }

    @Sendable static func docs(_ req: Request) async throws -> Response {
        // Swagger UI's assets come from a CDN in the reader's browser; nothing to install here.
        let page = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>\(HTML.escape(req.chatr.config.productName)) API</title>
        <link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css"></head>
        <body><div id="swagger-ui"></div>
        <script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js" crossorigin></script>
        <script>window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#swagger-ui" });</script>
        </body></html>
        """
        return Response(status: .ok, headers: ["Content-Type": "text/html; charset=utf-8"], body: .init(string: page))
    }
}

extension JSONValue: AsyncResponseEncodable {
    func encodeResponse(for request: Request) async throws -> Response {
        let response = Response(status: .ok)
        try response.content.encode(self, as: .json)
        return response
    }
}

struct SwaggerBasicAuth: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let config = request.chatr.config
        guard config.mode == .production, let credentials = config.swaggerCredentials else {
            return try await next.respond(to: request)
        }
        guard let basic = request.headers.basicAuthorization,
              constantTimeEquals(basic.username, credentials.user), constantTimeEquals(basic.password, credentials.password) else {
            throw ChatrError(.unauthorized, "Authentication required", headers: ["WWW-Authenticate": "Basic realm=\"API docs\""])
        }
        return try await next.respond(to: request)
    }
}
