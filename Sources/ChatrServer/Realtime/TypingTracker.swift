import Foundation
import NIOConcurrencyHelpers
import Vapor

/// Typing states that end by themselves: a `typing:start` not renewed within `expiry` becomes a
/// stop, so a closed tab never leaves someone "typing…" forever. One per application (a
/// service, not process-wide state); its timers stop when the application shuts down.
final class TypingTracker: Sendable, LifecycleHandler {
    struct Key: Hashable, Sendable {
        var user: UUID
        var conversation: UUID
    }

    let expiry: Duration
    private let clock: any Clock<Duration>
    private let timers = NIOLockedValueBox<[Key: Task<Void, Never>]>([:])

    init(expiry: Duration = .seconds(10), clock: any Clock<Duration> = ContinuousClock()) {
        self.expiry = expiry
        self.clock = clock
    }

    /// Records a start and calls `expire` after the expiry unless renewed or stopped meanwhile.
    func start(_ key: Key, expire: @escaping @Sendable () -> Void) {
        let (expiry, clock) = (self.expiry, self.clock)
        timers.withLockedValue { table in
            table[key]?.cancel()
            // Created under the lock, so the timer's own removal below finds it registered.
            table[key] = Task { [weak self] in
                do { try await clock.sleep(for: expiry, tolerance: nil) } catch { return }
                let current = self?.timers.withLockedValue { table -> Bool in
                    guard table[key] != nil else { return false }
                    table[key] = nil
                    return true
                }
                if current == true { expire() }
            }
        }
    }

    /// Ends a typing state; returns whether one was active.
    @discardableResult
    func stop(_ key: Key) -> Bool {
        guard let timer = timers.withLockedValue({ $0.removeValue(forKey: key) }) else { return false }
        timer.cancel()
        return true
    }

    /// Ends every typing state of a user (going offline); returns their conversations.
    func stopAll(of user: UUID) -> [UUID] {
        let ended = timers.withLockedValue { table -> [(Key, Task<Void, Never>)] in
            let keys = table.keys.filter { $0.user == user }
            return keys.compactMap { key in table.removeValue(forKey: key).map { (key, $0) } }
        }
        for (_, timer) in ended { timer.cancel() }
        return ended.map(\.0.conversation)
    }

    func shutdownAsync(_ application: Application) async {
        let all = timers.withLockedValue { table -> [Task<Void, Never>] in
            defer { table = [:] }
            return Array(table.values)
        }
        for timer in all { timer.cancel() }
    }
}
