import Foundation
import SQLKit

/// Fixed windows kept in the database, for the limits every node must count together (the
/// per-account login limit in cluster mode): one atomic upsert per hit, so concurrent attempts
/// on different nodes are all counted. Times are the database's (`now()`), not each node's.
enum SharedRateLimit {
    static let table = "rate_limit_windows"

    /// Counts one hit; nil when allowed, else the seconds until the window reopens.
    static func hit(_ key: String, limit: Int, per window: TimeInterval, on db: any SQLDatabase) async throws -> Int? {
        let seconds = Int(window.rounded(.up))
        let row = try await db.raw("""
            INSERT INTO \(unsafeRaw: table) (key, window_start, count) VALUES (\(bind: key), now(), 1)
            ON CONFLICT (key) DO UPDATE SET
              count = CASE WHEN \(unsafeRaw: table).window_start <= now() - make_interval(secs => \(bind: seconds))
                           THEN 1 ELSE \(unsafeRaw: table).count + 1 END,
              window_start = CASE WHEN \(unsafeRaw: table).window_start <= now() - make_interval(secs => \(bind: seconds))
                                  THEN now() ELSE \(unsafeRaw: table).window_start END
            RETURNING count, CEIL(EXTRACT(EPOCH FROM (window_start + make_interval(secs => \(bind: seconds)) - now())))::int AS remaining
            """).first()
        guard let row else { throw SharedRateLimitError() }
        let count = try row.decode(column: "count", as: Int.self)
        return count > limit ? max(1, try row.decode(column: "remaining", as: Int.self)) : nil
    }

    /// Clears every key starting with `prefix` (which holds no `%` or `_`).
    static func reset(prefix: String, on db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM \(unsafeRaw: table) WHERE key LIKE \(bind: prefix + "%")").run()
    }

    struct SharedRateLimitError: Error {}
}
