import Fluent
import Foundation
import SQLKit
import Vapor

/// Invite links (SPEC §6, issue 15): made, listed and revoked by a group's owners and admins,
/// used by anyone signed in who holds one. Knowing a group's id no longer lets anyone in; joining
/// takes a usable token (or being added by an admin). Who joins sees the messages from then on
/// (`members.history_from_seq`).
struct GroupInvites {
    let services: ChatrServices
    let db: any Database

    static let maxLifetimeHours = 24 * 365
    static let maxUses = 10_000
    /// Live invites a group may have at once: enough for any team, not a table to fill.
    static let maxLivePerGroup = 100

    struct InviteDTO: Content {
        var token: String
        var groupId: String
        /// The web client's link for it.
        var url: String
        var createdBy: String
        var createdAt: Date
        var expiresAt: Date?
        var maxUses: Int?
        var uses: Int

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(token, forKey: .token)
            try c.encode(groupId, forKey: .groupId)
            try c.encode(url, forKey: .url)
            try c.encode(createdBy, forKey: .createdBy)
            try c.encode(createdAt, forKey: .createdAt)
            try c.encode(expiresAt, forKey: .expiresAt)  // null: never
            try c.encode(maxUses, forKey: .maxUses)      // null: unlimited
            try c.encode(uses, forKey: .uses)
        }
    }

    /// What someone about to join sees: the group, not its members or messages.
    struct Preview: Content {
        struct Group: Content { var id: String; var name: String; var description: String?; var avatar: String?; var memberCount: Int }
        var group: Group
        var expiresAt: Date?
        var alreadyMember: Bool
    }

    static let invalid = ChatrError(.notFound, "This invite link is not valid: it was revoked, has expired or was used up", code: "invite_invalid")

    func create(in groupID: UUID, by user: User, expiresInHours: Int?, maxUses: Int?) async throws -> InviteDTO {
        try await requireAdmin(groupID, user)
        if let hours = expiresInHours, !(1...Self.maxLifetimeHours).contains(hours) {
            throw ChatrError.badRequest("expiresInHours must be 1–\(Self.maxLifetimeHours)", code: "invalid_invite")
        }
        if let uses = maxUses, !(1...Self.maxUses).contains(uses) {
            throw ChatrError.badRequest("maxUses must be 1–\(Self.maxUses)", code: "invalid_invite")
        }
        let now = services.clock.now
        let live = try await GroupInvite.query(on: db).filter(\.$groupID == groupID).filter(\.$revokedAt == nil).all().filter { $0.isUsable(at: now) }
        guard live.count < Self.maxLivePerGroup else {
            throw ChatrError.conflict("This group has \(Self.maxLivePerGroup) live invite links; revoke one first", code: "too_many_invites")
        }
        let invite = GroupInvite()
        invite.token = Base64URL.encode(RandomBytes.bytes(count: 16))
        invite.groupID = groupID
        invite.createdBy = try user.requireID()
        invite.createdAt = now
        invite.expiresAt = expiresInHours.map { now.addingTimeInterval(Double($0) * 3600) }
        invite.maxUses = maxUses
        invite.uses = 0
        try await invite.create(on: db)
        return dto(invite)
    }

    /// The group's usable invites, newest first.
    func list(in groupID: UUID, by user: User) async throws -> [InviteDTO] {
        try await requireAdmin(groupID, user)
        let now = services.clock.now
        return try await GroupInvite.query(on: db).filter(\.$groupID == groupID).filter(\.$revokedAt == nil)
            .sort(\.$createdAt, .descending).all().filter { $0.isUsable(at: now) }.map(dto)
    }

    func revoke(_ token: String, in groupID: UUID, by user: User) async throws {
        try await requireAdmin(groupID, user)
        guard let invite = try await GroupInvite.query(on: db).filter(\.$token == token).filter(\.$groupID == groupID).first(),
              invite.revokedAt == nil else {
            throw ChatrError.notFound("No such invite link in this group")
        }
        invite.revokedAt = services.clock.now
        try await invite.save(on: db)
    }

    func preview(_ token: String, for user: User) async throws -> Preview {
        guard let invite = try await find(token) else { throw Self.invalid }
        let group = try await GroupService(services: services, db: db).group(invite.groupID)
        let members = try await Conversations(db: db).members(of: invite.groupID)
        // A dead link still shows its group to its members (they are let back to it), to no one else.
        guard invite.isUsable(at: services.clock.now) || members.contains(where: { $0.userID == user.id }) else { throw Self.invalid }
        return Preview(group: .init(id: invite.groupID.wire, name: group.name ?? "", description: group.description,
                                    avatar: group.avatar.map(services.files.url(for:)), memberCount: members.count),
                       expiresAt: invite.expiresAt, alreadyMember: members.contains { $0.userID == user.id })
    }

    /// The invite `token` names, usable or not (a member may follow an old link back to the group).
    func find(_ token: String) async throws -> GroupInvite? {
        guard !token.isEmpty, token.utf8.count <= 64 else { return nil }
        return try await GroupInvite.query(on: db).filter(\.$token == token).first()
    }

    /// The invite if `token` lets one in now; nil when it is unknown, revoked, expired or used up.
    func usable(_ token: String) async throws -> GroupInvite? {
        guard let invite = try await find(token), invite.isUsable(at: services.clock.now) else { return nil }
        return invite
    }

    /// Counts one use of `token` for `groupID`, in one conditional `UPDATE`: two people racing for
    /// the last use of a link cannot both get in.
    func redeem(_ token: String, for groupID: UUID) async throws {
        guard let invite = try await usable(token) else { throw Self.invalid }
        guard invite.groupID == groupID else {
            throw ChatrError(.forbidden, "This invite link is for another group", code: "invite_invalid")
        }
        let now = services.clock.now
        let counted = try await (db as! any SQLDatabase).raw("""
            UPDATE group_invites SET uses = uses + 1
            WHERE id = \(bind: invite.id!) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > \(bind: now))
              AND (max_uses IS NULL OR uses < max_uses)
            RETURNING id
            """).all()
        guard !counted.isEmpty else { throw Self.invalid }
    }

    private func requireAdmin(_ groupID: UUID, _ user: User) async throws {
        _ = try await GroupService(services: services, db: db).group(groupID)
        let members = try await Conversations(db: db).members(of: groupID)
        guard let role = members.first(where: { $0.userID == user.id })?.role else {
            throw ChatrError.forbidden("You are not a member of this group")
        }
        guard role == .owner || role == .admin else { throw ChatrError.forbidden("Only the group's owner and admins manage invite links") }
    }

    private func dto(_ invite: GroupInvite) -> InviteDTO {
        let base = services.config.frontendOrigins.first ?? services.config.backendURL
        return InviteDTO(token: invite.token, groupId: invite.groupID.wire, url: "\(base)/#/join/\(invite.token)",
                         createdBy: invite.createdBy.wire, createdAt: invite.createdAt, expiresAt: invite.expiresAt,
                         maxUses: invite.maxUses, uses: invite.uses)
    }
}
