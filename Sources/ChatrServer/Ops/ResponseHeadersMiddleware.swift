import Vapor

/// What every response carries (SPEC §1): the request id — the proxy's `X-Request-Id` when it
/// sent a sane one, so nginx's log and ours match, else Vapor's — also in every log line of the
/// request; and the security headers the web client is built to satisfy.
struct ResponseHeadersMiddleware: AsyncMiddleware {
    let contentSecurityPolicy: String

    init(fileOrigins: [String]) {
        let files = fileOrigins.joined(separator: " ")
        contentSecurityPolicy = [
            "default-src 'self'",
            "script-src 'self'",
            // Inline style attributes (waveform bars, progress) — no inline scripts anywhere.
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob: \(files)",
            "media-src 'self' data: blob: \(files)",
            "connect-src 'self' ws: wss:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ].map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "; ")
    }

    /// Swagger UI (`/api/docs`) loads its script and styles from unpkg and starts with an inline
    /// script: that page alone gets a policy that allows them.
    static let docsPolicy = "default-src 'self'; script-src 'self' 'unsafe-inline' https://unpkg.com; style-src 'self' 'unsafe-inline' https://unpkg.com; "
        + "img-src 'self' data: https:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'"

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        // Vapor takes `request.id` from the incoming header as it is: a bad one gets a fresh id.
        let incoming = request.headers.first(name: "X-Request-Id")
        let id = Self.sane(incoming) ?? (incoming == nil ? request.id : UUID().uuidString)
        request.logger[metadataKey: "request-id"] = .string(id)
        let response = try await next.respond(to: request)
        response.headers.replaceOrAdd(name: "X-Request-Id", value: id)
        response.headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        response.headers.replaceOrAdd(name: "Content-Security-Policy",
                                      value: request.url.path == "/api/docs" ? Self.docsPolicy : contentSecurityPolicy)
        response.headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
        response.headers.replaceOrAdd(name: "Referrer-Policy", value: "same-origin")
        return response
    }

    /// Letters, digits, `-_.`, at most 128: anything else is not used (it goes into logs).
    static func sane(_ id: String?) -> String? {
        guard let id, !id.isEmpty, id.utf8.count <= 128,
              id.utf8.allSatisfy({ $0 == 45 || $0 == 46 || $0 == 95 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) })
        else { return nil }
        return id
    }
}
