import Vapor

/// Serves local uploads at `/uploads/<key>`, readable from other origins (the web client may be
/// hosted elsewhere). Keys that could escape the folder are 404, not an error page.
struct UploadsController: RouteCollection {
    let storage: LocalFileStorage

    func boot(routes: any RoutesBuilder) throws {
        routes.get("uploads", "**", use: serve)
    }

    @Sendable func serve(_ req: Request) async throws -> Response {
        let key = req.parameters.getCatchall().joined(separator: "/")
        // A folder is not a file: streaming one would close the connection with no answer.
        var isFolder: ObjCBool = false
        guard let path = try? storage.path(for: key), FileManager.default.fileExists(atPath: path, isDirectory: &isFolder),
              !isFolder.boolValue else {
            throw ChatrError.notFound("File not found")
        }
        let response = try await req.fileio.asyncStreamFile(at: path)
        response.headers.replaceOrAdd(name: "Cross-Origin-Resource-Policy", value: "cross-origin")
        response.headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        return response
    }
}
