import Fluent
import SQLKit
import Vapor

/// `GET /api/health` (liveness): 200 when the database answers, 503 when it does not.
/// `GET /api/ready` (readiness): also 503 while, in cluster mode, this node cannot reach the
/// others (its LISTEN or publishing connection is down) — a load balancer sends no one here.
struct HealthController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("api", "health", use: Self.health)
        routes.get("api", "ready", use: Self.ready)
    }

    struct Readiness: Content {
        var status: String
        var database: String
        /// `off` outside cluster mode.
        var cluster: String
        var nodes: Int
    }

    @Sendable static func ready(_ req: Request) async throws -> Response {
        let database = await databaseAnswers(req)
        let cluster = req.application.chatrCluster
        let clusterUp = cluster?.isReady ?? true
        let ready = database && clusterUp
        let body = Readiness(status: ready ? "ready" : "not ready", database: database ? "ok" : "unreachable",
                             cluster: cluster == nil ? "off" : (clusterUp ? "ok" : "disconnected"),
                             nodes: (cluster?.link.otherNodes.count ?? 0) + 1)
        if !ready { req.logger.warning("not ready: database \(body.database), cluster \(body.cluster)") }
        return try await body.encodeResponse(status: ready ? .ok : .serviceUnavailable, for: req)
    }

    private static func databaseAnswers(_ req: Request) async -> Bool {
        do {
            try await withTimeout(seconds: 3) { try await (req.db as! any SQLDatabase).raw("SELECT 1").run() }
            return true
        } catch {
            req.logger.warning("database unreachable: \(String(reflecting: error))")
            return false
        }
    }

    struct Health: Content {
        var status: String
        var timestamp: Date
        var database: String
    }

    @Sendable static func health(_ req: Request) async throws -> Response {
        let reachable = await databaseAnswers(req)
        let body = Health(status: reachable ? "ok" : "error", timestamp: req.chatr.clock.now, database: reachable ? "ok" : "unreachable")
        return try await body.encodeResponse(status: reachable ? .ok : .serviceUnavailable, for: req)
    }
}

struct TimeoutError: Error {}

/// Runs `work`, giving up after `seconds` (a hung database must not hang the health check).
func withTimeout<T: Sendable>(seconds: Double, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await work() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw TimeoutError()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
