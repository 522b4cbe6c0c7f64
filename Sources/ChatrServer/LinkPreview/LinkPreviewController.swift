import Vapor

/// `GET /api/link-preview?url=` — a card for a link in a message (title, description, site,
/// picture) — and `GET /api/link-preview/image?url=&sig=`, the card's picture through this
/// server. See `LinkPreviews` and `OutboundAddressPolicy`.
struct LinkPreviewController: RouteCollection {
    /// Each uncached preview is a request the server makes for the user: a few a second is what
    /// reading a chat needs; a script asking for thousands is stopped.
    static let perUserPerMinute = 60
    /// Pictures need no token, so they are counted per address: a page of chats shows a few
    /// dozen; a loop asking for one picture over and over is stopped.
    static let imagesPerAddressPerMinute = 300

    func boot(routes: any RoutesBuilder) throws {
        let previews = routes.grouped("api", "link-preview")
        previews.grouped(UserAuthMiddleware()).get(use: Self.preview)
        // Loaded by <img>, which sends no token: the signature is the permission.
        previews.get("image", use: Self.image)
    }

    @Sendable static func preview(_ req: Request) async throws -> LinkPreview {
        guard let raw = try req.query.get(String?.self, at: "url"), !raw.isEmpty else {
            throw ChatrError.badRequest("Query parameter 'url' is required", code: "invalid_url")
        }
        let user = try req.currentUser.requireID()
        if let retryAfter = req.chatr.rateLimiter.hit("link-preview:" + user.wire, limit: perUserPerMinute, per: 60) {
            throw ChatrError.tooManyRequests(retryAfter: retryAfter, "Too many link previews, try again in a minute")
        }
        return try await req.chatr.linkPreviews.preview(of: raw).mapError(\.chatrError).get()
    }

    @Sendable static func image(_ req: Request) async throws -> Response {
        guard let source = try req.query.get(String?.self, at: "url"), let signature = try req.query.get(String?.self, at: "sig") else {
            throw ChatrError.badRequest("Query parameters 'url' and 'sig' are required", code: "invalid_url")
        }
        if let retryAfter = req.chatr.rateLimiter.hit("link-preview-image:" + req.clientAddress, limit: imagesPerAddressPerMinute, per: 60) {
            throw ChatrError.tooManyRequests(retryAfter: retryAfter, "Too many pictures, try again in a minute")
        }
        let image = try await req.chatr.linkPreviews.image(source, signature: signature).mapError(\.chatrError).get()
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: String(image.contentType.split(separator: "/")[0]),
                                            subType: String(image.contentType.split(separator: "/")[1]))
        headers.add(name: .cacheControl, value: "private, max-age=86400")
        return Response(status: .ok, headers: headers, body: .init(buffer: image.bytes))
    }
}

extension LinkPreviews.Failure {
    var chatrError: ChatrError {
        switch self {
        case .refused(.invalid(let reason)): return ChatrError.badRequest(reason, code: "invalid_url")
        case .refused(.notAllowed(let reason)): return ChatrError(.forbidden, reason, code: "url_not_allowed")
        // Not a 5xx: a site that is down or says nothing is not this server failing (5xx is
        // what an operator's alerts watch).
        case .unavailable(let reason): return ChatrError(.unprocessableEntity, "No preview: \(reason)", code: "preview_unavailable")
        }
    }
}
