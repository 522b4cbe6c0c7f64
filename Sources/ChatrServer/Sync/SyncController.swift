import Fluent
import SocketIO
import Vapor

/// `GET /api/sync?since=<cursor>&limit=N` (SPEC §6): the changes after a cursor, in pages, as
/// current state (`ChangeFeed`). Without `since`, no changes and the cursor of now: a client
/// takes it *before* loading its conversations, then syncs from it, so nothing falls between.
struct SyncController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.grouped(UserAuthMiddleware()).get("api", "sync", use: Self.sync)
    }

    @Sendable static func sync(_ req: Request) async throws -> Response {
        let user = try req.currentUser
        let cursors = req.chatr.syncCursors
        let limit = try req.query.get(Int?.self, at: "limit") ?? ChangeFeed.defaultLimit
        guard (1...ChangeFeed.maxLimit).contains(limit) else {
            throw ChatrError.badRequest("limit must be between 1 and \(ChangeFeed.maxLimit)", code: "invalid_limit")
        }
        let feed = ChangeFeed(services: req.chatr, db: req.db)
        let body: SocketValue
        if let raw = try req.query.get(String?.self, at: "since") {
            guard let since = cursors.seq(from: raw) else {
                throw ChatrError.badRequest("Malformed cursor: use one that GET /api/sync or a live event gave", code: "invalid_cursor")
            }
            let page = try await feed.page(for: user, since: since, limit: limit)
            body = ["changes": .array(try page.entries.map { try $0.entry.socketValue(cursor: cursors.string(for: $0.seq)) }),
                    "cursor": .string(cursors.string(for: page.next)), "hasMore": .bool(page.hasMore)]
        } else {
            body = ["changes": [], "cursor": .string(cursors.string(for: try await feed.latest())), "hasMore": false]
        }
        var bytes: [UInt8] = []
        JSONCodec.write(body, into: &bytes)
        var headers = HTTPHeaders()
        headers.contentType = .json
        headers.cacheControl = .init(noStore: true)
        return Response(status: .ok, headers: headers, body: .init(buffer: ByteBuffer(bytes: bytes)))
    }
}
