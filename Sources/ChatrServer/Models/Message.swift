import Fluent
import Foundation

// @unchecked like every Fluent model: safe because an instance is used by one task at a time
// (docs/DECISIONS.md, "Concurrency").
/// One message of a conversation (SPEC §3). Unsending keeps the row and sets `deletedAt`.
final class Message: Model, @unchecked Sendable {
    static let schema = "messages"

    /// `system`: a notice the server writes in a group ("joined", "left"…; `GroupNotices`).
    enum Kind: String, Codable, Sendable, CaseIterable { case text, image, file, audio, voice, video, system }
    enum Status: String, Codable, Sendable { case sent, delivered, read, listening, listened }

    @ID(key: .id) var id: UUID?
    @Field(key: "conversation_id") var conversationID: UUID
    /// Position in the conversation (1, 2, 3…): the order of history and the cursor key.
    @Field(key: "seq") var seq: Int64
    @Field(key: "sender_id") var senderID: UUID
    @OptionalField(key: "client_message_id") var clientMessageID: String?
    @Field(key: "content") var content: String
    @Enum(key: "type") var type: Kind
    @Enum(key: "status") var status: Status
    @OptionalField(key: "read_at") var readAt: Date?
    @OptionalField(key: "file_url") var fileURL: String?
    @OptionalField(key: "file_name") var fileName: String?
    @OptionalField(key: "file_size") var fileSize: Int?
    @OptionalField(key: "file_type") var fileType: String?
    @OptionalField(key: "caption") var caption: String?
    /// JSON array of numbers in [0, 1].
    @OptionalField(key: "audio_waveform") var audioWaveform: String?
    @OptionalField(key: "audio_duration") var audioDuration: Double?
    @OptionalField(key: "image_width") var imageWidth: Int?
    @OptionalField(key: "image_height") var imageHeight: Int?
    @OptionalField(key: "deleted_at") var deletedAt: Date?
    @Field(key: "edited") var edited: Bool
    @OptionalField(key: "edited_at") var editedAt: Date?
    @OptionalField(key: "reply_to_id") var replyToID: UUID?
    @OptionalField(key: "reply_to_content") var replyToContent: String?
    @OptionalField(key: "reply_to_sender_name") var replyToSenderName: String?
    @OptionalField(key: "reply_to_type") var replyToType: String?
    @OptionalField(key: "reply_to_duration") var replyToDuration: Double?
    /// What search finds it by (`SearchText.indexed`), kept by the store; nil once unsent.
    @OptionalField(key: "search_text") var searchText: String?
    @Field(key: "created_at") var createdAt: Date
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {}

    var isUnsent: Bool { deletedAt != nil }
}

// @unchecked like every Fluent model: safe because an instance is used by one task at a time
// (docs/DECISIONS.md, "Concurrency").
/// The previous text of an edited message. Append-only: never updated or deleted.
final class MessageEdit: Model, @unchecked Sendable {
    static let schema = "message_edits"

    @ID(key: .id) var id: UUID?
    @Field(key: "message_id") var messageID: UUID
    @Field(key: "edited_by_id") var editedByID: UUID
    @Field(key: "previous_content") var previousContent: String
    @Field(key: "edited_at") var editedAt: Date

    init() {}

    init(messageID: UUID, editedByID: UUID, previousContent: String, editedAt: Date) {
        self.messageID = messageID
        self.editedByID = editedByID
        self.previousContent = previousContent
        self.editedAt = editedAt
    }
}

// @unchecked like every Fluent model: safe because an instance is used by one task at a time
// (docs/DECISIONS.md, "Concurrency").
/// One user's reaction to a message (at most one per user per message).
final class Reaction: Model, @unchecked Sendable {
    static let schema = "reactions"

    @ID(key: .id) var id: UUID?
    @Field(key: "message_id") var messageID: UUID
    @Field(key: "user_id") var userID: UUID
    @Field(key: "emoji") var emoji: String
    @Field(key: "created_at") var createdAt: Date

    init() {}

    init(messageID: UUID, userID: UUID, emoji: String, createdAt: Date) {
        self.messageID = messageID
        self.userID = userID
        self.emoji = emoji
        self.createdAt = createdAt
    }
}
