import Fluent
import SQLKit
import Vapor

/// `GET /api/health`: 200 when the database answers, 503 when it does not.
struct HealthController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("api", "health", use: Self.health)
    }

    struct Health: Content {
        var status: String
        var timestamp: Date
        var database: String
    }

    @Sendable static func health(_ req: Request) async throws -> Response {
        let reachable: Bool
        do {
            try await withTimeout(seconds: 3) { try await (req.db as! any SQLDatabase).raw("SELECT 1").run() }
            reachable = true
        } catch {
            req.logger.warning("health check: database unreachable: \(error)")
            reachable = false
        }
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
