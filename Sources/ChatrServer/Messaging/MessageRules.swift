/// The limits of SPEC §2 for messages, in one place.
enum MessageRules {
    static let maxContent = 10_000
    static let maxGhostText = 1_000
    static let maxClientMessageID = 100
    static let maxEmojiBytes = 32
    static let maxEmojiCharacters = 8
    static let historyDefault = 50
    static let historyMax = 200
    static let maxPresenceRequest = 500
    /// Unread counts stop here: a conversation with more says this many ("999+" on screen).
    /// Counting is a scan of the unread messages, and the list counts on every request: an
    /// exact 5,000 cost 3.5 ms per conversation (docs/PERFORMANCE.md).
    static let maxUnreadCount = 1_000

    static func contentProblem(_ content: String) -> String? {
        if content.textLength > maxContent { return "Message content must be at most \(maxContent) characters" }
        return nil
    }

    static func emojiProblem(_ emoji: String) -> String? {
        let trimmed = emoji.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return "Emoji is required" }
        if trimmed.count > maxEmojiCharacters || trimmed.utf8.count > maxEmojiBytes { return "Emoji is too long" }
        return nil
    }
}

import Foundation
