import Fluent
import SQLKit

/// The windows of `SharedRateLimit` (used in cluster mode, on PostgreSQL; harmless elsewhere).
struct CreateRateLimitWindows: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await (database as! any SQLDatabase).create(table: SharedRateLimit.table)
            .column("key", type: .text, .primaryKey(autoIncrement: false))
            .column("window_start", type: .custom(SQLRaw("TIMESTAMPTZ")), .notNull)
            .column("count", type: .int, .notNull)
            .run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).drop(table: SharedRateLimit.table).run()
    }
}
