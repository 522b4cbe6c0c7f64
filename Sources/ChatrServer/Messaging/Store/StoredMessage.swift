import Foundation

/// A message as stored, read to be shown: a plain value. A Fluent `Message` keeps each of its 29
/// columns in a property-wrapper object whose every read and write looks up generic metadata
/// under a lock; building, reading and freeing fifty of them was a quarter of a history page's
/// CPU (docs/PERFORMANCE.md). Pages, feeds, searches and lists read these; a message that will
/// be changed is loaded as a `Message`, and `Message.stored` gives its value to show it.
struct StoredMessage: Sendable {
    var id: UUID
    var conversationID: UUID
    var seq: Int64
    var senderID: UUID
    var clientMessageID: String?
    var content: String
    var type: Message.Kind
    var status: Message.Status
    var readAt: Date?
    var fileURL: String?
    var fileName: String?
    var fileSize: Int?
    var fileType: String?
    var caption: String?
    var audioWaveform: String?
    var audioDuration: Double?
    var imageWidth: Int?
    var imageHeight: Int?
    var deletedAt: Date?
    var edited: Bool
    var editedAt: Date?
    var replyToID: UUID?
    var replyToContent: String?
    var replyToSenderName: String?
    var replyToType: String?
    var replyToDuration: Double?
    var createdAt: Date

    var isUnsent: Bool { deletedAt != nil }
}

extension Message {
    /// This message's stored value, to show it (`MessageDTO`). Saved messages only: `id` is set.
    var stored: StoredMessage {
        StoredMessage(id: id!, conversationID: conversationID, seq: seq, senderID: senderID, clientMessageID: clientMessageID,
                      content: content, type: type, status: status, readAt: readAt, fileURL: fileURL, fileName: fileName,
                      fileSize: fileSize, fileType: fileType, caption: caption, audioWaveform: audioWaveform,
                      audioDuration: audioDuration, imageWidth: imageWidth, imageHeight: imageHeight, deletedAt: deletedAt,
                      edited: edited, editedAt: editedAt, replyToID: replyToID, replyToContent: replyToContent,
                      replyToSenderName: replyToSenderName, replyToType: replyToType, replyToDuration: replyToDuration,
                      createdAt: createdAt)
    }
}
