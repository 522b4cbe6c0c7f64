import Fluent
import Foundation

/// The rules of groups (SPEC §6): who may change, join, leave, add and remove, and what
/// everyone hears. Messages in groups go through `MessageService` like any other.
struct GroupService {
    let services: ChatrServices
    let db: any Database

    static let maxName = 100
    static let maxDescription = 500

    typealias Outcome<Value> = ServiceOutcome<Value>

    var notices: GroupNotices { GroupNotices(services: services, db: db) }

    // MARK: Reading

    func group(_ id: UUID) async throws -> Conversation {
        guard let group = try await Conversation.find(id, on: db), group.kind == .group else { throw ChatrError.notFound("Group not found") }
        return group
    }

    func dto(_ group: Conversation, members: [Member], me: UUID?, includeMembers: Bool) async throws -> GroupDTO {
        let users = includeMembers ? try await User.query(on: db).filter(\.$id ~~ members.map(\.userID)).all() : []
        return GroupDTO(group, members: members, users: Dictionary(users.map { ($0.id!, $0) }, uniquingKeysWith: { a, _ in a }),
                        me: me, includeMembers: includeMembers, files: services.files)
    }

    func get(_ id: UUID, for user: User) async throws -> GroupDTO {
        let group = try await group(id)
        let members = try await Conversations(db: db).members(of: id)
        guard members.contains(where: { $0.userID == user.id }) else { throw ChatrError.forbidden("Only members can see this group") }
        return try await dto(group, members: members, me: user.id, includeMembers: true)
    }

    func mine(_ user: User) async throws -> [GroupDTO] {
        let me = try user.requireID()
        let groups = try await Conversation.query(on: db)
            .join(Member.self, on: \Conversation.$id == \Member.$conversationID)
            .filter(Member.self, \.$userID == me)
            .filter(\.$kind == .group)
            .all()
        let members = try await Member.query(on: db).filter(\.$conversationID ~~ groups.compactMap(\.id)).all()
        let byGroup = Dictionary(grouping: members, by: \.conversationID)
        return groups.map { GroupDTO($0, members: byGroup[$0.id!] ?? [], users: [:], me: me, includeMembers: false, files: services.files) }
            .sorted { ($0.lastMessageAt ?? $0.createdAt ?? .distantPast) > ($1.lastMessageAt ?? $1.createdAt ?? .distantPast) }
    }

    // MARK: Changing

    func create(by owner: User, name rawName: String, description: String?, memberIDs: [UUID]) async throws -> Outcome<GroupDTO> {
        let ownerID = try owner.requireID()
        let name = try Self.validName(rawName)
        let description = try Self.validDescription(description)
        let others = Array(Set(memberIDs).subtracting([ownerID]))
        let found = others.isEmpty ? [] : try await User.query(on: db).filter(\.$id ~~ others).all().filter(\.isVerified)
        guard found.count == others.count else { throw ChatrError.badRequest("Some memberIds are not users", code: "invalid_members") }
        let now = services.clock.now
        let group = Conversation()
        group.kind = .group
        group.name = name
        group.description = description
        group.ownerID = ownerID
        group.lastSeq = 0
        let members: [Member] = try await db.transaction { db in
            try await group.create(on: db)
            let id = try group.requireID()
            // Joined a millisecond apart, in the order given, so "longest-standing" is well defined.
            let members = [Member(conversationID: id, userID: ownerID, role: .owner, joinedAt: now)]
                + others.enumerated().map { Member(conversationID: id, userID: $0.element, role: .member, joinedAt: now.addingTimeInterval(Double($0.offset + 1) / 1000)) }
            for member in members { try await member.create(on: db) }
            return members
        }
        let dto = try await dto(group, members: members, me: ownerID, includeMembers: true)
        let id = try group.requireID()
        // Everyone's devices join the room first; then one event, encoded once, reaches them all.
        let events = [RealtimeEvent.join(members.map(\.userID), to: id), try RealtimeEvent("group:created", to: .conversation(id), dto)]
        return Outcome(value: dto, events: events)
    }

    func update(_ id: UUID, by user: User, name: String?, description: String?) async throws -> Outcome<GroupDTO> {
        let (group, members) = try await membership(id, user)
        try Self.require(members, user, in: [.owner, .admin], "Only the owner or an admin can change the group")
        if let name { group.name = try Self.validName(name) }
        if let description { group.description = try Self.validDescription(description) }
        try await group.save(on: db)
        let dto = try await dto(group, members: members, me: user.id, includeMembers: true)
        return Outcome(value: dto, events: [try RealtimeEvent("group:updated", to: .conversation(id), dto)])
    }

    func delete(_ id: UUID, by user: User) async throws -> [RealtimeEvent] {
        let (group, members) = try await membership(id, user)
        try Self.require(members, user, in: [.owner], "Only the owner can delete the group")
        try await group.delete(on: db)
        services.groupMembers.invalidate(id)
        return [RealtimeEvent("group:deleted", to: .conversation(id), value: ["groupId": .string(id.wire)]),
                RealtimeEvent.leave(members.map(\.userID), from: id)]
    }

    /// Joining takes a usable invite link for the group (`GroupInvites`); a member asking again
    /// gets the group, and no use of the link is counted.
    func join(_ id: UUID, user: User, inviteToken: String?) async throws -> Outcome<GroupDTO> {
        let group = try await group(id)
        var members = try await Conversations(db: db).members(of: id)
        var events: [RealtimeEvent] = []
        if !members.contains(where: { $0.userID == user.id }) {
            guard let inviteToken, !inviteToken.isEmpty else {
                throw ChatrError(.forbidden, "An invite link is needed to join this group", code: "invite_required")
            }
            try await GroupInvites(services: services, db: db).redeem(inviteToken, for: id)
            let member = Member(conversationID: id, userID: try user.requireID(), role: .member, joinedAt: services.clock.now)
            try await member.create(on: db)
            services.groupMembers.invalidate(id)
            members.append(member)
            events = try membershipEvents(joined: user, group: id) + (await notices.post(.joined, about: user, in: id))
        }
        return Outcome(value: try await dto(group, members: members, me: user.id, includeMembers: true), events: events)
    }

