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
    /// Each key's timer, with the generation that started it: a timer that wakes just as a
    /// renewal replaces it must not end the renewed state.
    private let timers = NIOLockedValueBox<(next: Int, table: [Key: (generation: Int, task: Task<Void, Never>)])>((0, [:]))

    init(expiry: Duration = .seconds(10), clock: any Clock<Duration> = ContinuousClock()) {
        self.expiry = expiry
        self.clock = clock
    }

    /// Records a start and calls `expire` after the expiry unless renewed or stopped meanwhile.
    func start(_ key: Key, expire: @escaping @Sendable () -> Void) {
        let (expiry, clock) = (self.expiry, self.clock)
        timers.withLockedValue { timers in
            timers.table[key]?.task.cancel()
            timers.next += 1
            let generation = timers.next
            // Created under the lock, so the timer's own removal below finds it registered.
            let task = Task { [weak self] in
                do { try await clock.sleep(for: expiry, tolerance: nil) } catch { return }
                let current = self?.timers.withLockedValue { timers -> Bool in
                    guard timers.table[key]?.generation == generation else { return false }
                    timers.table[key] = nil
                    return true
                }
                if current == true { expire() }
            }
            timers.table[key] = (generation, task)
        }
    }

    /// Ends a typing state; returns whether one was active.
    @discardableResult
    func stop(_ key: Key) -> Bool {
        guard let timer = timers.withLockedValue({ $0.table.removeValue(forKey: key) }) else { return false }
        timer.task.cancel()
        return true
    }

    /// Ends every typing state of a user (going offline); returns their conversations.
    func stopAll(of user: UUID) -> [UUID] {
        let ended = timers.withLockedValue { timers -> [(Key, Task<Void, Never>)] in
            let keys = timers.table.keys.filter { $0.user == user }
            return keys.compactMap { key in timers.table.removeValue(forKey: key).map { (key, $0.task) } }
        }
        for (_, timer) in ended { timer.cancel() }
        return ended.map(\.0.conversation)
    }

    func shutdownAsync(_ application: Application) async {
        let all = timers.withLockedValue { timers -> [Task<Void, Never>] in
            defer { timers.table = [:] }
            return timers.table.values.map(\.task)
        }
        for timer in all { timer.cancel() }
    }
}
