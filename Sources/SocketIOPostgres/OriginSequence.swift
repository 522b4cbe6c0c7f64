/// The order of one other node's sequenced messages, as this node receives them. Notifications
/// from one PostgreSQL session arrive in order, but this node's LISTEN connection can be away (a
/// restarted database, a network cut) while that node publishes: then a gap shows — the next
/// message, or the node's heartbeat, is further on than expected. Later messages are held, the
/// missing ones are asked for again (the sender keeps its recent ones), and all are applied in
/// order; a gap not filled in time is given up on, said out loud (`missed`), and skipped.
struct OriginSequence {
    /// The next sequence number to apply; nil until the first word from this node.
    private(set) var next: UInt64?
    /// The newest sequence number the sender is known to have published.
    private var newest: UInt64 = 0
    private var held: [UInt64: ClusterEnvelope] = [:]
    /// When the current gap opened, and how far replays were asked for.
    private var gap: (openedAt: ContinuousClock.Instant, askedUpTo: UInt64)?

    struct Outcome: Equatable {
        /// Apply these, in this order.
        var ready: [ClusterEnvelope] = []
        /// Ask the sender to publish these again.
        var replay: ClosedRange<UInt64>?
        /// Messages given up on (never to be applied).
        var missed: UInt64 = 0
    }

    mutating func receive(_ envelope: ClusterEnvelope, seq: UInt64, now: ContinuousClock.Instant) -> Outcome {
        guard let expected = next else {
            // First contact (this node just started, or the other did): start from here.
            next = seq + 1
            newest = seq
            return Outcome(ready: [envelope])
        }
        newest = max(newest, seq)
        if seq < expected || held[seq] != nil { return Outcome() }   // a duplicate (replays go to every node)
        if seq == expected {
            next = seq + 1
            return Outcome(ready: [envelope] + drainHeld(), replay: askIfNeeded(now: now))
        }
        held[seq] = envelope
        return Outcome(replay: askIfNeeded(now: now))
    }

    /// The sender's heartbeat: `last` is its newest sequenced message.
    mutating func heartbeat(last: UInt64, now: ContinuousClock.Instant) -> Outcome {
        guard next != nil else {
            next = last + 1
            newest = last
            return Outcome()
        }
        newest = max(newest, last)
        // A replay request can be lost (the sender's LISTEN was away too): each heartbeat during
        // a gap asks again for all of it; what arrives twice is dropped by number.
        if let open = gap { gap = (open.openedAt, (next ?? 1) - 1) }
        return Outcome(replay: askIfNeeded(now: now))
    }

    /// Called now and then: a gap open longer than `timeout` is given up on — everything up to
    /// the first message held (or up to the newest known) is skipped and counted as missed.
    mutating func expire(now: ContinuousClock.Instant, timeout: Duration) -> Outcome {
        guard let open = gap, now - open.openedAt >= timeout, let expected = next else { return Outcome() }
        let resumeAt = held.keys.min() ?? (newest + 1)
        gap = nil
        next = resumeAt
        return Outcome(ready: drainHeld(), missed: resumeAt - expected)
    }

    /// A replay request when something is missing that was not asked for yet.
    private mutating func askIfNeeded(now: ContinuousClock.Instant) -> ClosedRange<UInt64>? {
        guard let expected = next, newest >= expected else {
            gap = nil
            return nil
        }
        var from = gap.map { $0.askedUpTo + 1 } ?? expected
        var upTo = newest
        let openedAt = gap?.openedAt ?? now
        gap = (openedAt, newest)
        // Not what is already here: those arrived and wait for the ones before them.
        while from <= upTo, held[from] != nil { from += 1 }
        while upTo >= from, held[upTo] != nil { upTo -= 1 }
        return from <= upTo ? from...upTo : nil
    }

    private mutating func drainHeld() -> [ClusterEnvelope] {
        var ready: [ClusterEnvelope] = []
        while let expected = next, let envelope = held.removeValue(forKey: expected) {
            ready.append(envelope)
            next = expected + 1
        }
        return ready
    }
}
