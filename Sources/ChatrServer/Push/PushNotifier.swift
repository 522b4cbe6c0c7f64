import AsyncHTTPClient
import Crypto
import Fluent
import Foundation
import Logging
import SQLKit
import Vapor

/// Decides who is told about a new message by Web Push, and hands the pushes to the queue.
///
/// A recipient gets a push when none of their devices has a socket open anywhere in the cluster
/// (the send passes only those), the conversation is not muted for them, and the device's
/// session is still live (signed out, expired or disabled: nothing — its subscription dies with
/// it). One push per device; each device chose whether it shows the text (`previews`).
final class PushNotifier: Sendable {
    let signer: VapidSigner
    let queue: PushQueue
    /// Outside production a push service may be a local http server (tests, development).
    let allowLocalEndpoints: Bool
    /// Its own client: redirects are not followed (an endpoint could bounce a POST to an internal
    /// address) and a push service gets 3 s to accept a connection, 5 s to answer.
    private let client: HTTPClient
    /// nil once the databases are shut down (a lookup still running at exit skips its work).
    private let database: @Sendable () -> (any Database)?
    private let productName: String
    private let logger: Logger

    var publicKey: String { signer.identity.publicKey }

    init(identity: VapidIdentity, eventLoopGroup: any EventLoopGroup, database: @escaping @Sendable () -> (any Database)?,
         productName: String, allowLocalEndpoints: Bool, clock: AppClock, logger: Logger) {
        let signer = VapidSigner(identity: identity)
        client = HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup),
                            configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(3), read: .seconds(5))))
        let topicKey = SymmetricKey(data: SHA256.hash(data: Data("chatr push topics".utf8) + identity.key.rawRepresentation))
        let delivery = PushDelivery(client: client, signer: signer, topicKey: topicKey, logger: logger)
        self.signer = signer
        self.database = database
        self.productName = productName
        self.allowLocalEndpoints = allowLocalEndpoints
        self.logger = logger
        queue = PushQueue(logger: logger,
                          send: { job in await delivery.send(job, now: clock.now) },
                          forget: { id in
                              do {
                                  guard let db = database() else { return }
                                  try await PushSubscription.query(on: db).filter(\.$id == id).delete()
                              } catch {
                                  logger.error("push: could not forget subscription \(id): \(String(reflecting: error))")
                              }
                          })
    }

    /// Logout: the device's subscriptions end with its session, and so does what waits for them.
    func forget(session: UUID, on db: any Database) async throws {
        let ids = try await PushSubscription.query(on: db).filter(\.$sessionID == session).all(\.$id)
        guard !ids.isEmpty else { return }
        try await PushSubscription.query(on: db).filter(\.$id ~~ ids).delete()
        await queue.cancel(subscriptions: Set(ids))
    }

    /// Called once a message is stored, with the recipients who have no socket open. Returns at
    /// once: the lookup and the sends happen after.
    func messageStored(_ message: PushPayload.Message, offlineRecipients: [UUID], now: Date) {
        guard !offlineRecipients.isEmpty else { return }
        Task {
            do {
                let jobs = try await jobs(for: message, recipients: offlineRecipients, now: now)
                if !jobs.isEmpty { await queue.enqueue(jobs) }
            } catch {
                logger.error("push: could not look up the subscriptions for message \(message.messageID) in \(message.conversationID): \(String(reflecting: error))")
            }
        }
    }

    private struct Row: Decodable {
        var id: UUID
        var user_id: UUID
        var endpoint: String
        var p256dh: String
        var auth: String
        var previews: Bool
        var group_name: String?
    }

    func jobs(for message: PushPayload.Message, recipients: [UUID], now: Date) async throws -> [PushJob] {
        guard let sql = database() as? any SQLDatabase else { return [] }
        var rows: [Row] = []
        // 500 at a time: a large group's offline members stay far below the databases' bind limits.
        for start in stride(from: 0, to: recipients.count, by: 500) {
            rows += try await subscriptions(of: Array(recipients[start..<min(start + 500, recipients.count)]),
                                            in: message.conversationID, now: now, sql: sql)
        }
        return rows.map { row in
            var described = message
            if message.kind == .group { described.groupName = row.group_name }
            let payload = row.previews ? PushPayload.preview(of: described) : PushPayload.withoutPreview(of: described, productName: productName)
            return PushJob(key: .init(subscriptionID: row.id, conversationID: message.conversationID), userID: row.user_id,
                           endpoint: row.endpoint, p256dh: row.p256dh, auth: row.auth, payload: payload,
                           urgency: message.kind == .direct ? "high" : "normal")
        }
    }

    private func subscriptions(of recipients: [UUID], in conversationID: UUID, now: Date, sql: any SQLDatabase) async throws -> [Row] {
        try await sql.raw("""
            SELECT s.id, s.user_id, s.endpoint, s.p256dh, s.auth, s.previews, c.name AS group_name
            FROM push_subscriptions s
            JOIN members m ON m.user_id = s.user_id AND m.conversation_id = \(bind: conversationID)
            JOIN conversations c ON c.id = m.conversation_id
            JOIN sessions x ON x.id = s.session_id
            JOIN users u ON u.id = s.user_id
            WHERE s.user_id IN (\(binds: recipients))
              AND (m.muted_until IS NULL OR m.muted_until <= \(bind: now))
              AND \(TokenService.live(at: now))
            """).all(decoding: Row.self)
    }
}

extension PushNotifier: LifecycleHandler {
    func shutdownAsync(_ application: Application) async {
        await queue.stop()
        do {
            try await client.shutdown().get()
        } catch {
            logger.warning("push: the HTTP client did not shut down cleanly: \(error)")
        }
    }
}
