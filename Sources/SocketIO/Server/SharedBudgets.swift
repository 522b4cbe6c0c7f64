import NIOConcurrencyHelpers
import NIOCore

/// How fast all the sockets that share a budget key may send events together — one user's
/// devices, say — on top of each connection's own `InboundLimit`.
public struct SharedInboundLimit: Sendable {
    /// Sustained events per second, all the key's sockets together (a token bucket).
    public var eventsPerSecond: Double
    /// Events allowed at once above the rate.
    public var burst: Double

    public init(eventsPerSecond: Double, burst: Double) {
        self.eventsPerSecond = eventsPerSecond
        self.burst = burst
    }
}

/// Token buckets by key (`Socket.budgetKey`). A bucket that has refilled completely holds no
/// information, so the table is swept of those when it grows: it holds only keys in use.
final class SharedBudgets: Sendable {
    private struct Bucket { var tokens: Double; var refilledAt: NIODeadline }
    private let limit: SharedInboundLimit
    private let buckets = NIOLockedValueBox<[String: Bucket]>([:])
    private let sweepThreshold = 4_096

    init(limit: SharedInboundLimit) { self.limit = limit }

    /// Takes one event's token from `key`'s bucket; false when it is empty.
    func take(_ key: String, now: NIODeadline) -> Bool {
        buckets.withLockedValue { table in
            if table.count > sweepThreshold { table = table.filter { refilled($0.value, now: now).tokens < limit.burst } }
            var bucket = refilled(table[key] ?? Bucket(tokens: limit.burst, refilledAt: now), now: now)
            guard bucket.tokens >= 1 else {
                table[key] = bucket
                return false
            }
            bucket.tokens -= 1
            table[key] = bucket
            return true
        }
    }

    private func refilled(_ bucket: Bucket, now: NIODeadline) -> Bucket {
        let elapsed = max(0, Double((now - bucket.refilledAt).nanoseconds) / 1e9)
        return Bucket(tokens: min(limit.burst, bucket.tokens + elapsed * limit.eventsPerSecond), refilledAt: now)
    }
}
