import Crypto
import Fluent
import FluentPostgresDriver
import Foundation
import NIOConcurrencyHelpers
import SocketIO
import SocketIOPostgres
import SQLKit
import Vapor

/// Cluster mode (`CLUSTER=postgres`, SPEC §8): this instance and the others on the same
/// PostgreSQL share their sockets' rooms and broadcasts (the `SocketIOPostgres` adapter), who is
/// online, and the invalidation of group-membership caches. What is shared travels as
/// server-side events between nodes; the database stays the one source of truth for the rest.
final class ChatrCluster: LifecycleHandler, Sendable {
    let link: PostgresCluster
    /// First and last devices, decided in the database.
    let presence: ClusterPresence
    /// Of this node's JWT secret (`fingerprint(of:)`).
    private let fingerprint: String
    private let logger: Logger
    private let heartbeats = NIOLockedValueBox<Task<Void, Never>?>(nil)
    private let budgetExchange = NIOLockedValueBox<Task<Void, Never>?>(nil)
    /// How often each node tells the others what its users spent of their shared event budget:
    /// the lag with which a user flooding through several nodes is held to one node's rate.
    static let budgetExchangeInterval = Duration.milliseconds(250)

    /// The server-side events between Chatr nodes.
    enum Event {
        /// `[node, userId, status | null, shown]`: one of the node's users came, changed or went.
        static let presence = "chatr:presence"
        /// Answered with `[node, [[userId, status, shown]…]]`: a starting node asks who is online.
        static let presenceSnapshot = "chatr:presence-snapshot"
        /// `[conversationId]`: a group's members changed; forget the cached list.
        static let groupChanged = "chatr:group-changed"
        /// `[nodeId]`: the node was found dead in the database; forget what it said of its users
        /// (sent before its users are announced offline, so every node agrees when they hear it).
        static let nodeGone = "chatr:node-gone"
        /// `[nodeId, [[userId, events]…]]`: what users with devices on several nodes spent here of
        /// their per-user event budget lately; each node charges their buckets for it.
        static let budgetSpent = "chatr:budget-spent"
    }

    private init(link: PostgresCluster, presence: ClusterPresence, fingerprint: String, logger: Logger) {
        self.link = link
        self.presence = presence
        self.fingerprint = fingerprint
        self.logger = logger
    }

    /// Connects to the others: fails at start when PostgreSQL cannot be reached.
    static func start(_ app: Application, databaseURL: String) async throws -> ChatrCluster {
        let configuration = try SQLPostgresConfiguration(url: databaseURL).coreConfiguration
        var options = PostgresClusterOptions(connection: configuration)
        options.channel = "chatr_cluster"
        options.attachmentTable = "chatr_cluster_attachments"
        options.logger = app.logger
        let link = PostgresCluster(options: options, eventLoopGroup: app.eventLoopGroup)
        do {
            try await link.start()
        } catch {
            throw ConfigError(description: "CLUSTER=postgres: \(error)")
        }
        app.logger.notice("cluster: node \(link.nodeID) listening on PostgreSQL channel \(options.channel)")
        let presence = ClusterPresence(nodeID: link.nodeID, db: app.db as! any SQLDatabase, logger: app.logger)
        // Every live node must sign tokens with the same secret, and pushes with the same VAPID
        // key (browsers subscribed with the key one node gave; a push signed with another is
        // refused by the push service): compared in the database, where each node leaves the
        // fingerprint of its own. Without a VAPID key the fingerprint is the secret's alone, as
        // before push existed, so a rolling upgrade still meets equal fingerprints.
        let identity = app.chatr.config.jwtSecret + (app.chatr.config.vapid.map { "\u{0}vapid:" + $0.publicKey } ?? "")
        let fingerprint = Self.fingerprint(of: identity)
        if try await presence.liveFingerprints().contains(where: { $0 != fingerprint }) {
            await link.shutdown()
            throw ConfigError(description: "CLUSTER=postgres: another node has a different JWT_SECRET or VAPID key; give every node the same JWT_SECRET, VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY")
        }
        try await presence.register(devices: [:], secret: fingerprint)
        return ChatrCluster(link: link, presence: presence, fingerprint: fingerprint, logger: app.logger)
    }

