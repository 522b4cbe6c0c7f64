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
///
/// Several servers can share one budget (cluster mode): each records what its sockets spent
/// (`recordSpending`), hands it to the others now and then (`takeSpent`), and is charged for what
/// theirs spent (`charge`). Every bucket then refills at the shared rate but drains at the sum of
/// all servers' spending, so together they admit the rate — with a lag of one hand-over.
public final class SharedBudgets: Sendable {
    private struct Bucket { var tokens: Double; var refilledAt: NIODeadline }
    private struct Tables {
        var buckets: [String: Bucket] = [:]
        /// Tokens taken here per key since the last `takeSpent` (nil: not recorded).
        var spent: [String: Int]?
    }
    private let limit: SharedInboundLimit
    private let tables = NIOLockedValueBox(Tables())
    private let sweepThreshold = 4_096

    init(limit: SharedInboundLimit) { self.limit = limit }

    /// Takes one event's token from `key`'s bucket (`taken` false when it is empty), and says how
    /// long until the bucket holds a token again (0 when it still does).
    func take(_ key: String, now: NIODeadline) -> (taken: Bool, wait: Double) {
        tables.withLockedValue { tables in
            if tables.buckets.count > sweepThreshold { tables.buckets = tables.buckets.filter { refilled($0.value, now: now).tokens < limit.burst } }
            var bucket = refilled(tables.buckets[key] ?? Bucket(tokens: limit.burst, refilledAt: now), now: now)
            let taken = bucket.tokens >= 1
            if taken {
                bucket.tokens -= 1
                tables.spent?[key, default: 0] += 1
            }
            tables.buckets[key] = bucket
            return (taken, bucket.tokens >= 1 ? 0 : (1 - bucket.tokens) / limit.eventsPerSecond)
        }
    }

    /// From now on, counts what each key spends here, for `takeSpent`.
    public func recordSpending() {
        tables.withLockedValue { if $0.spent == nil { $0.spent = [:] } }
    }

    /// What each key spent here since the last call (empty unless `recordSpending` was called).
    public func takeSpent() -> [String: Int] {
        tables.withLockedValue { tables in
            guard let spent = tables.spent, !spent.isEmpty else { return [:] }
            tables.spent = [:]
            return spent
        }
    }

    /// Charges `key` for `events` spent elsewhere. The bucket may go below empty — down to one
    /// burst of debt — so a key flooding another server waits here too, but not forever.
    public func charge(_ key: String, events: Int, now: NIODeadline = .now()) {
        guard events > 0 else { return }
        tables.withLockedValue { tables in
            var bucket = refilled(tables.buckets[key] ?? Bucket(tokens: limit.burst, refilledAt: now), now: now)
            bucket.tokens = max(-limit.burst, bucket.tokens - Double(events))
            tables.buckets[key] = bucket
        }
    }

    private func refilled(_ bucket: Bucket, now: NIODeadline) -> Bucket {
        let elapsed = max(0, Double((now - bucket.refilledAt).nanoseconds) / 1e9)
        return Bucket(tokens: min(limit.burst, bucket.tokens + elapsed * limit.eventsPerSecond), refilledAt: now)
    }
}
