import Fluent
import Vapor

/// `/api/users` (SPEC §5).
struct UserController: RouteCollection {
    static let profileImageLimit = 5 * 1024 * 1024
    static let coverImageLimit = 10 * 1024 * 1024

    func boot(routes: any RoutesBuilder) throws {
        let users = routes.grouped("api", "users")
        users.get("check-username", use: Self.checkUsername)
        users.get("suggest-username", use: Self.suggestUsername)

        let secured = users.grouped(UserAuthMiddleware())
        secured.get(use: Self.list)
        secured.get("me", use: Self.me)
        secured.put("me", use: Self.updateMe)
        secured.get("search", use: Self.search)
        // Room for multipart framing on top of the file itself.
        secured.on(.POST, "profile-image", body: .stream, use: Self.uploadProfileImage)
        secured.on(.POST, "cover-image", body: .stream, use: Self.uploadCoverImage)
        secured.delete("profile-image", use: Self.deleteProfileImage)
        secured.delete("cover-image", use: Self.deleteCoverImage)
        secured.get(":username", use: Self.profile)
    }

    static func service(_ req: Request) -> UserService { UserService(services: req.chatr, db: req.db) }

    struct UserPage: Content {
        var users: [PublicUserDTO]
        var nextCursor: String?
    }

    @Sendable static func list(_ req: Request) async throws -> UserPage {
        let limit = try req.query.get(Int?.self, at: "limit") ?? 50
        guard (1...200).contains(limit) else { throw ChatrError.badRequest("limit must be between 1 and 200") }
        let cursor = try req.query.get(String?.self, at: "cursor")
        let cursorID = try cursor.map { raw -> UUID in
            guard let id = UUID(uuidString: raw) else { throw ChatrError.badRequest("Invalid cursor") }
            return id
        }
        let page = try await service(req).list(excluding: try req.currentUser.requireID(), limit: limit, after: cursorID)
        return UserPage(users: try await publicDTOs(page.users, req), nextCursor: page.nextCursor?.wire)
    }

    @Sendable static func me(_ req: Request) async throws -> UserDTO {
        UserDTO(try req.currentUser, files: req.chatr.files)
    }

    struct ProfileUpdate: Content {
        var displayName: String?
        var firstName: String?
        var lastName: String?
        var bio: String?
        var showOnlineStatus: Bool?
    }

    @Sendable static func updateMe(_ req: Request) async throws -> UserDTO {
        let body = try req.content.decode(ProfileUpdate.self)
        let user = try req.currentUser
        try await service(req).update(user, with: .init(displayName: body.displayName, firstName: body.firstName,
                                                        lastName: body.lastName, bio: body.bio, showOnlineStatus: body.showOnlineStatus))
        // Sockets answer presence from the registry: it must know at once.
        if let show = body.showOnlineStatus, let id = user.id { req.chatr.presence.setShowsStatus(id, show) }
        if body.displayName != nil || body.firstName != nil || body.lastName != nil || body.bio != nil {
            try await announceProfile(of: user, req)
        }
        return UserDTO(user, files: req.chatr.files)
    }

    struct Availability: Content {
        var available: Bool
        var username: String?
        var reason: String?
    }

    @Sendable static func checkUsername(_ req: Request) async throws -> Availability {
        guard let raw = try req.query.get(String?.self, at: "username"), !raw.isEmpty else {
            throw ChatrError.badRequest("Query parameter 'username' is required")
        }
        guard let username = CredentialRules.normalizedUsername(raw) else {
            return Availability(available: false, reason: "Username must be 3–20 letters, digits or underscores")
        }
        let available = try await service(req).isAvailable(username: username)
        return Availability(available: available, username: username, reason: available ? nil : "Username is already taken")
    }

    struct Suggestions: Content { var suggestions: [String] }

    @Sendable static func suggestUsername(_ req: Request) async throws -> Suggestions {
        guard let raw = try req.query.get(String?.self, at: "username"), !raw.isEmpty else {
            throw ChatrError.badRequest("Query parameter 'username' is required")
        }
        return Suggestions(suggestions: try await service(req).suggestions(for: raw))
    }

    struct SearchResult: Content { var users: [PublicUserDTO] }

    @Sendable static func search(_ req: Request) async throws -> SearchResult {
        let q = try req.query.get(String?.self, at: "q") ?? ""
        guard q.count <= 100 else { throw ChatrError.badRequest("Search text is too long") }
        let users = try await service(req).search(q, excluding: try req.currentUser.requireID())
        return SearchResult(users: try await publicDTOs(users, req))
    }

    @Sendable static func profile(_ req: Request) async throws -> PublicUserDTO {
        guard let user = try await service(req).find(username: req.parameters.get("username") ?? ""), user.isVerified else {
            throw ChatrError.notFound("User not found")
        }
        return try await publicDTOs([user], req)[0]
    }