    /// Puts the cluster adapter under the namespace and wires presence and caches to the others;
    /// then learns who is online.
    func attach(to namespace: Namespace, app: Application) async throws {
        namespace.useAdapter { link.adapter(for: $0) }
        let services = app.chatr
        let nodeID = link.nodeID

        services.presence.announceChanges { [weak namespace] user, state in
            namespace?.serverSideEmit(Event.presence, .string(nodeID), .string(user.wire),
                                      state.map { .string($0.status.rawValue) } ?? .null, .bool(state?.shown ?? false))
        }
        namespace.onServerSideEvent(Event.presence) { args in
            guard let node = args.first?.stringValue, let user = args[safe: 1]?.stringValue.flatMap(UUID.init(uuidString:)) else { return nil }
            let status = args[safe: 2]?.stringValue.flatMap(PresenceRegistry.Status.init(rawValue:))
            services.presence.applyRemote(node: node, user: user, status.map { .init(status: $0, shown: args[safe: 3]?.boolValue ?? true) })
            return nil
        }
        namespace.onServerSideEvent(Event.presenceSnapshot) { _ in
            .array([.string(nodeID), .array(services.presence.localSnapshot.map { user, state in
                [.string(user.wire), .string(state.status.rawValue), .bool(state.shown)]
            })])
        }
        services.groupMembers.announceInvalidations { [weak namespace] id in
            namespace?.serverSideEmit(Event.groupChanged, .string(id.wire))
        }
        namespace.onServerSideEvent(Event.groupChanged) { args in
            if let id = args.first?.stringValue.flatMap(UUID.init(uuidString:)) { services.groupMembers.invalidate(id, announce: false) }
            return nil
        }
        if let budgets = namespace.server.sharedBudgets {
            budgets.recordSpending()
            namespace.onServerSideEvent(Event.budgetSpent) { args in
                let now = NIODeadline.now()
                for item in args[safe: 1]?.arrayValue ?? [] {
                    // Only users with a socket here have a bucket worth charging.
                    guard let user = item[0]?.stringValue, let id = UUID(uuidString: user), services.presence.isConnectedHere(id),
                          let events = item[1]?.numberValue, events >= 1, events < 1e9 else { continue }
                    budgets.charge(user, events: Int(events), now: now)
                }
                return nil
            }
        }
        namespace.onServerSideEvent(Event.nodeGone) { args in
            if let node = args.first?.stringValue { _ = services.presence.removeNode(node) }
            return nil
        }

        link.onNodeDown { node in
            // The in-memory view forgets the node at once; who goes offline is `ClusterPresence`'s call.
            _ = services.presence.removeNode(node)
        }
        link.onMessagesMissed { [weak self, weak namespace, logger] node, count in
            // What was lost may have been a cache invalidation or a presence change: forget every
            // cached member list, ask everyone for presence again, and make this node's clients
            // reconnect, which reloads their state.
            services.groupMembers.invalidateAll()
            let sockets = namespace?.allSockets ?? []
            logger.error("cluster: \(count) messages from node \(node) were lost; group caches cleared, presence reloaded, reconnecting this node's \(sockets.count) sockets so they reload")
            for socket in sockets { socket.disconnect(close: true) }
            if let self, let namespace { Task { await self.loadPresence(from: namespace, app: app) } }
        }

        await loadPresence(from: namespace, app: app)
        logger.notice("cluster: node \(nodeID) joined \(link.otherNodes.count) other node(s)")
        heartbeats.withLockedValue { $0 = Task { [weak self, weak namespace] in
            guard let namespace else { return }
            await self?.runHeartbeats(app: app, namespace: namespace)
        } }
        if let budgets = namespace.server.sharedBudgets {
            budgetExchange.withLockedValue { $0 = Task { [weak namespace] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: Self.budgetExchangeInterval)
                    guard let namespace, !Task.isCancelled else { return }
                    Self.tellSpending(budgets.takeSpent(), presence: services.presence, nodeID: nodeID, namespace: namespace)
                }
            } }
        }
    }

    /// Hands over what this node's sockets spent of the per-user budget — only for users who
    /// also have a socket on another node (most have one node, and cost the others nothing).
    private static func tellSpending(_ spent: [String: Int], presence: PresenceRegistry, nodeID: String, namespace: Namespace) {
        let shared: [SocketValue] = spent.compactMap { user, events in
            guard let id = UUID(uuidString: user), presence.isConnectedElsewhere(id) else { return nil }
            return [.string(user), .number(Double(events))]
        }
        if !shared.isEmpty { namespace.serverSideEmit(Event.budgetSpent, .string(nodeID), .array(shared)) }
    }

    /// Who is online on the other nodes (at start, and after messages from them were lost).
    private func loadPresence(from namespace: Namespace, app: Application) async {
        for reply in await namespace.serverSideEmitWithAck(Event.presenceSnapshot, [], timeout: .seconds(3)) {
            guard let node = reply[0]?.stringValue, let users = reply[1]?.arrayValue else { continue }
            for item in users {
                guard let user = item[0]?.stringValue.flatMap(UUID.init(uuidString:)),
                      let status = item[1]?.stringValue.flatMap(PresenceRegistry.Status.init(rawValue:)) else { continue }
                app.chatr.presence.applyRemote(node: node, user: user, .init(status: status, shown: item[2]?.boolValue ?? true))
            }
        }
    }

    /// Every 5 s: this node's heartbeat (registering again if the others took it for dead while
    /// it was cut off), and the sweep of dead nodes — their users with no device left anywhere
    /// are stored as last seen now and announced offline.
    private func runHeartbeats(app: Application, namespace: Namespace) async {
        // Only a node whose own heartbeats have gone through for as long as the others are given
        // judges them: one just back from a database outage would otherwise bury them all.
        var healthySince = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(5))
            guard !Task.isCancelled else { return }
            do {
                if try await !presence.heartbeat() {
                    logger.warning("cluster: this node was taken for dead; registering again")
                    try await presence.register(devices: app.chatr.presence.localDeviceCounts, secret: fingerprint)
                    // The others forgot this node's users: tell them again.
                    app.chatr.presence.announceAll()
                }
            } catch {
                healthySince = ContinuousClock.now
                logger.error("cluster: heartbeat failed: \(String(reflecting: error))")
                continue
            }
            guard ContinuousClock.now - healthySince >= .seconds(ClusterPresence.deadAfterSeconds) else { continue }
            do {
                let (dead, offline) = try await presence.sweepDeadNodes()
                for node in dead {
                    _ = app.chatr.presence.removeNode(node)
                    namespace.serverSideEmit(Event.nodeGone, .string(node))
                }
                if !dead.isEmpty { logger.notice("cluster: node(s) \(dead.joined(separator: ", ")) stopped answering; \(offline.count) of their users are offline now") }
                if !offline.isEmpty { await announceOffline(offline, app: app) }
            } catch {
                logger.error("cluster: heartbeat failed: \(String(reflecting: error))")
            }
        }
    }

    private func announceOffline(_ users: [UUID], app: Application) async {
        let services = app.chatr
        let now = services.clock.now
        do {
            try await User.query(on: app.db).filter(\.$id ~~ users).set(\.$lastSeen, to: now).update()
            let conversations = Conversations(db: app.db)
            for user in try await User.query(on: app.db).filter(\.$id ~~ users).all() where user.showOnlineStatus {
                guard let signedIn = SocketUser(user, sessionID: nil) else { continue }
                services.events.publish(Presence.statusEvents(for: signedIn, status: .offline, in: try await conversations.conversationIDs(of: signedIn.id),
                                                              clock: services.clock, lastSeen: now))
            }
        } catch {
            logger.error("cluster: could not mark \(users.count) users of departed nodes offline: \(String(reflecting: error))")
        }
    }

    /// Compares secrets without sending them: an HMAC of a fixed text under the secret.
    static func fingerprint(of secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("chatr cluster identity".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return mac.prefix(12).map { String(format: "%02x", $0) }.joined()
    }

    var isReady: Bool { link.isReady }

    /// After the sockets closed (their last devices were counted out): leave the tables, then the channel.
    func shutdownAsync(_ application: Application) async {
        heartbeats.withLockedValue { $0 }?.cancel()
        budgetExchange.withLockedValue { $0 }?.cancel()
        let offline = await presence.unregister()
        if !offline.isEmpty { await announceOffline(offline, app: application) }
        await link.shutdown()
    }
}

private extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
