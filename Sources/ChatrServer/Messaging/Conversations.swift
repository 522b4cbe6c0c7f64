import Fluent
import Foundation
import SQLKit

/// Finding conversations and checking membership — every rule about "who is in what".
struct Conversations {
    let db: any Database

    /// Where a request points: another user (direct), a group, or a conversation id.
    enum Address: Sendable {
        case user(UUID)
        case group(UUID)
        case conversation(UUID)
    }

    /// Reads `recipientId` / `otherUserId`, `groupId` and `conversationId`: exactly one must be set.
    static func address(user: String?, group: String?, conversation: String?) throws -> Address {
        let given = [user, group, conversation].compactMap { $0 }
        guard given.count == 1 else {
            throw ChatrError.badRequest("Give exactly one of recipientId, groupId or conversationId", code: "invalid_target")
        }
        func uuid(_ raw: String, _ field: String) throws -> UUID {
            guard let id = UUID(uuidString: raw) else { throw ChatrError.badRequest("Invalid \(field)", code: "invalid_target") }
            return id
        }
        if let user { return .user(try uuid(user, "recipientId")) }
        if let group { return .group(try uuid(group, "groupId")) }
        return .conversation(try uuid(conversation!, "conversationId"))
    }

    static let recipientNotFound = ChatrError.notFound("Recipient not found")

    /// The conversation `address` names, for a member `me`; nil for a direct conversation that
    /// does not exist yet (a send creates it: `DirectConversationCreator`).
    func resolve(_ address: Address, for me: UUID) async throws -> (Conversation, [Member])? {
        switch address {
        case .user(let other):
            guard other != me else { throw ChatrError.badRequest("You cannot message yourself", code: "invalid_recipient") }
            if let existing = try await Conversation.query(on: db).filter(\.$directKey == Conversation.directKey(me, other)).first() {
                return (existing, try await members(of: existing.requireID()))
            }
            guard let user = try await User.find(other, on: db), user.isVerified else { throw Self.recipientNotFound }
            return nil
        case .group(let id), .conversation(let id):
            guard let conversation = try await Conversation.find(id, on: db) else {
                throw ChatrError.notFound("Conversation not found")
            }
            if case .group = address, conversation.kind != .group { throw ChatrError.notFound("Group not found") }
            let members = try await members(of: id)
            guard members.contains(where: { $0.userID == me }) else {
                throw ChatrError.forbidden("You are not a member of this conversation")
            }
            return (conversation, members)
        }
    }

    func members(of conversationID: UUID) async throws -> [Member] {
        try await Member.query(on: db).filter(\.$conversationID == conversationID).all()
    }

    /// Every member's `last_read_seq` (one indexed read; group read state is per person).
    func readPositions(in conversationID: UUID) async throws -> [UUID: Int64] {
        let rows = try await (db as! any SQLDatabase).raw(
            "SELECT user_id, last_read_seq FROM members WHERE conversation_id = \(bind: conversationID)").all()
        var positions: [UUID: Int64] = [:]
        for row in rows { positions[try row.decode(column: "user_id", as: UUID.self)] = try row.decode(column: "last_read_seq", as: Int64.self) }
        return positions
    }

    /// The last message number before `user` joined (0: they see everything).
    func historyFloor(of user: UUID, in conversationID: UUID) async throws -> Int64 {
        let row = try await (db as! any SQLDatabase).raw(
            "SELECT history_from_seq FROM members WHERE conversation_id = \(bind: conversationID) AND user_id = \(bind: user)").first()
        return try row?.decode(column: "history_from_seq", as: Int64.self) ?? 0
    }

    /// A conversation and its members, if `me` is one of them (403 otherwise, 404 if it is gone).
    func membership(of conversationID: UUID, me: UUID) async throws -> (Conversation, [Member]) {
        guard let conversation = try await Conversation.find(conversationID, on: db) else {
            throw ChatrError.notFound("Message not found")
        }
        let members = try await members(of: conversationID)
        guard members.contains(where: { $0.userID == me }) else {
            throw ChatrError.forbidden("You are not a member of this conversation")
        }
        return (conversation, members)
    }

    /// Ids of the conversations `user` belongs to (their socket rooms).
    // This and `memberships` are plain SQL, no model per row (Fluent builds a whole `Member` by
    // reflection for each row, which made a connect storm in large groups crawl).

    func conversationIDs(of user: UUID) async throws -> [UUID] {
        try await (db as! any SQLDatabase).raw("SELECT conversation_id FROM members WHERE user_id = \(bind: user)")
            .all().map { try $0.decode(column: "conversation_id", as: UUID.self) }
    }

    /// What a socket needs when it connects, in one query: the conversations `user` belongs to
    /// (its rooms) and everyone who shares at least one with them (presence goes to them only).
    // One statement instead of two: under a reconnect storm each query is a round trip through
    // SQLite's thread pool and back, and those hops, not SQLite's work, are most of a connect's cost.
    func memberships(of user: UUID) async throws -> Memberships {
        let rows = try await (db as! any SQLDatabase).raw("""
            SELECT conversation_id AS id, 0 AS contact FROM members WHERE user_id = \(bind: user)
            UNION ALL
            SELECT DISTINCT other.user_id, 1 FROM members mine
            JOIN members other ON other.conversation_id = mine.conversation_id AND other.user_id <> mine.user_id
            WHERE mine.user_id = \(bind: user)
            """).all()
        var memberships = Memberships()
        for row in rows {
            let id = try row.decode(column: "id", as: UUID.self)
            if try row.decode(column: "contact", as: Int.self) == 1 {
                memberships.contacts.insert(id)
            } else {
                memberships.conversationIDs.append(id)
            }
        }
        return memberships
    }

    /// Which of `others` share a conversation with `user`: the people allowed to see whether the
    /// user's contacts are online and when they were last seen (a stranger sees neither).
    func contacts(of user: UUID, among others: [UUID]) async throws -> Set<UUID> {
        guard !others.isEmpty else { return [] }
        let rows = try await (db as! any SQLDatabase).raw("""
            SELECT DISTINCT other.user_id AS user_id FROM members mine
            JOIN members other ON other.conversation_id = mine.conversation_id AND other.user_id <> mine.user_id
            WHERE mine.user_id = \(bind: user) AND other.user_id IN (\(binds: others))
            """).all()
        return Set(try rows.map { try $0.decode(column: "user_id", as: UUID.self) })
    }
}

/// A user's conversations and contacts (`Conversations.memberships`).
struct Memberships: Sendable {
    var conversationIDs: [UUID] = []
    var contacts: Set<UUID> = []
}
