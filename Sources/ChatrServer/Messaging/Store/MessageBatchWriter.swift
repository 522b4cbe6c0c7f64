import Fluent
import Foundation
import NIOConcurrencyHelpers
import SQLKit
import Vapor

/// Group commit for message inserts: on SQLite, which has one writer at a time, and on
/// PostgreSQL, where a commit (and its WAL flush) per message is what saturates the database.
///
/// A send hands its message here and waits. If no write is in progress it starts one; every send
/// that arrives while a write runs queues, and the next write stores all of them with one
/// multi-row INSERT (up to `maxBatch`). Under light load a batch is one message and nothing waits
/// for a timer; under heavy load N messages cost two round trips to SQLite instead of N — which
/// is what lets the single writer keep up (see docs/PERFORMANCE.md).
///
/// Sequence numbers are taken here: `last_seq` of each conversation in the batch is read once and
/// counted up in memory, then the insert trigger (`AddSQLiteSeqTrigger`) moves the conversations.
/// Nothing else writes `last_seq` while a batch runs, because every message insert goes through
/// this queue. If a batch fails as a whole (a repeated `clientMessageId`, a conversation deleted
/// meanwhile) each of its messages is stored on its own, so that each send gets its own answer.
///
/// One per application (a service: `MessageStorage`), used by `SQLiteMessageStore` and
/// `PostgresMessageStore`, each giving the way it stores a batch (`storeBatch`). On PostgreSQL
/// other instances write too: there a batch locks its conversations' rows (`FOR UPDATE`, in id
/// order) before numbering, so batches of two nodes queue rather than collide.
final class MessageBatchWriter: Sendable, LifecycleHandler {
    private struct Pending: Sendable {
        let message: Message
        let continuation: CheckedContinuation<Int64, any Error>
    }

    private struct State {
        var writing = false
        var pending: [Pending] = []
        /// Work to run before the next batch (`betweenBatches`).
        var jobs: [@Sendable () async -> Void] = []
        var largestBatch = 0
        /// Shutdown waiting for the last batch to be written.
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = NIOLockedValueBox(State())
    private let maxBatch: Int
    /// With SQLite in a file: keeps the write-ahead log short between batches.
    let checkpointer: SQLiteCheckpointer?
    /// Stores a batch; one outcome per message, in order (a failure of one fails only it).
    typealias StoreBatch = @Sendable ([Message], any SQLDatabase) async -> [Result<Int64, any Error>]
    private let storeBatch: StoreBatch

    init(maxBatch: Int = 256, checkpointer: SQLiteCheckpointer? = nil, storeBatch: @escaping StoreBatch = SQLiteMessageStore.store) {
        self.maxBatch = maxBatch
        self.checkpointer = checkpointer
        self.storeBatch = storeBatch
    }

    /// Stores `message` (its `seq` is ignored) and returns the sequence number it got.
    func insert(_ message: Message, on db: any SQLDatabase) async throws -> Int64 {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(on: db) { $0.pending.append(Pending(message: message, continuation: continuation)) }
        }
    }

    /// Runs `job` before the next batch, never beside one: for writes that would otherwise
    /// contend with the batches for SQLite's one writer — a transaction started beside a batch
    /// waits for the lock holding one of the pool's connections (a waiting SQLite connection
    /// spins), and the batch and every read wait with it. Starts the writer if it is idle.
    func betweenBatches(on db: any SQLDatabase, _ job: @escaping @Sendable () async -> Void) {
        enqueue(on: db) { $0.jobs.append(job) }
    }

    /// Queues work; whoever finds the writer idle starts it, and it keeps writing whatever
    /// queued meanwhile.
    private func enqueue(on db: any SQLDatabase, _ add: (inout State) -> Void) {
        let leads = state.withLockedValue { state -> Bool in
            add(&state)
            guard !state.writing else { return false }
            state.writing = true
            return true
        }
        guard leads else { return }
        Task(priority: .high) { await self.drain(on: db) }
    }

    private func drain(on db: any SQLDatabase) async {
        while true {
            let (jobs, batch, idle) = state.withLockedValue { state -> ([@Sendable () async -> Void], [Pending], [CheckedContinuation<Void, Never>]) in
                guard !state.pending.isEmpty || !state.jobs.isEmpty else {
                    state.writing = false
                    defer { state.idleWaiters = [] }
                    return ([], [], state.idleWaiters)
                }
                let jobs = state.jobs
                state.jobs = []
                let batch = Array(state.pending.prefix(maxBatch))
                state.pending.removeFirst(batch.count)
                return (jobs, batch, [])
            }
            guard !jobs.isEmpty || !batch.isEmpty else {
                for waiter in idle { waiter.resume() }
                return
            }
            for job in jobs { await job() }
            guard !batch.isEmpty else { continue }
            await write(batch, on: db)
            await checkpointer?.catchUp(on: db)
        }
    }

    private func write(_ batch: [Pending], on db: any SQLDatabase) async {
        state.withLockedValue { $0.largestBatch = max($0.largestBatch, batch.count) }
        ChatrMetrics.shared.batchSizes.record(Double(batch.count))
        let outcomes = await storeBatch(batch.map(\.message), db)
        for (pending, outcome) in zip(batch, outcomes) { pending.continuation.resume(with: outcome) }
    }

    /// Returns once nothing is being written: the application stops only after the sends it
    /// accepted are stored (or have failed), before its database closes.
    func shutdownAsync(_ application: Application) async {
        await withCheckedContinuation { continuation in
            let busy = state.withLockedValue { state -> Bool in
                guard state.writing else { return false }
                state.idleWaiters.append(continuation)
                return true
            }
            if !busy { continuation.resume() }
        }
    }

    /// The largest batch written so far (for tests and curiosity).
    var largestBatch: Int { state.withLockedValue { $0.largestBatch } }
}
