import Fluent
import Foundation
import Vapor

/// `/api/push` (SPEC §6, issue 17): the VAPID public key browsers subscribe with, and each
/// device's subscription. A subscription is tied to the session that registers it; registering
/// an endpoint again (the page starts again, another user signs in on that browser) updates it.
struct PushController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let push = routes.grouped(UserAuthMiddleware()).grouped("api", "push")
        push.get("key", use: Self.key)
        push.get("subscriptions", use: Self.list)
        push.post("subscriptions", use: Self.subscribe)
        push.delete("subscriptions", use: Self.unsubscribe)
    }

    /// A user's devices: more are old browsers nobody uses; the oldest goes.
    static let maxPerUser = 20

    struct KeyResponse: Content { var publicKey: String }

    struct SubscriptionDTO: Content {
        var id: String
        var endpoint: String
        var previews: Bool
        var createdAt: Date

        init(_ subscription: PushSubscription) {
            id = subscription.id?.wire ?? ""
            endpoint = subscription.endpoint
            previews = subscription.previews
            createdAt = subscription.createdAt
        }
    }

    struct SubscriptionList: Content { var subscriptions: [SubscriptionDTO] }

    struct SubscribeBody: Decodable {
        struct Keys: Decodable { var p256dh: String?; var auth: String? }
        var endpoint: String?
        var keys: Keys?
        var previews: Bool?
    }

    struct EndpointBody: Decodable { var endpoint: String? }

    static func notifier(_ req: Request) throws -> PushNotifier {
        guard let push = req.chatr.push else {
            throw ChatrError(.serviceUnavailable, "Web Push is not configured on this server", code: "push_not_configured")
        }
        return push
    }

    @Sendable static func key(_ req: Request) async throws -> KeyResponse {
        KeyResponse(publicKey: try notifier(req).publicKey)
    }

    @Sendable static func list(_ req: Request) async throws -> SubscriptionList {
        let me = try req.currentUser.requireID()
        let rows = try await PushSubscription.query(on: req.db).filter(\.$userID == me).sort(\.$createdAt).all()
        return SubscriptionList(subscriptions: rows.map(SubscriptionDTO.init))
    }

    @Sendable static func subscribe(_ req: Request) async throws -> Response {
        let push = try notifier(req)
        let body = try req.content.decode(SubscribeBody.self)
        guard let endpoint = body.endpoint?.trimmingCharacters(in: .whitespaces), !endpoint.isEmpty else {
            throw ChatrError.badRequest("endpoint is required", code: "invalid_subscription")
        }
        if let problem = PushEndpointPolicy.problem(with: endpoint, allowLocal: push.allowLocalEndpoints) {
            throw ChatrError.badRequest(problem, code: "invalid_subscription")
        }
        guard let p256dh = body.keys?.p256dh, let auth = body.keys?.auth,
              PushEncryption.Subscriber(p256dh: p256dh, auth: auth) != nil else {
            throw ChatrError.badRequest("keys.p256dh must be a P-256 public key and keys.auth 16 bytes, both base64url", code: "invalid_subscription")
        }
        let me = try req.currentUser.requireID()
        let session = try req.currentSessionID

        func save(_ subscription: PushSubscription) async throws {
            subscription.userID = me
            subscription.sessionID = session
            subscription.p256dh = p256dh
            subscription.auth = auth
            subscription.previews = body.previews ?? subscription.previews
            try await subscription.save(on: req.db)
            // What waited under the old settings (previews, owner) is not sent.
            if let id = subscription.id { await push.queue.cancel(subscriptions: [id]) }
        }
        if let existing = try await PushSubscription.query(on: req.db).filter(\.$endpoint == endpoint).first() {
            try await save(existing)
            return try await SubscriptionDTO(existing).encodeResponse(status: .ok, for: req)
        }
        let created = PushSubscription()
        created.endpoint = endpoint
        created.previews = true
        created.createdAt = req.chatr.clock.now
        do {
            try await save(created)
        } catch where (error as? any DatabaseError)?.isConstraintFailure == true {
            // The same endpoint registered at the same moment by another request: update that one.
            guard let existing = try await PushSubscription.query(on: req.db).filter(\.$endpoint == endpoint).first() else { throw error }
            try await save(existing)
            return try await SubscriptionDTO(existing).encodeResponse(status: .ok, for: req)
        }
        try await dropBeyondLimit(of: me, on: req.db)
        return try await SubscriptionDTO(created).encodeResponse(status: .created, for: req)
    }

    @Sendable static func unsubscribe(_ req: Request) async throws -> HTTPStatus {
        let me = try req.currentUser.requireID()
        guard let endpoint = try req.content.decode(EndpointBody.self).endpoint, !endpoint.isEmpty else {
            throw ChatrError.badRequest("endpoint is required", code: "invalid_subscription")
        }
        // Someone else's endpoint is "not found" too: whether it exists is not ours to know.
        guard let mine = try await PushSubscription.query(on: req.db).filter(\.$endpoint == endpoint).filter(\.$userID == me).first() else {
            throw ChatrError.notFound("No such push subscription")
        }
        try await mine.delete(on: req.db)
        if let id = mine.id { await req.chatr.push?.queue.cancel(subscriptions: [id]) }
        return .noContent
    }

    private static func dropBeyondLimit(of user: UUID, on db: any Database) async throws {
        let ids = try await PushSubscription.query(on: db).filter(\.$userID == user).sort(\.$createdAt, .descending).all(\.$id)
        guard ids.count > maxPerUser else { return }
        try await PushSubscription.query(on: db).filter(\.$id ~~ Array(ids[maxPerUser...])).delete()
    }

}
