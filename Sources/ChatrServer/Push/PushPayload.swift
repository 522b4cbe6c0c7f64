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

    /// Longest text shown, in characters and in UTF-8 bytes: a notification shows two or three
    /// lines anyway, and the whole payload must fit one encrypted record
    /// (`PushEncryption.maxPayload`) whatever the text is made of (one emoji family is 25 bytes,
    /// a letter under a pile of accents any number).
    static let maxBody = 200
    static let maxBodyBytes = 1000
    static let maxTitleBytes = 400

    struct Message: Sendable {
        var conversationID: UUID
        var messageID: UUID
        var kind: Conversation.Kind
        var senderName: String
        var content: String
        var type: String
        var fileName: String?
        var caption: String?
        var sentAt: Date
        /// Filled in by `PushNotifier` for a group (the send does not load its name).
        var groupName: String? = nil
    }

    static func preview(of message: Message) -> PushPayload {
        let title = message.groupName.map { "\(message.senderName) · \($0)" } ?? message.senderName
        return PushPayload(conversationId: message.conversationID.wire, messageId: message.messageID.wire, kind: message.kind.rawValue,
                           title: shortened(title, characters: 100, bytes: maxTitleBytes), body: bodyText(of: message), url: url(of: message.conversationID),
                           sentAt: ISO8601.string(from: message.sentAt))
    }

    static func withoutPreview(of message: Message, productName: String) -> PushPayload {
        PushPayload(conversationId: message.conversationID.wire, messageId: nil, kind: message.kind.rawValue,
                    title: productName, body: "New message", url: url(of: message.conversationID), sentAt: nil)
    }

    private static func url(of conversationID: UUID) -> String { "/#/c/\(conversationID.wire)" }

    private static func bodyText(of message: Message) -> String {
        let said = message.content.trimmingCharacters(in: .whitespacesAndNewlines)
        // An upload's words are its caption.
        let text = said.isEmpty ? (message.caption ?? "").trimmingCharacters(in: .whitespacesAndNewlines) : said
        let shown: String
        switch message.type {
        case "image": shown = text.isEmpty ? "📷 Photo" : "📷 \(text)"
        case "audio", "voice": shown = "🎤 Voice message"
        case "file", "video": shown = text.isEmpty ? "📎 \(message.fileName ?? "File")" : "📎 \(text)"
        default: shown = text
        }
        return shortened(shown, characters: maxBody, bytes: maxBodyBytes)
    }

    /// At most `characters` characters and `bytes` UTF-8 bytes, cut between characters, with "…"
    /// when cut.
    static func shortened(_ text: String, characters: Int, bytes: Int) -> String {
        guard text.count > characters || text.utf8.count > bytes else { return text }
        var kept = ""
        var used = 3  // "…"
        for character in text.prefix(characters - 1) {
            let size = character.utf8.count
            guard used + size <= bytes else { break }
            kept.append(character)
            used += size
        }
        return kept + "…"
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return try encoder.encode(self)
    }
}
