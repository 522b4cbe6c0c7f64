import Vapor

/// The web client's files (Vapor's `FileMiddleware`), asked only for paths that can be one: not
/// the API or Socket.IO (their own 404s and errors answer there, in the SPEC's format) and not
/// paths longer than a file name can be — `FileMiddleware` asks the disk first, and a 5 KB path
/// made the `stat` fail with "File name too long", answered as a 500.
struct PublicFilesMiddleware: AsyncMiddleware {
    let files: FileMiddleware
    static let maxPathBytes = 1024

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let path = request.url.path
        if path.hasPrefix("/api/") || path.hasPrefix("/socket.io/") || path.utf8.count > Self.maxPathBytes {
            return try await next.respond(to: request)
        }
        return try await files.respond(to: request, chainingTo: next)
    }
}
