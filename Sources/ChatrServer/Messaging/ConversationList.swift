import Fluent
import Foundation
import SQLKit

/// `GET /api/messages/conversations`: every conversation of a user with the other person or the
/// group, the last message and the unread count, newest activity first — in seven queries
/// whatever the number of conversations.
struct ConversationList {
    let services: ChatrServices
    let db: any Database

    struct GroupSummary: Encodable {
        var id: String
        var name: String
        var description: String?
        var avatar: String?
        var memberCount: Int
    }

    struct Item: Encodable {
        var conversationId: String
        var kind: String
        var user: PublicUserDTO?
        var group: GroupSummary?
        var lastMessage: MessageDTO?
        var lastMessageAt: Date?
        var unreadCount: Int
        /// Until when my push notifications for it are off (`ConversationMute`); null when they are on.
        var mutedUntil: Date?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(conversationId, forKey: .conversationId)
            try c.encode(kind, forKey: .kind)
            try c.encode(user, forKey: .user)
            try c.encode(group, forKey: .group)
            try c.encode(lastMessage, forKey: .lastMessage)
            try c.encode(lastMessageAt, forKey: .lastMessageAt)
            try c.encode(unreadCount, forKey: .unreadCount)
            try c.encode(mutedUntil, forKey: .mutedUntil)
        }
        enum CodingKeys: String, CodingKey { case conversationId, kind, user, group, lastMessage, lastMessageAt, unreadCount, mutedUntil }
    }

    /// `only`: just these of the user's conversations (the change feed asks for those a page touched).
    func list(for user: User, only: Set<UUID>? = nil) async throws -> [Item] {
        let me = try user.requireID()
        // 1. My conversations.
        var query = Conversation.query(on: db)
            .join(Member.self, on: \Conversation.$id == \Member.$conversationID)
            .filter(Member.self, \.$userID == me)
        if let only { query = query.filter(\.$id ~~ Array(only)) }
        let conversations = try await query.all()
        guard !conversations.isEmpty else { return [] }
        let ids = conversations.compactMap(\.id)
        // 2. Everyone in them.
        let members = try await Member.query(on: db).filter(\.$conversationID ~~ ids).all()
        let membersByConversation = Dictionary(grouping: members, by: \.conversationID)
        // 3. The other person of each direct conversation.
        let otherIDs = Set(conversations.filter { $0.kind == .direct }.flatMap { membersByConversation[$0.id!] ?? [] }
            .map(\.userID).filter { $0 != me })
        let others = try await User.query(on: db).filter(\.$id ~~ Array(otherIDs)).all()
        let userByID = Dictionary(others.map { ($0.id!, $0) }, uniquingKeysWith: { a, _ in a })
        // 4. The last message of each conversation, and 5. unread counts (messages from others
        // after my read position).
        let store = services.messageStorage.on(db)
        let lastMessages = try await store.lastMessages(ofConversationsOf: me)
        let unread = try await store.unreadCounts(of: me)
        // 6–7. Message DTOs (reactions and their users).
        let contexts = Dictionary(conversations.map { conversation in
            let members = membersByConversation[conversation.id!] ?? []
            var context = MessageAssembler.Context(conversation: conversation, members: members)
            if conversation.kind == .group {
                context.groupReads = (me, Dictionary(members.map { ($0.userID, $0.lastReadSeq) }, uniquingKeysWith: max))
            }
            return (conversation.id!, context)
        }, uniquingKeysWith: { a, _ in a })
        let dtos = try await MessageAssembler(db: db, files: services.files).dtos(lastMessages, contexts: contexts, knownUsers: others + [user])
        let lastByConversation = Dictionary(dtos.map { ($0.conversationId, $0) }, uniquingKeysWith: { a, _ in a })

        let now = services.clock.now
        let items = conversations.map { conversation -> Item in
            let id = conversation.id!
            let other = conversation.kind == .direct
                ? (membersByConversation[id] ?? []).first { $0.userID != me }.flatMap { userByID[$0.userID] } : nil
            let group = conversation.kind == .group
                ? GroupSummary(id: id.wire, name: conversation.name ?? "", description: conversation.description,
                               avatar: conversation.avatar.map(services.files.url(for:)), memberCount: membersByConversation[id]?.count ?? 0)
                : nil
            return Item(conversationId: id.wire, kind: conversation.kind.rawValue,
                        user: other.map { PublicUserDTO($0, files: services.files, isContact: true) }, group: group,
                        lastMessage: lastByConversation[id.wire], lastMessageAt: conversation.lastMessageAt ?? conversation.createdAt,
                        unreadCount: unread[id] ?? 0,
                        mutedUntil: (membersByConversation[id] ?? []).first { $0.userID == me }?.mutedUntil.flatMap { $0 > now ? $0 : nil })
        }
        return items.sorted { ($0.lastMessageAt ?? .distantPast) > ($1.lastMessageAt ?? .distantPast) }
    }
}