    /// Leaving: the owner hands over to the longest-standing member; the last one out deletes it.
    func leave(_ id: UUID, user: User) async throws -> [RealtimeEvent] {
        let (group, members) = try await membership(id, user)
        let me = try user.requireID()
        guard let mine = members.first(where: { $0.userID == me }) else { throw ChatrError.forbidden("You are not a member of this group") }
        let rest = members.filter { $0.userID != me }.sorted { $0.joinedAt < $1.joinedAt }
        if rest.isEmpty {
            try await group.delete(on: db)
            services.groupMembers.invalidate(id)
            return [RealtimeEvent.leave([me], from: id)]
        }
        try await db.transaction { db in
            try await mine.delete(on: db)
            if mine.role == .owner, let heir = rest.first {
                heir.role = .owner
                try await heir.save(on: db)
                group.ownerID = heir.userID
                try await group.save(on: db)
            }
        }
        services.groupMembers.invalidate(id)
        return try membershipEvents(left: user, group: id) + (await notices.post(.left, about: user, in: id))
    }

    func addMember(_ id: UUID, userID: UUID, by actor: User) async throws -> Outcome<GroupDTO> {
        let (group, members) = try await membership(id, actor)
        try Self.require(members, actor, in: [.owner, .admin], "Only the owner or an admin can add members")
        // 400, as for unknown memberIds at creation: a 404 here would say the group is missing.
        guard let user = try await User.find(userID, on: db), user.isVerified else {
            throw ChatrError.badRequest("userId is not a user", code: "invalid_member")
        }
        guard !members.contains(where: { $0.userID == userID }) else { throw ChatrError.conflict("Already a member", code: "already_member") }
        let member = Member(conversationID: id, userID: userID, role: .member, joinedAt: services.clock.now)
        try await member.create(on: db)
        services.groupMembers.invalidate(id)
        let dto = try await dto(group, members: members + [member], me: actor.id, includeMembers: true)
        return Outcome(value: dto, events: try membershipEvents(joined: user, group: id) + (await notices.post(.added, about: user, in: id)))
    }

    func removeMember(_ id: UUID, userID: UUID, by actor: User) async throws -> [RealtimeEvent] {
        let (_, members) = try await membership(id, actor)
        guard userID != actor.id else { throw ChatrError.badRequest("Use leave to remove yourself", code: "use_leave") }
        let actorRole = try Self.require(members, actor, in: [.owner, .admin], "Only the owner or an admin can remove members")
        guard let target = members.first(where: { $0.userID == userID }) else { throw ChatrError.notFound("Not a member of this group") }
        guard target.role == .member || actorRole == .owner else { throw ChatrError.forbidden("Only the owner can remove an admin or the owner") }
        guard target.role != .owner else { throw ChatrError.forbidden("The owner cannot be removed") }
        try await target.delete(on: db)
        services.groupMembers.invalidate(id)
        guard let user = try await User.find(userID, on: db) else { return [RealtimeEvent.leave([userID], from: id)] }
        return try membershipEvents(left: user, group: id) + (await notices.post(.removed, about: user, in: id))
    }

    // MARK: Helpers

    private func membership(_ id: UUID, _ user: User) async throws -> (Conversation, [Member]) {
        let group = try await group(id)
        let members = try await Conversations(db: db).members(of: id)
        guard members.contains(where: { $0.userID == user.id }) else { throw ChatrError.forbidden("You are not a member of this group") }
        return (group, members)
    }

    @discardableResult
    private static func require(_ members: [Member], _ user: User, in roles: Set<Member.Role>, _ reason: String) throws -> Member.Role {
        guard let role = members.first(where: { $0.userID == user.id })?.role, roles.contains(role) else { throw ChatrError.forbidden(reason) }
        return role
    }

    private struct MembershipPayload: Encodable {
        var groupId: String
        var userId: String
        var username: String
        var timestamp: Date
    }

    private func membershipEvents(joined user: User, group id: UUID) throws -> [RealtimeEvent] {
        let payload = MembershipPayload(groupId: id.wire, userId: user.id!.wire, username: user.username, timestamp: services.clock.now)
        return [RealtimeEvent.join([user.id!], to: id), try RealtimeEvent("group:user:joined", to: .conversation(id), payload)]
    }

    private func membershipEvents(left user: User, group id: UUID) throws -> [RealtimeEvent] {
        let payload = try EventPayload.encode(MembershipPayload(groupId: id.wire, userId: user.id!.wire, username: user.username,
                                                                timestamp: services.clock.now))
        // Tell the leaver's devices too, then take them out of the room at once.
        return [RealtimeEvent("group:user:left", to: .conversation(id), except: .user(user.id!), value: payload),
                RealtimeEvent("group:user:left", to: .user(user.id!), value: payload),
                RealtimeEvent.leave([user.id!], from: id)]
    }

    static func validName(_ raw: String) throws -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...maxName).contains(name.textLength) else { throw ChatrError.badRequest("Group name must be 1–\(maxName) characters", code: "invalid_name") }
        return name
    }

    static func validDescription(_ raw: String?) throws -> String? {
        guard let raw else { return nil }
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.textLength <= maxDescription else { throw ChatrError.badRequest("Description must be at most \(maxDescription) characters", code: "invalid_description") }
        return text.isEmpty ? nil : text
    }
}
