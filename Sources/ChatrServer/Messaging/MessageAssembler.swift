import Fluent
import Foundation

/// Builds `MessageDTO`s for a batch of messages in two queries (reactions, then every user the
/// batch mentions), however many messages there are.
struct MessageAssembler {
    let db: any Database
    let files: any FileStorage

    /// What a message's DTO needs of its conversation.
    struct Context {
        var kind: Conversation.Kind
        var memberIDs: [UUID]
        /// Groups: who is looking and every member's `last_read_seq`, for per-person read state.
        var groupReads: (viewer: UUID, readSeqs: [UUID: Int64])?

        init(kind: Conversation.Kind, memberIDs: [UUID], groupReads: (viewer: UUID, readSeqs: [UUID: Int64])? = nil) {
            self.kind = kind
            self.memberIDs = memberIDs
            self.groupReads = groupReads
        }

        init(conversation: Conversation, members: [Member]) {
            self.init(kind: conversation.kind, memberIDs: members.map(\.userID))
        }
    }

    func dtos(_ messages: [StoredMessage], contexts: [UUID: Context], knownUsers: [User] = []) async throws -> [MessageDTO] {
        guard !messages.isEmpty else { return [] }
        let ids = messages.map(\.id)
        let reactions = try await Reaction.query(on: db).filter(\.$messageID ~~ ids).sort(\.$createdAt).all()
        var users = Dictionary(knownUsers.compactMap { user in user.id.map { ($0, user) } }, uniquingKeysWith: { a, _ in a })
        let wanted = Set(messages.map(\.senderID)).union(reactions.map(\.userID)).subtracting(users.keys)
        if !wanted.isEmpty {
            for user in try await User.query(on: db).filter(\.$id ~~ Array(wanted)).all() { users[user.id!] = user }
        }
        let reactionsByMessage = Dictionary(grouping: reactions, by: \.messageID)
        return messages.compactMap { message in
            guard let context = contexts[message.conversationID], let sender = users[message.senderID] else { return nil }
            let recipient = context.kind == .direct ? context.memberIDs.first { $0 != message.senderID } : nil
            let reactionList = (reactionsByMessage[message.id] ?? []).map { ($0, users[$0.userID]?.username ?? "") }
            var dto = MessageDTO(message, conversationKind: context.kind, sender: sender, recipientID: recipient,
                                 reactions: reactionList, files: files)
            if let reads = context.groupReads { dto.applyGroupReads(viewer: reads.viewer, seq: message.seq, readSeqs: reads.readSeqs) }
            return dto
        }
    }

    func dto(_ message: Message, conversation: Conversation, members: [Member], knownUsers: [User] = []) async throws -> MessageDTO {
        let list = try await dtos([message.stored], contexts: [conversation.id!: Context(conversation: conversation, members: members)], knownUsers: knownUsers)
        guard let dto = list.first else { throw ChatrError.notFound("Message not found") }
        return dto
    }
}
