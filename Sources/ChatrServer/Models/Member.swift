import Fluent
import Foundation

// @unchecked like every Fluent model: safe because an instance is used by one task at a time
// (docs/DECISIONS.md, "Concurrency").
/// A user's membership of a conversation, with their read position.
final class Member: Model, @unchecked Sendable {
    static let schema = "members"

    enum Role: String, Codable, Sendable { case owner, admin, member }

    @ID(key: .id) var id: UUID?
    @Field(key: "conversation_id") var conversationID: UUID
    @Field(key: "user_id") var userID: UUID
    @Enum(key: "role") var role: Role
    @Field(key: "joined_at") var joinedAt: Date
    @OptionalField(key: "last_read_message_id") var lastReadMessageID: UUID?
    /// Sequence number of the newest message read; unread = messages after it from others.
    @Field(key: "last_read_seq") var lastReadSeq: Int64
    @OptionalField(key: "last_read_at") var lastReadAt: Date?
    /// The conversation's last message number when they joined: they see the messages after it
    /// (set by the database when the row is inserted: `CreateChangeFeed`).
    @Field(key: "history_from_seq") var historyFromSeq: Int64
    /// Until when this member gets no push notifications for the conversation (nil: not muted).
    @OptionalField(key: "muted_until") var mutedUntil: Date?

    init() {}

    init(conversationID: UUID, userID: UUID, role: Role, joinedAt: Date) {
        self.conversationID = conversationID
        self.userID = userID
        self.role = role
        self.joinedAt = joinedAt
        lastReadSeq = 0
        historyFromSeq = 0
    }
}
