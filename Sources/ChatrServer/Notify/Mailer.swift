import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Vapor

/// A rendered transactional email.
struct Email: Sendable {
    var to: String
    var subject: String
    var html: String
    var text: String
    /// The one-time code it carries, kept by the dev outbox so a developer can finish a flow.
    var code: String?
    var category: String
}

protocol Mailer: Sendable {
    func send(_ email: Email) async throws
}

/// Development and tests: log the email and keep it in the outbox.
struct DevMailer: Mailer {
    let outbox: Outbox
    let logger: Logger

    func send(_ email: Email) async throws {
        logger.info("dev mailer → \(email.to): \(email.subject)\(email.code.map { " (code \($0))" } ?? "")")
        outbox.append(OutboxEntry(channel: "email", to: email.to, subject: email.subject, body: email.text, code: email.code, at: Date()))
    }
}

/// The Mailtrap sending API: `POST {apiURL}/api/send` with a bearer token.
struct MailtrapMailer: Mailer {
    let config: AppConfig.MailtrapConfig
    let client: HTTPClient

    private struct Address: Encodable { var email: String; var name: String? }
    private struct Body: Encodable {
        var from: Address
        var to: [Address]
        var subject: String
        var text: String
        var html: String
        var category: String
    }

    func send(_ email: Email) async throws {
        var request = HTTPClientRequest(url: config.apiURL + "/api/send")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(config.apiKey)")
        request.headers.add(name: "Content-Type", value: "application/json")
        let body = Body(from: Address(email: config.fromAddress, name: config.fromName), to: [Address(email: email.to)],
                        subject: email.subject, text: email.text, html: email.html, category: email.category)
        request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
        let response = try await client.execute(request, timeout: .seconds(15))
        guard (200..<300).contains(response.status.code) else {
            let detail = try? await response.body.collect(upTo: 4096)
            throw DeliveryError(service: "Mailtrap", status: Int(response.status.code),
                                detail: detail.map { String(buffer: $0) } ?? "")
        }
    }
}

struct DeliveryError: Error, CustomStringConvertible {
    var service: String
    var status: Int
    var detail: String
    var description: String { "\(service) answered \(status): \(detail.prefix(300))" }
}
