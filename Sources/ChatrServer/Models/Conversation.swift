import Fluent
import Foundation

// @unchecked like every Fluent model: safe because an instance is used by one task at a time
// (docs/DECISIONS.md, "Concurrency").
/// A direct conversation (exactly two members, unique per pair) or a group.
final class Conversation: Model, @unchecked Sendable {
    static let schema = "conversations"

    enum Kind: String, Codable, Sendable { case direct, group }

    @ID(key: .id) var id: UUID?
    @Enum(key: "kind") var kind: Kind
    /// For direct conversations: the two user ids, sorted and joined — unique, so a pair has one.
    @OptionalField(key: "direct_key") var directKey: String?
    @OptionalField(key: "name") var name: String?
    @OptionalField(key: "description") var description: String?
    @OptionalField(key: "owner_id") var ownerID: UUID?
    @OptionalField(key: "avatar") var avatar: String?
    /// The sequence number of the newest message; messages are numbered 1, 2, 3… per conversation,
    /// which gives history a strict order and cursors that never skip or repeat.
    @Field(key: "last_seq") var lastSeq: Int64
    @OptionalField(key: "last_message_at") var lastMessageAt: Date?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {}

    init(direct first: UUID, _ second: UUID) {
        kind = .direct
        directKey = Self.directKey(first, second)
        lastSeq = 0
    }

    static func directKey(_ a: UUID, _ b: UUID) -> String {
        let (x, y) = (a.wire, b.wire)
        return x < y ? "\(x):\(y)" : "\(y):\(x)"
    }
}
