import Fluent
import Vapor

/// `/api/groups` (SPEC §6). Thin: decode, call `GroupService` / `MessageService`, publish.
struct GroupController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let groups = routes.grouped(UserAuthMiddleware()).grouped("api", "groups")
        groups.post(use: Self.create)
        groups.get(use: Self.mine)
        groups.get(":groupId", use: Self.get)
        groups.put(":groupId", use: Self.update)
        groups.delete(":groupId", use: Self.delete)
        groups.post(":groupId", "join", use: Self.join)
        groups.post(":groupId", "invites", use: Self.createInvite)
        groups.get(":groupId", "invites", use: Self.invites)
        groups.delete(":groupId", "invites", ":token", use: Self.revokeInvite)
        let invites = routes.grouped(UserAuthMiddleware()).grouped("api", "invites")
        invites.get(":token", use: Self.previewInvite)
        invites.post(":token", "join", use: Self.joinByInvite)
        groups.post(":groupId", "leave", use: Self.leave)
        groups.post(":groupId", "members", use: Self.addMember)
        groups.delete(":groupId", "members", ":userId", use: Self.removeMember)
        groups.get(":groupId", "messages", use: Self.history)
        groups.post(":groupId", "messages", use: Self.send)
    }

    static func service(_ req: Request) -> GroupService { GroupService(services: req.chatr, db: req.db) }

    static func id(_ req: Request, _ name: String) throws -> UUID {
        guard let id = req.parameters.get(name).flatMap(UUID.init(uuidString:)) else { throw ChatrError.notFound("Group not found") }
        return id
    }

    struct CreateBody: Content {
        var name: String
        var description: String?
        var memberIds: [String]?
    }

    @Sendable static func create(_ req: Request) async throws -> Response {
        let body = try req.content.decode(CreateBody.self)
        let memberIDs = try (body.memberIds ?? []).map { raw -> UUID in
            guard let id = UUID(uuidString: raw) else { throw ChatrError.badRequest("Invalid member id '\(raw)'", code: "invalid_members") }
            return id
        }
        let outcome = try await service(req).create(by: try req.currentUser, name: body.name, description: body.description, memberIDs: memberIDs)
        await req.chatr.publishChanges(outcome.events, db: req.db)
        return try await outcome.value.encodeResponse(status: .created, for: req)
    }

    struct GroupList: Content { var groups: [GroupDTO] }

    @Sendable static func mine(_ req: Request) async throws -> GroupList {
        GroupList(groups: try await service(req).mine(try req.currentUser))
    }

    @Sendable static func get(_ req: Request) async throws -> GroupDTO {
        try await service(req).get(try id(req, "groupId"), for: try req.currentUser)
    }

    struct UpdateBody: Content {
        var name: String?
        var description: String?
    }

    @Sendable static func update(_ req: Request) async throws -> GroupDTO {
        let body = try req.content.decode(UpdateBody.self)
        let outcome = try await service(req).update(try id(req, "groupId"), by: try req.currentUser, name: body.name, description: body.description)
        await req.chatr.publishChanges(outcome.events, db: req.db)
        return outcome.value
    }

    struct Done: Content { var success: Bool }

    @Sendable static func delete(_ req: Request) async throws -> Done {
        await req.chatr.publishChanges(try await service(req).delete(try id(req, "groupId"), by: try req.currentUser), db: req.db)
        return Done(success: true)
    }

    struct JoinBody: Decodable { var inviteToken: String? }

    @Sendable static func join(_ req: Request) async throws -> GroupDTO {
        // The body is optional: a member asking again needs no token.
        let token = req.body.data.map { $0.readableBytes > 0 } == true ? try req.content.decode(JoinBody.self).inviteToken : nil
        let outcome = try await service(req).join(try id(req, "groupId"), user: try req.currentUser, inviteToken: token)
        await req.chatr.publishChanges(outcome.events, db: req.db)
        return outcome.value
    }

    static func invites(_ req: Request) -> GroupInvites { GroupInvites(services: req.chatr, db: req.db) }

    struct InviteBody: Decodable { var expiresInHours: Int?; var maxUses: Int? }

    @Sendable static func createInvite(_ req: Request) async throws -> Response {
        let body = req.body.data.map { $0.readableBytes > 0 } == true ? try req.content.decode(InviteBody.self) : InviteBody()
        let invite = try await invites(req).create(in: try id(req, "groupId"), by: try req.currentUser,
                                                   expiresInHours: body.expiresInHours, maxUses: body.maxUses)
        return try await invite.encodeResponse(status: .created, for: req)
    }

    struct InviteList: Content { var invites: [GroupInvites.InviteDTO] }

    @Sendable static func invites(_ req: Request) async throws -> InviteList {
        InviteList(invites: try await invites(req).list(in: try id(req, "groupId"), by: try req.currentUser))
    }

    @Sendable static func revokeInvite(_ req: Request) async throws -> Done {
        try await invites(req).revoke(req.parameters.get("token") ?? "", in: try id(req, "groupId"), by: try req.currentUser)
        return Done(success: true)
    }

    @Sendable static func previewInvite(_ req: Request) async throws -> GroupInvites.Preview {
        try await invites(req).preview(req.parameters.get("token") ?? "", for: try req.currentUser)
    }

    @Sendable static func joinByInvite(_ req: Request) async throws -> GroupDTO {
        let token = req.parameters.get("token") ?? ""
        // Whether it still lets one in is the join's question: a member is answered with the group.
        guard let invite = try await invites(req).find(token) else { throw GroupInvites.invalid }
        let outcome = try await service(req).join(invite.groupID, user: try req.currentUser, inviteToken: token)
        await req.chatr.publishChanges(outcome.events, db: req.db)
        return outcome.value
    }

    @Sendable static func leave(_ req: Request) async throws -> Done {
        await req.chatr.publishChanges(try await service(req).leave(try id(req, "groupId"), user: try req.currentUser), db: req.db)
        return Done(success: true)
    }

    struct AddMemberBody: Content { var userId: String }

    @Sendable static func addMember(_ req: Request) async throws -> GroupDTO {
        let body = try req.content.decode(AddMemberBody.self)
        guard let userID = UUID(uuidString: body.userId) else { throw ChatrError.badRequest("Invalid userId") }
        let outcome = try await service(req).addMember(try id(req, "groupId"), userID: userID, by: try req.currentUser)
        await req.chatr.publishChanges(outcome.events, db: req.db)
        return outcome.value
    }

    @Sendable static func removeMember(_ req: Request) async throws -> Done {
        guard let userID = req.parameters.get("userId").flatMap(UUID.init(uuidString:)) else { throw ChatrError.notFound("Not a member of this group") }
        await req.chatr.publishChanges(try await service(req).removeMember(try id(req, "groupId"), userID: userID, by: try req.currentUser), db: req.db)
        return Done(success: true)
    }

    @Sendable static func history(_ req: Request) async throws -> MessageController.HistoryResponse {
        let query = try req.query.decode(MessageController.HistoryQuery.self)
        typealias Q = MessageController.HistoryQuery
        let page = try await MessageService(services: req.chatr, db: req.db)
            .history(.group(try id(req, "groupId")), for: try req.currentUser, limit: query.pageSize,
                     before: try Q.cursor(query.before, "before"), after: try Q.cursor(query.after, "after"))
        return MessageController.HistoryResponse(messages: page.messages, hasMore: page.hasMore)
    }

    struct SendBody: Content {
        var content: String
        var type: String?
        var clientMessageId: String?
        var replyToId: String?
    }

    @Sendable static func send(_ req: Request) async throws -> Response {
        let body = try req.content.decode(SendBody.self)
        let input = try MessageService.SendInput(recipientId: nil, groupId: try id(req, "groupId").wire, conversationId: nil,
                                                 content: body.content, type: body.type, clientMessageId: body.clientMessageId,
                                                 replyToId: body.replyToId)
        let result = try await SendCommand(services: req.chatr, db: req.db).run(input, from: try req.currentUser)
        return try await result.message.encodeResponse(status: result.created ? .created : .ok, for: req)
    }
}
