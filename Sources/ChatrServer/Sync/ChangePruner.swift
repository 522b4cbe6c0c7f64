import Foundation
import NIOConcurrencyHelpers
import Vapor

/// Every `interval`, forgets feed changes older than `SYNC_RETENTION_DAYS`: the feed stays as
/// long as the retention, not as long as the installation. On several instances each prunes;
/// the deletes are idempotent.
final class ChangePruner: LifecycleHandler, Sendable {
    private let interval: Duration
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)

    init(interval: Duration = .seconds(3_600)) {
        self.interval = interval
    }

    func didBootAsync(_ application: Application) async {
        let interval = self.interval
        task.withLockedValue { task in
            task = Task { [weak application] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    guard let application, !Task.isCancelled else { return }
                    do {
                        let gone = try await ChangeFeed(services: application.chatr, db: application.db)
                            .prune(olderThan: application.chatr.config.syncRetention, now: application.chatr.clock.now)
                        if gone > 0 { application.logger.info("change feed: pruned \(gone) changes older than the retention") }
                    } catch {
                        application.logger.error("change feed: could not prune: \(String(reflecting: error))")
                    }
                }
            }
        }
    }

    func shutdownAsync(_ application: Application) async {
        task.withLockedValue { $0 }?.cancel()
    }
}
