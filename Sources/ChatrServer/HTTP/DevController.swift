import Vapor

/// Development helpers, registered only when `CHATR_ENV` is development or testing:
/// the dev outbox and a preview of every email template — for clients on this machine only
/// (SPEC §1; behind a trusted proxy, the client's forwarded address counts).
struct DevController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let local = routes.grouped(LoopbackOnly())
        local.get("api", "dev", "outbox", use: Self.outbox)
        local.get("api", "email-preview", use: Self.emailPreview)
    }

    struct LoopbackOnly: AsyncMiddleware {
        func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
            guard request.clientIsLoopback else {
                request.logger.warning("dev route refused to \(request.clientAddress)")
                throw ChatrError.forbidden("Development routes answer this machine only")
            }
            return try await next.respond(to: request)
        }
    }

    /// `[{channel, to, subject, body, code, at}]`, newest last; `?to=` filters by recipient.
    @Sendable static func outbox(_ req: Request) async throws -> [OutboxEntry] {
        let entries = req.chatr.outbox.all
        guard let to = try req.query.get(String?.self, at: "to") else { return entries }
        return entries.filter { $0.to.lowercased() == to.lowercased() }
    }

    /// Without `template`, an index of templates; with it, the HTML (or `format=text`) rendering.
    @Sendable static func emailPreview(_ req: Request) async throws -> Response {
        let config = req.chatr.config
        guard let name = try req.query.get(String?.self, at: "template") else {
            let links = CodeMessage.Kind.allCases.map { kind in
                "<li><a href=\"?template=\(kind.rawValue)\">\(kind.rawValue)</a> · <a href=\"?template=\(kind.rawValue)&amp;format=text\">text</a></li>"
            }.joined()
            return html("<!doctype html><title>Email templates</title><h1>Email templates</h1><ul>\(links)</ul>")
        }
        guard let kind = CodeMessage.Kind(rawValue: name) else { throw ChatrError.notFound("No template named '\(name)'") }
        let message = CodeMessage(kind: kind, code: "123456", recipientName: "Ada Lovelace", productName: config.productName,
                                  frontendURL: config.frontendOrigins.first ?? config.backendURL, validMinutes: 15)
        if try req.query.get(String?.self, at: "format") == "text" {
            return Response(status: .ok, headers: ["Content-Type": "text/plain; charset=utf-8"], body: .init(string: message.text))
        }
        return html(message.html)
    }

    private static func html(_ text: String) -> Response {
        Response(status: .ok, headers: ["Content-Type": "text/html; charset=utf-8"], body: .init(string: text))
    }
}
