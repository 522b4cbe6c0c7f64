import Vapor

/// Every hour, forgets feed changes older than `SYNC_RETENTION_DAYS`: the feed stays as long as
/// the retention, not as long as the installation. On several instances each prunes; the
/// deletes are idempotent.
enum ChangePruner {
    static func task(every interval: Duration = .seconds(3_600)) -> PeriodicTask {
        PeriodicTask(every: interval) { app in
            do {
                let gone = try await ChangeFeed(services: app.chatr, db: app.db).prune(olderThan: app.chatr.config.syncRetention, now: app.chatr.clock.now)
                if gone > 0 { app.logger.info("change feed: pruned \(gone) changes older than the retention") }
            } catch {
                app.logger.error("change feed: could not prune: \(String(reflecting: error))")
            }
        }
    }
}
