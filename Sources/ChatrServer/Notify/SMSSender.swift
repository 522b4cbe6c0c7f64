import AsyncHTTPClient
import Foundation
import NIOCore
import Vapor

struct SMS: Sendable {
    var to: String
    var text: String
    var code: String?
}

protocol SMSSender: Sendable {
    func send(_ sms: SMS) async throws
}

/// Development and tests: log the SMS and keep it in the outbox.
struct DevSMSSender: SMSSender {
    let outbox: Outbox
    let logger: Logger

    func send(_ sms: SMS) async throws {
        logger.info("dev sms → \(sms.to)\(sms.code.map { " (code \($0))" } ?? "")")
        outbox.append(OutboxEntry(channel: "sms", to: sms.to, subject: nil, body: sms.text, code: sms.code, at: Date()))
    }
}

/// The SMS Works API: `POST {apiURL}/message/send`, `Authorization: JWT <token>`, number without `+`.
struct SMSWorksSender: SMSSender {
    let config: AppConfig.SMSWorksConfig
    let client: HTTPClient

    private struct Body: Encodable { var sender: String; var destination: String; var content: String }

    func send(_ sms: SMS) async throws {
        var request = HTTPClientRequest(url: config.apiURL + "/message/send")
        request.method = .POST
        // The SMS Works hands out tokens that may already start with "JWT ".
        let token = config.token.hasPrefix("JWT ") ? config.token : "JWT \(config.token)"
        request.headers.add(name: "Authorization", value: token)
        request.headers.add(name: "Content-Type", value: "application/json")
        let destination = sms.to.hasPrefix("+") ? String(sms.to.dropFirst()) : sms.to
        let body = Body(sender: config.sender, destination: destination, content: sms.text)
        request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
        let response = try await client.execute(request, timeout: .seconds(15))
        guard (200..<300).contains(response.status.code) else {
            let detail = try? await response.body.collect(upTo: 4096)
            throw DeliveryError(service: "The SMS Works", status: Int(response.status.code),
                                detail: detail.map { String(buffer: $0) } ?? "")
        }
    }
}
