import Foundation
import NIOConcurrencyHelpers

/// Fixed-window counters in memory, keyed by strings such as `ip:1.2.3.4` or `login:@ann`.
/// One lock, O(1) per hit; expired windows are swept when the table grows.
final class RateLimiter: Sendable {
    private struct Window { var start: Date; var count: Int }
    private let windows = NIOLockedValueBox<[String: Window]>([:])
    private let clock: AppClock
    private let sweepThreshold = 10_000

    init(clock: AppClock) { self.clock = clock }

    /// Counts one hit against `key`. Returns `nil` when allowed, or the seconds until the window
    /// reopens when the limit is already reached.
    func hit(_ key: String, limit: Int, per window: TimeInterval) -> Int? {
        let now = clock.now
        return windows.withLockedValue { table in
            if table.count > sweepThreshold {
                table = table.filter { now.timeIntervalSince($0.value.start) < window }
            }
            var entry = table[key] ?? Window(start: now, count: 0)
            if now.timeIntervalSince(entry.start) >= window { entry = Window(start: now, count: 0) }
            guard entry.count < limit else {
                return Int((window - now.timeIntervalSince(entry.start)).rounded(.up))
            }
            entry.count += 1
            table[key] = entry
            return nil
        }
    }

    /// Clears every key that starts with `prefix`, e.g. an account's login counters (one per
    /// source) after a successful sign-in.
    func reset(prefix: String) {
        windows.withLockedValue { table in
            for key in table.keys where key.hasPrefix(prefix) { table.removeValue(forKey: key) }
        }
    }
}
