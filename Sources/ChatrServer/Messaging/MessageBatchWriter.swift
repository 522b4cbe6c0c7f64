import Fluent
import Foundation
import NIOConcurrencyHelpers
import SQLKit

/// Group commit for message inserts on SQLite, which has one writer at a time.
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
/// On PostgreSQL it is not used: sends run concurrently and the row lock of the sequence bump
/// orders them.
final class MessageBatchWriter: Sendable {
    private struct Pending: Sendable {
        let message: Message
        let continuation: CheckedContinuation<Int64, any Error>
    }

    private struct State {
        var writing = false
        var pending: [Pending] = []
        var largestBatch = 0
    }

    private let state = NIOLockedValueBox(State())
    private let maxBatch: Int
    let enabled: Bool
    /// With SQLite in a file: keeps the write-ahead log short between batches.
    let checkpointer: SQLiteCheckpointer?

    init(enabled: Bool, maxBatch: Int = 256, checkpointer: SQLiteCheckpointer? = nil) {
        self.enabled = enabled
        self.maxBatch = maxBatch
        self.checkpointer = checkpointer
    }

    /// Stores `message` (its `seq` is ignored) and returns the sequence number it got.
    func insert(_ message: Message, on db: any Database) async throws -> Int64 {
        try await withCheckedThrowingContinuation { continuation in
            let leads = state.withLockedValue { state -> Bool in
                state.pending.append(Pending(message: message, continuation: continuation))
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            guard leads else { return }
            // This send found the writer idle: it writes, and keeps writing whatever queued meanwhile.
            let sql = db as! any SQLDatabase
            Task(priority: .high) { await self.drain(on: sql) }
        }
    }

    private func drain(on db: any SQLDatabase) async {
        while true {
            let batch = state.withLockedValue { state -> [Pending] in
                guard !state.pending.isEmpty else { state.writing = false; return [] }
                let batch = Array(state.pending.prefix(maxBatch))
                state.pending.removeFirst(batch.count)
                return batch
            }
            guard !batch.isEmpty else { return }
            await write(batch, on: db)
            await checkpointer?.catchUp(on: db)
        }
    }

    private func write(_ batch: [Pending], on db: any SQLDatabase) async {
        state.withLockedValue { $0.largestBatch = max($0.largestBatch, batch.count) }
        let outcomes = await Self.store(batch.map(\.message), on: db)
        for (pending, outcome) in zip(batch, outcomes) { pending.continuation.resume(with: outcome) }
    }

    /// The largest batch written so far (for tests and curiosity).
    var largestBatch: Int { state.withLockedValue { $0.largestBatch } }

    /// Stores `messages` with one INSERT; if that fails, each on its own (so only the bad ones fail).
    static func store(_ messages: [Message], on db: any SQLDatabase) async -> [Result<Int64, any Error>] {
        if messages.count > 1, let seqs = try? await insertAll(messages, on: db) {
            return seqs.map { .success($0) }
        }
        var outcomes: [Result<Int64, any Error>] = []
        for message in messages {
            do { outcomes.append(.success(try await MessageService.insertTakingSeq(message, on: db))) } catch { outcomes.append(.failure(error)) }
        }
        return outcomes
    }

    /// One read of the conversations' `last_seq`, one INSERT of every message; returns the
    /// sequence numbers in the order of `messages`. Atomic: a failure stores nothing.
    static func insertAll(_ messages: [Message], on db: any SQLDatabase) async throws -> [Int64] {
        let conversationIDs = Array(Set(messages.map(\.conversationID)))
        let rows = try await db.raw("SELECT id, last_seq FROM conversations WHERE id IN (\(binds: conversationIDs))").all()
        var last: [UUID: Int64] = [:]
        for row in rows { last[try row.decode(column: "id", as: UUID.self)] = try row.decode(column: "last_seq", as: Int64.self) }
        var seqs: [Int64] = []
        seqs.reserveCapacity(messages.count)
        var insert = db.insert(into: Message.schema).columns(MessageService.messageColumns)
        for message in messages {
            guard let previous = last[message.conversationID] else { throw ChatrError.notFound("Conversation not found") }
            let seq = previous + 1
            last[message.conversationID] = seq
            seqs.append(seq)
            insert = insert.values(MessageService.columnValues(message, seq: SQLBind(seq)))
        }
        try await insert.run()
        return seqs
    }
}
