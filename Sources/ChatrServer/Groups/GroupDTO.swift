import Foundation
import Vapor

/// A group as its members see it.
struct GroupDTO: Content {
    struct MemberDTO: Content {
        var user: PublicUserDTO
        var role: String
        var joinedAt: Date
    }

    var id: String
    var name: String
    var description: String?
    var avatar: String?
    var ownerId: String?
    var memberCount: Int
    var members: [MemberDTO]?
    var myRole: String?
    var createdAt: Date?
    var lastMessageAt: Date?

    init(_ group: Conversation, members: [Member], users: [UUID: User], me: UUID?, includeMembers: Bool, files: any FileStorage) {
        id = group.id!.wire
        name = group.name ?? ""
        description = group.description
        avatar = group.avatar.map(files.url(for:))
        ownerId = group.ownerID?.wire
        memberCount = members.count
        myRole = members.first { $0.userID == me }?.role.rawValue
        createdAt = group.createdAt
        lastMessageAt = group.lastMessageAt
        self.members = includeMembers ? members.sorted { $0.joinedAt < $1.joinedAt }.compactMap { member in
            users[member.userID].map { MemberDTO(user: PublicUserDTO($0, files: files, isContact: true), role: member.role.rawValue, joinedAt: member.joinedAt) }
        } : nil
    }
}