    /// Others as the signed-in user may see them: last seen only for their contacts.
    static func publicDTOs(_ users: [User], _ req: Request) async throws -> [PublicUserDTO] {
        let contacts = try await Conversations(db: req.db)
            .contacts(of: try req.currentUser.requireID(), among: users.compactMap(\.id))
        return users.map { PublicUserDTO($0, files: req.chatr.files, isContact: $0.id.map(contacts.contains) ?? false) }
    }

    /// `user:updated`: what others show of a person (name, bio, photos) changed. It goes to
    /// everyone who shares a conversation with them — open chats, lists and member lists redraw
    /// it — and to their own other devices; a socket in several of those rooms gets it once.
    static func announceProfile(of user: User, _ req: Request) async throws {
        let id = try user.requireID()
        // Read again: another device's change saved meanwhile must not be announced as undone.
        let user = try await User.find(id, on: req.db) ?? user
        let conversations = try await Conversations(db: req.db).conversationIDs(of: id)
        let card = ProfileCard(user, files: req.chatr.files)
        var events = [try RealtimeEvent("user:updated", to: .user(id), ["user": card])]
        if !conversations.isEmpty {
            events.append(try RealtimeEvent("user:updated", to: .conversations(conversations), except: .user(id), ["user": card]))
        }
        req.chatr.events.publish(events)
    }

    // MARK: Images

    enum ImageSlot: String {
        case profileImage, coverImage
        var folder: String { self == .profileImage ? "profile" : "cover" }
        var limit: Int { self == .profileImage ? UserController.profileImageLimit : UserController.coverImageLimit }
    }

    @Sendable static func uploadProfileImage(_ req: Request) async throws -> Response { try await upload(req, slot: .profileImage) }
    @Sendable static func uploadCoverImage(_ req: Request) async throws -> Response { try await upload(req, slot: .coverImage) }
    @Sendable static func deleteProfileImage(_ req: Request) async throws -> ImageResult { try await remove(req, slot: .profileImage) }
    @Sendable static func deleteCoverImage(_ req: Request) async throws -> ImageResult { try await remove(req, slot: .coverImage) }

    /// `{"profileImage": url}` or `{"coverImage": null}`: the key names the slot.
    struct ImageResult: Content {
        var slot: String
        var url: String?
        init(slot: ImageSlot, url: String?) { self.slot = slot.rawValue; self.url = url }
        init(from decoder: any Decoder) throws { throw ChatrError.badRequest("not decodable") }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: AnyKey.self)
            try container.encode(url, forKey: AnyKey(stringValue: slot))
        }
    }

    /// Streamed like message uploads (`MultipartUpload`): staged on disk, refused early when too
    /// large, and never parsed by MultipartKit (which a crafted part header used to crash).
    private static func upload(_ req: Request, slot: ImageSlot) async throws -> Response {
        guard req.headers.contentType?.type == "multipart" else {
            throw ChatrError(.unsupportedMediaType, "Send the image as multipart/form-data in the field '\(slot.rawValue)'")
        }
        let form: MultipartUpload
        do {
            form = try await MultipartUpload.read(req, fileField: slot.rawValue, maxFileBytes: slot.limit,
                                                  stagingDirectory: req.chatr.config.uploadsDirectory + "/.staging")
        } catch let refusal as MultipartUpload.Refusal {
            return refusal.response(for: req)
        } catch let error as ChatrError where error.code == "file_too_large" {
            throw ChatrError(.payloadTooLarge, "Image must be at most \(slot.limit / 1024 / 1024) MB", code: "file_too_large")
        }
        guard let file = form.file, file.size > 0 else {
            form.file?.remove()
            throw ChatrError.badRequest("Missing file field '\(slot.rawValue)'", code: "missing_file")
        }
        defer { file.remove() }
        guard let kind = FileSniffer.sniff(head: file.head, size: file.size), kind.isImage, kind != .gif else {
            throw ChatrError(.unsupportedMediaType, "Only JPEG, PNG or WebP images are accepted", code: "unsupported_image")
        }
        let data = try await req.fileio.collectFile(at: file.path)
        let user = try req.currentUser
        let key = try await req.chatr.files.save(data, folder: slot.folder, fileExtension: kind.fileExtension, contentType: kind.mimeType)
        let previous = slot == .profileImage ? user.profileImage : user.coverImage
        if slot == .profileImage { user.profileImage = key } else { user.coverImage = key }
        do {
            try await user.save(on: req.db)
        } catch {
            try? await req.chatr.files.delete(key: key)
            throw error
        }
        if let previous { try? await req.chatr.files.delete(key: previous) }
        try await announceProfile(of: user, req)
        return try await ImageResult(slot: slot, url: req.chatr.files.url(for: key)).encodeResponse(for: req)
    }

    private static func remove(_ req: Request, slot: ImageSlot) async throws -> ImageResult {
        let user = try req.currentUser
        let previous = slot == .profileImage ? user.profileImage : user.coverImage
        if slot == .profileImage { user.profileImage = nil } else { user.coverImage = nil }
        try await user.save(on: req.db)
        if let previous { try? await req.chatr.files.delete(key: previous) }
        if previous != nil { try await announceProfile(of: user, req) }
        return ImageResult(slot: slot, url: nil)
    }
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
