import Foundation
import NIOConcurrencyHelpers

/// Exponential back-off per source (an IP address) for failed sign-ins: the first `free`
/// failures cost nothing, then each further one closes the source for 1 s, 2 s, 4 s … up to
/// `cap`. Failures are forgotten `forgetAfter` seconds after the last one. Someone guessing
/// passwords slows themself down; the accounts they guess at stay open to everyone else.
final class FailureBackoff: Sendable {
    private struct Record { var failures: Int; var last: Date; var closedUntil: Date }
    private let records = NIOLockedValueBox<[String: Record]>([:])
    private let clock: AppClock
    private let free: Int
    private let cap: TimeInterval
    private let forgetAfter: TimeInterval
    private let sweepThreshold = 10_000

    init(clock: AppClock, free: Int, cap: TimeInterval, forgetAfter: TimeInterval) {
        self.clock = clock
        self.free = free
        self.cap = cap
        self.forgetAfter = forgetAfter
    }

    /// Seconds until `source` may try again, or nil when it may now.
    func wait(for source: String) -> Int? {
        let now = clock.now
        return records.withLockedValue { table in
            guard let record = table[source], record.closedUntil > now else { return nil }
            return max(1, Int(record.closedUntil.timeIntervalSince(now).rounded(.up)))
        }
    }

    /// Counts a failure from `source`; past the free ones, closes it for twice as long as last time.
    func recordFailure(from source: String) {
        let now = clock.now
        records.withLockedValue { table in
            if table.count > sweepThreshold {
                table = table.filter { now.timeIntervalSince($0.value.last) < forgetAfter }
            }
            var record = table[source] ?? Record(failures: 0, last: now, closedUntil: now)
            if now.timeIntervalSince(record.last) >= forgetAfter { record = Record(failures: 0, last: now, closedUntil: now) }
            record.failures += 1
            record.last = now
            let over = record.failures - free
            if over > 0 { record.closedUntil = now.addingTimeInterval(min(cap, pow(2, Double(min(over - 1, 30))))) }
            table[source] = record
        }
    }
}
