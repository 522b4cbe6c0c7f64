import Foundation

/// What the service worker receives (decrypted) and shows as a notification. With previews off
/// it carries no names and no text: the push service and the lock screen learn only that a
/// message came.
struct PushPayload: Sendable, Encodable, Equatable {
    var type = "message"
    var conversationId: String
    var messageId: String?
    var kind: String
    var title: String
    var body: String
    var count = 1
    /// Where a click on the notification leads in the web client.
    var url: String
    var sentAt: String?

    /// Longest text shown: a notification shows two or three lines anyway, and the whole payload
    /// must fit one encrypted record (`PushEncryption.maxPayload`).
    static let maxBody = 200

    struct Message: Sendable {
        var conversationID: UUID
        var messageID: UUID
        var kind: Conversation.Kind
        var senderName: String
        var content: String
        var type: String
        var fileName: String?
        var sentAt: Date
        /// Filled in by `PushNotifier` for a group (the send does not load its name).
        var groupName: String? = nil
    }

    static func preview(of message: Message) -> PushPayload {
        let title = message.groupName.map { "\(message.senderName) · \($0)" } ?? message.senderName
        return PushPayload(conversationId: message.conversationID.wire, messageId: message.messageID.wire, kind: message.kind.rawValue,
                           title: String(title.prefix(100)), body: bodyText(of: message), url: url(of: message.conversationID),
                           sentAt: ISO8601.string(from: message.sentAt))
    }

    static func withoutPreview(of message: Message, productName: String) -> PushPayload {
        PushPayload(conversationId: message.conversationID.wire, messageId: nil, kind: message.kind.rawValue,
                    title: productName, body: "New message", url: url(of: message.conversationID), sentAt: nil)
    }

    private static func url(of conversationID: UUID) -> String { "/#/c/\(conversationID.wire)" }

    private static func bodyText(of message: Message) -> String {
        let text = message.content.trimmingCharacters(in: .whitespacesAndNewlines)
        let shown: String
        switch message.type {
        case "image": shown = text.isEmpty ? "📷 Photo" : "📷 \(text)"
        case "audio", "voice": shown = "🎤 Voice message"
        case "file", "video": shown = text.isEmpty ? "📎 \(message.fileName ?? "File")" : "📎 \(text)"
        default: shown = text
        }
        return shown.count > maxBody ? String(shown.prefix(maxBody - 1)) + "…" : shown
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return try encoder.encode(self)
    }
}
