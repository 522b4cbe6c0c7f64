import Vapor

/// Sends a one-time code to a user by email or SMS, in the product's words.
struct CodeDelivery: Sendable {
    enum Channel: String, Sendable { case email, sms }

    let mailer: any Mailer
    let sms: any SMSSender
    let productName: String
    let frontendURL: String
    let logger: Logger

    /// The channel to use: the one asked for when the account has it, else what the account has.
    static func channel(for user: User, preferred: Channel?) throws -> Channel {
        switch preferred {
        case .sms?:
            guard user.phoneNumber != nil else { throw ChatrError.badRequest("This account has no phone number", code: "no_phone") }
            return .sms
        case .email?:
            guard user.email != nil else { throw ChatrError.badRequest("This account has no email address", code: "no_email") }
            return .email
        case nil:
            return user.email != nil ? .email : .sms
        }
    }

    func send(_ kind: CodeMessage.Kind, code: String, validMinutes: Int, to user: User, via channel: Channel) async throws {
        let message = CodeMessage(kind: kind, code: code, recipientName: user.displayName, productName: productName,
                                  frontendURL: frontendURL, validMinutes: validMinutes)
        do {
            switch channel {
            case .email:
                guard let address = user.email else { throw ChatrError.badRequest("This account has no email address", code: "no_email") }
                try await mailer.send(Email(to: address, subject: message.subject, html: message.html, text: message.text,
                                            code: code, category: kind.rawValue))
            case .sms:
                guard let number = user.phoneNumber else { throw ChatrError.badRequest("This account has no phone number", code: "no_phone") }
                try await sms.send(SMS(to: number, text: message.sms, code: code))
            }
        } catch let error as ChatrError {
            throw error
        } catch {
            logger.error("could not send \(kind.rawValue) code by \(channel.rawValue): \(error)")
            throw ChatrError(.badGateway, "We could not send your code right now; please try again", code: "delivery_failed")
        }
    }
}
