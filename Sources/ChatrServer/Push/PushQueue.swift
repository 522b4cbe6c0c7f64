import Foundation
import Logging

/// The pushes waiting to go out, and the few in flight. Sending is off the message path: a send
/// only hands jobs over.
///
/// - One job per device and conversation: while a job waits (queued, or backing off after a
///   busy push service), newer messages of that conversation fold into it (`PushJob.absorb`),
///   so a burst becomes one notification saying "3 new messages", not three.
/// - At most `concurrency` requests at once, `perHost` to one push service (a slow or silent
///   one — an endpoint anyone can register — holds its own slots, not everyone's), and
///   `capacity` jobs waiting; beyond that new jobs are dropped and counted (a push is a
///   courtesy; the messages themselves are stored).
/// - 429, 5xx and network failures are retried after the service's `Retry-After`, else after
///   1, 2, 4, 8 s; after `maxAttempts` sends the job is dropped and logged.
/// - 404/410 forget the subscription (`forget`).
actor PushQueue {
    private let concurrency: Int
    private let perHost: Int
    private let capacity: Int
    static let maxAttempts = 5
    /// The longest wait a `Retry-After` can impose on us.
    static let maxRetryDelay: Duration = .seconds(900)

    private let send: @Sendable (PushJob) async -> PushOutcome
    private let forget: @Sendable (UUID) async -> Void
    private let logger: Logger

    /// Jobs not in flight, by key; each is in `ready` or sleeping before a retry.
    private var waiting: [PushJob.Key: PushJob] = [:]
    private var ready: [PushJob.Key] = []
    private var readyHead = 0
    private var inFlight: Set<PushJob.Key> = []
    private var inFlightByHost: [String: Int] = [:]
    /// Ready keys whose push service is at `perHost`, in order, until one of its requests ends.
    private var heldByHost: [String: [PushJob.Key]] = [:]
    private var dropped = 0
    private var stopped = false

    init(concurrency: Int = 8, perHost: Int = 4, capacity: Int = 10_000, logger: Logger,
         send: @escaping @Sendable (PushJob) async -> PushOutcome, forget: @escaping @Sendable (UUID) async -> Void) {
        self.concurrency = concurrency
        self.perHost = perHost
        self.capacity = capacity
        self.logger = logger
        self.send = send
        self.forget = forget
    }

    func enqueue(_ jobs: [PushJob]) {
        guard !stopped else { return }
        for job in jobs {
            if var existing = waiting[job.key] {
                existing.absorb(job)
                waiting[job.key] = existing
                continue
            }
            guard waiting.count < capacity else {
                dropped += 1
                ChatrMetrics.shared.pushes(.dropped).increment()
                if dropped == 1 || dropped % 1000 == 0 {
                    logger.warning("push queue full (\(capacity) waiting): \(dropped) pushes dropped so far")
                }
                continue
            }
            waiting[job.key] = job
            // A job for a key in flight waits for that request to end (one at a time per device
            // and conversation, so they arrive in order).
            if !inFlight.contains(job.key) { ready.append(job.key) }
        }
        pump()
    }

    /// How many jobs wait or are in flight (tests, shutdown).
    var pending: Int { waiting.count + inFlight.count }

    /// Forgets what waits for these devices: signed out, unsubscribed, or registered again with
    /// other settings (previews off must hold from that moment, not after a retry).
    func cancel(subscriptions: Set<UUID>) {
        for key in waiting.keys where subscriptions.contains(key.subscriptionID) { waiting.removeValue(forKey: key) }
    }

    /// Forgets what waits for one person about one conversation (they muted it).
    func cancel(user: UUID, conversation: UUID) {
        for (key, job) in waiting where key.conversationID == conversation && job.userID == user { waiting.removeValue(forKey: key) }
    }

    func stop() {
        stopped = true
        if pending > 0 { logger.notice("push queue stopped with \(pending) pushes not sent") }
        waiting.removeAll()
        ready.removeAll()
        heldByHost.removeAll()
        readyHead = 0
    }

    private func pump() {
        while inFlight.count < concurrency, readyHead < ready.count {
            let key = ready[readyHead]
            readyHead += 1
            // Gone (cancelled, folded) or already being sent: one request per key at a time.
            guard !inFlight.contains(key), let host = waiting[key]?.host else { continue }
            guard inFlightByHost[host, default: 0] < perHost else {
                heldByHost[host, default: []].append(key)
                continue
            }
            let job = waiting.removeValue(forKey: key)!
            inFlight.insert(key)
            inFlightByHost[host, default: 0] += 1
            let send = self.send
            Task { [weak self] in
                let outcome = await send(job)
                await self?.finished(job, outcome)
            }
        }
        if readyHead > 1024, readyHead * 2 > ready.count {
            ready.removeFirst(readyHead)
            readyHead = 0
        }
    }

    private func finished(_ job: PushJob, _ outcome: PushOutcome) {
        inFlight.remove(job.key)
        let host = job.host
        inFlightByHost[host, default: 1] -= 1
        if inFlightByHost[host] == 0 { inFlightByHost.removeValue(forKey: host) }
        if var held = heldByHost[host], !held.isEmpty {
            ready.append(held.removeFirst())
            heldByHost[host] = held.isEmpty ? nil : held
        }
        var retryIn: Duration?
        switch outcome {
        case .delivered:
            ChatrMetrics.shared.pushes(.delivered).increment()
        case .gone:
            ChatrMetrics.shared.pushes(.gone).increment()
            logger.info("push subscription \(job.key.subscriptionID) is gone at its push service: forgotten")
            // Every job for this device would meet the same answer.
            for key in waiting.keys where key.subscriptionID == job.key.subscriptionID { waiting.removeValue(forKey: key) }
            let forget = self.forget
            Task { await forget(job.key.subscriptionID) }
        case .rejected(let reason):
            ChatrMetrics.shared.pushes(.rejected).increment()
            logger.warning("push to subscription \(job.key.subscriptionID) refused: \(reason)")
        case .retry(let after):
            if job.attempts + 1 >= Self.maxAttempts {
                ChatrMetrics.shared.pushes(.failed).increment()
                logger.warning("push to subscription \(job.key.subscriptionID) failed \(Self.maxAttempts) times: dropped")
            } else {
                var retry = job
                retry.attempts += 1
                if let newer = waiting[job.key] { retry.absorb(newer) }
                waiting[job.key] = retry
                retryIn = min(after ?? .seconds(1 << job.attempts), Self.maxRetryDelay)
            }
        }
        if let retryIn {
            let key = job.key
            Task { [weak self] in
                try? await Task.sleep(for: retryIn)
                await self?.wake(key)
            }
        } else if waiting[job.key] != nil {
            ready.append(job.key)
        }
        pump()
    }

    private func wake(_ key: PushJob.Key) {
        guard !stopped, waiting[key] != nil, !inFlight.contains(key) else { return }
        ready.append(key)
        pump()
    }
}
