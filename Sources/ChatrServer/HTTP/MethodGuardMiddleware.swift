import Vapor

/// Methods no route serves (TRACE, CONNECT, WebDAV's …) answer 405 with `Allow`, in the SPEC's
/// error format — not a 404 from the router, nor the web client's index page from the file
/// middleware (which answered `TRACE /` with 200).
struct MethodGuardMiddleware: AsyncMiddleware {
    static let served: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard Self.served.contains(request.method.rawValue) else {
            throw ChatrError(.methodNotAllowed, "Method \(request.method.rawValue) is not allowed", code: "method_not_allowed",
                             headers: ["Allow": "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"])
        }
        return try await next.respond(to: request)
    }
}
