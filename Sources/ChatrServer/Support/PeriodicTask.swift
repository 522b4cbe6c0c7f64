import NIOConcurrencyHelpers
import Vapor

/// Runs `work` every `interval` from the application's boot to its shutdown — the sweeps and
/// prunes that keep state from outliving its reason (`SessionSweeper`, `ChangePruner`).
final class PeriodicTask: LifecycleHandler, Sendable {
    private let interval: Duration
    private let work: @Sendable (Application) async -> Void
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)

    init(every interval: Duration, _ work: @escaping @Sendable (Application) async -> Void) {
        self.interval = interval
        self.work = work
    }

    func didBootAsync(_ application: Application) async {
        let (interval, work) = (self.interval, self.work)
        task.withLockedValue { task in
            task = Task { [weak application] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    guard let application, !Task.isCancelled else { return }
                    await work(application)
                }
            }
        }
    }

    func shutdownAsync(_ application: Application) async {
        task.withLockedValue { $0 }?.cancel()
    }
}
