import Vapor

/// The web client's files (Vapor's `FileMiddleware`), asked only for paths that can be one: not
/// the API or Socket.IO (their own 404s and errors answer there, in the SPEC's format) and not
/// paths longer than a file name can be — `FileMiddleware` asks the disk first, and a 5 KB path
/// made the `stat` fail with "File name too long", answered as a 500.
///
/// Text files go out compressed (gzip or deflate, as the browser accepts): the app's JavaScript
/// and CSS shrink to about a quarter (only whole answers: a range of the uncompressed bytes must
/// not be compressed, and `Vary` tells caches the two forms apart). Every file carries
/// `Cache-Control: no-cache` and an ETag from its modification time and size: a browser keeps
/// its copy and asks again each load, and the answer is a bodiless 304 until a deploy changes the
/// file — with no build step that renames files, that is what keeps a deploy from mixing old and
/// new modules, at the price of one round trip per file.
struct PublicFilesMiddleware: AsyncMiddleware {
    let files: FileMiddleware
    static let maxPathBytes = 1024
    static let compressible: Set<String> = ["text/html", "text/css", "text/javascript", "application/javascript",
                                            "application/json", "application/manifest+json", "image/svg+xml", "text/plain"]

    init(publicDirectory: String) {
        files = FileMiddleware(publicDirectory: publicDirectory.hasSuffix("/") ? publicDirectory : publicDirectory + "/",
                               defaultFile: "index.html", advancedETagComparison: false, cachePolicy: .noCache)
    }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let path = request.url.path
        if path.hasPrefix("/api/") || path.hasPrefix("/socket.io/") || path.utf8.count > Self.maxPathBytes {
            return try await next.respond(to: request)
        }
        let response = try await files.respond(to: request, chainingTo: next)
        if response.status == .ok, let type = response.headers.contentType, Self.compressible.contains("\(type.type)/\(type.subType)") {
            response.headers.responseCompression = .enable
            response.headers.replaceOrAdd(name: .vary, value: "Accept-Encoding")
        } else {
            response.headers.responseCompression = .disable
        }
        return response
    }
}
