import Fluent
import Foundation

extension MessageService.SendInput {
    /// The one reading of a send's wire fields, whatever carried them (REST JSON, a multipart
    /// upload's fields, a socket event): address, type (text only — files go through the upload
    /// route), reply target.
    init(recipientId: String?, groupId: String?, conversationId: String?, content: String, type: String?,
         clientMessageId: String?, replyToId: String?) throws {
        let address = try Conversations.address(user: recipientId, group: groupId, conversation: conversationId)
        let kind = try type.map { raw -> Message.Kind in
            guard let kind = Message.Kind(rawValue: raw) else { throw ChatrError.badRequest("Unknown message type '\(raw)'", code: "invalid_type") }
            return kind
        } ?? .text
        guard kind != .system else { throw ChatrError.badRequest("Notices are written by the server", code: "invalid_type") }
        guard kind == .text else {
            throw ChatrError.badRequest("Files, images and audio are sent with POST /api/messages/upload", code: "invalid_type")
        }
        let replyTo = try replyToId.map { raw -> UUID in
            guard let id = UUID(uuidString: raw) else { throw ChatrError.badRequest("Invalid replyToId", code: "invalid_reply") }
            return id
        }
        self.init(address: address, content: content, type: kind, clientMessageID: clientMessageId, replyToID: replyTo)
    }
}

/// The one send every entry point runs (REST direct and group, upload, `message:send` and
/// `group:message:send`): the rules of `MessageService.send`, then its events delivered.
struct SendCommand {
    let services: ChatrServices
    let db: any Database

    func run(_ input: MessageService.SendInput, from sender: User) async throws -> (message: MessageDTO, created: Bool) {
        let result = try await MessageService(services: services, db: db).send(from: sender, input)
        await services.publishChanges(result.events, db: db)
        return (result.message, result.created)
    }
}
