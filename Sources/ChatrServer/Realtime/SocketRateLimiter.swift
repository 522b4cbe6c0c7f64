import Foundation
import NIOConcurrencyHelpers

/// A token bucket per socket: bursts up to `capacity` events, refilled at `perSecond`.
/// Sockets that keep going past `disconnectAfter` refusals are dropped.
final class SocketRateLimiter: Sendable {
    struct Limits: Sendable {
        var capacity: Double = 60
        var perSecond: Double = 30
        var disconnectAfter = 200
    }

    private struct Bucket { var tokens: Double; var updated: Date; var refusals: Int }
    private let bucket: NIOLockedValueBox<Bucket>
    private let limits: Limits

    init(limits: Limits = Limits(), now: Date = Date()) {
        self.limits = limits
        bucket = NIOLockedValueBox(Bucket(tokens: limits.capacity, updated: now, refusals: 0))
    }

    enum Decision { case allow, refuse, disconnect }

    func take(now: Date = Date()) -> Decision {
        bucket.withLockedValue { bucket in
            bucket.tokens = min(limits.capacity, bucket.tokens + now.timeIntervalSince(bucket.updated) * limits.perSecond)
            bucket.updated = now
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                bucket.refusals = 0
                return .allow
            }
            bucket.refusals += 1
            return bucket.refusals > limits.disconnectAfter ? .disconnect : .refuse
        }
    }
}
