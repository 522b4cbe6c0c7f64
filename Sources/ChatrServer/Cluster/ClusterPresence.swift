import Fluent
import Foundation
import NIOConcurrencyHelpers
import SQLKit
import Vapor

/// Who is online across the cluster, decided in PostgreSQL so that no two nodes can disagree:
/// each node counts its devices per user in `cluster_presence` and heartbeats in
/// `cluster_nodes`. A device arriving or leaving changes its node's count and reads the user's
/// total in one transaction holding a per-user advisory lock, so of two devices leaving on two
/// nodes at once exactly one sees the total reach 0 (and announces "offline"), and a device
/// arriving as another leaves elsewhere is never lost between them.
///
/// A node whose heartbeat is 15 s old is dead: whichever node deletes its row first takes its
/// presence rows too, and announces offline those users who have no device left anywhere. The
/// in-memory `PresenceRegistry` still answers "is X online?" on every send (no query there).
final class ClusterPresence: Sendable {
    let nodeID: String
    private let db: any SQLDatabase
    private let logger: Logger
    static let deadAfterSeconds = 15

    init(nodeID: String, db: any SQLDatabase, logger: Logger) {
        self.nodeID = nodeID
        self.db = db
        self.logger = logger
    }

    /// Puts this node in `cluster_nodes` (again, after others declared it dead while it was cut
    /// off), with its current devices.
    func register(devices: [UUID: Int], secret fingerprint: String) async throws {
        try await db.raw("""
            INSERT INTO cluster_nodes (node_id, started_at, heartbeat_at, secret_fingerprint) VALUES (\(bind: nodeID), now(), now(), \(bind: fingerprint))
            ON CONFLICT (node_id) DO UPDATE SET heartbeat_at = now()
            """).run()
        for (user, count) in devices where count > 0 {
            _ = try await change(user, by: 0, setTo: count)
        }
    }

    /// The JWT-secret fingerprints of the nodes alive now (heartbeat within the dead time).
    func liveFingerprints() async throws -> [String] {
        try await db.raw("""
            SELECT secret_fingerprint FROM cluster_nodes WHERE heartbeat_at >= now() - make_interval(secs => \(bind: Self.deadAfterSeconds))
            """).all().map { try $0.decode(column: "secret_fingerprint", as: String.self) }
    }

    /// One more device of `user` here: true when it is their first anywhere.
    func deviceArrived(_ user: UUID) async throws -> Bool {
        try await change(user, by: 1) == 1
    }

    /// One device fewer: true when it was their last anywhere.
    func deviceLeft(_ user: UUID) async throws -> Bool {
        try await change(user, by: -1) == 0
    }

    /// Changes this node's count for `user` (or sets it) and returns the user's total over all
    /// nodes, under the user's lock: the total is read after the previous holder committed.
    private func change(_ user: UUID, by delta: Int, setTo absolute: Int? = nil) async throws -> Int {
        let node = nodeID
        return try await db.withSession { session in
            try await session.raw("BEGIN").run()
            do {
                try await session.raw("SELECT pg_advisory_xact_lock(hashtext(\(bind: "chatr-presence:" + user.uuidString)))").run()
                let value = absolute ?? delta
                // EXCLUDED holds the inserted value, never below 0: the delta itself goes into the update.
                let update: SQLQueryString = absolute == nil ? "cluster_presence.devices + \(bind: delta)" : "EXCLUDED.devices"
                let row = try await session.raw("""
                    WITH mine AS (
                      INSERT INTO cluster_presence (user_id, node_id, devices) VALUES (\(bind: user), \(bind: node), \(bind: max(0, value)))
                      ON CONFLICT (user_id, node_id) DO UPDATE SET devices = GREATEST(0, \(update))
                      RETURNING devices)
                    SELECT (SELECT devices FROM mine)
                         + COALESCE((SELECT SUM(devices) FROM cluster_presence WHERE user_id = \(bind: user) AND node_id <> \(bind: node)), 0)::int AS total
                    """).first()
                try await session.raw("COMMIT").run()
                return try row?.decode(column: "total", as: Int.self) ?? 0
            } catch {
                try? await session.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    /// This node is alive. False when its row was gone (the others took it for dead): the caller
    /// registers again.
    func heartbeat() async throws -> Bool {
        let rows = try await db.raw("UPDATE cluster_nodes SET heartbeat_at = now() WHERE node_id = \(bind: nodeID) RETURNING node_id").all()
        return !rows.isEmpty
    }

    /// Dead nodes' rows: claimed by one node (the DELETE that returns them), whose users with no
    /// device left anywhere are returned — the caller announces them offline.
    func sweepDeadNodes() async throws -> (nodes: [String], offline: [UUID]) {
        let dead = try await db.raw("""
            DELETE FROM cluster_nodes WHERE heartbeat_at < now() - make_interval(secs => \(bind: Self.deadAfterSeconds)) RETURNING node_id
            """).all().map { try $0.decode(column: "node_id", as: String.self) }
        var offline: [UUID] = []
        for node in dead { offline += try await takeOver(node) }
        // Zero rows a sweep left for itself, and rows of nodes that vanished without a trace.
        try await db.raw("DELETE FROM cluster_presence WHERE devices = 0 AND node_id NOT IN (SELECT node_id FROM cluster_nodes)").run()
        return (dead, offline)
    }

    /// Removes a node's devices; returns its users who now have none anywhere.
    private func takeOver(_ node: String) async throws -> [UUID] {
        let rows = try await db.raw("DELETE FROM cluster_presence WHERE node_id = \(bind: node) RETURNING user_id, devices").all()
        let users = try rows.filter { try $0.decode(column: "devices", as: Int.self) > 0 }.map { try $0.decode(column: "user_id", as: UUID.self) }
        var offline: [UUID] = []
        for user in Set(users) where try await change(user, by: 0) == 0 { offline.append(user) }
        if node != nodeID, !users.isEmpty {
            try await db.raw("DELETE FROM cluster_presence WHERE node_id = \(bind: nodeID) AND devices = 0 AND user_id IN (\(binds: users))").run()
        }
        return offline
    }

    /// A clean stop, after this node's sockets closed: nothing of it is left behind. Returns the
    /// users whose last devices were still counted here (their disconnects did not finish).
    func unregister() async -> [UUID] {
        do {
            let offline = try await takeOver(nodeID)
            try await db.raw("DELETE FROM cluster_presence WHERE node_id = \(bind: nodeID)").run()
            try await db.raw("DELETE FROM cluster_nodes WHERE node_id = \(bind: nodeID)").run()
            return offline
        } catch {
            logger.error("cluster: could not remove this node's presence rows: \(String(reflecting: error))")
            return []
        }
    }
}
