import NIOCore

/// One client's inbound budget: a token bucket for events and a bound on packets waiting to be
/// handled. A pure state machine (the time is passed in), so it is tested without a clock.
struct InboundBudget {
    enum Verdict: Equatable {
        case accept
        /// Refused; `streak` refusals in a row so far.
        case refuse(streak: Int)
        /// Refused once too often: close the connection.
        case disconnect(streak: Int)
    }

    let limit: InboundLimit
    private(set) var tokens: Double
    private(set) var queued = 0
    private(set) var streak = 0
    private var refilledAt: NIODeadline

    init(limit: InboundLimit, now: NIODeadline) {
        self.limit = limit
        tokens = limit.burst
        refilledAt = now
    }

    /// `shared` is asked last, only for an event this budget would accept: it takes the event's
    /// token from a budget other connections share (false refuses it).
    mutating func admit(isEvent: Bool, now: NIODeadline, shared: () -> Bool = { true }) -> Verdict {
        if isEvent, let rate = limit.eventsPerSecond {
            let elapsed = Double((now - refilledAt).nanoseconds) / 1e9
            tokens = min(limit.burst, tokens + max(0, elapsed) * rate)
            refilledAt = now
        }
        // CONNECT and DISCONNECT are never refused (dropping one would leave client and server
        // disagreeing about what is connected), but a client that sends them on top of a full
        // queue is not using the protocol in good faith: it is closed.
        if !isEvent && queued >= limit.maxQueued {
            streak += 1
            return .disconnect(streak: streak)
        }
        let overRate = isEvent && limit.eventsPerSecond != nil && tokens < 1
        guard !overRate, queued < limit.maxQueued, !isEvent || shared() else {
            streak += 1
            return streak >= limit.refusalsBeforeDisconnect ? .disconnect(streak: streak) : .refuse(streak: streak)
        }
        if isEvent && limit.eventsPerSecond != nil { tokens -= 1 }
        queued += 1
        streak = 0
        return .accept
    }

    /// How long until an event would be accepted again (0: now). The client stops reading for
    /// that long, so what it sends meanwhile waits in TCP instead of being read to be refused.
    var secondsUntilAdmissible: Double {
        if queued >= limit.maxQueued { return Self.fullQueuePause }
        guard let rate = limit.eventsPerSecond, tokens < 1 else { return 0 }
        return (1 - tokens) / rate
    }

    /// A full queue drains at the handlers' pace, which the budget does not know: this long.
    static let fullQueuePause = 0.05

    /// A queued packet has been handled.
    mutating func handled() {
        queued = max(0, queued - 1)
    }
}
