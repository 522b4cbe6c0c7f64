import Fluent
import Foundation
import NIOConcurrencyHelpers
import SQLKit

/// Looks up or creates direct conversations (a pair's first message since the start) in
/// batches, run by the message writer between its batches (`MessageBatchWriter.betweenBatches`):
/// every pair asked for while one batch of messages is written is looked up, and the missing
/// ones created, together — two reads, then one transaction (the conversations, their ids read
/// back, their members), whatever their number.
///
/// Why: when many people write to someone new at once (a team's first day, the morning after a
/// deploy, every pair after a restart) each lookup was two reads and each creation its own
/// transaction. On SQLite, with one writer at a time, the creations fought the message batches
/// for the lock — and a connection waiting for it spins — so every send in that second waited:
/// p99 went to seconds, then to 200–500 ms with the creations batched but run beside the
/// message batches instead of between them.
final class DirectConversationCreator: Sendable {
    /// A pair's conversation, or the reason there is none.
    enum Outcome: Sendable, Equatable {
        case found(DirectConversationCache.Entry)
        /// The recipient does not exist or has not verified their account (nobody can write to
        /// them before that); an existing conversation is still found.
        case recipientNotFound
    }

    private struct Pending: Sendable {
        let sender: UUID
        let recipient: UUID
        let continuation: CheckedContinuation<Outcome, any Error>
    }

    private struct State {
        /// A run is queued with the writer and has not started: new pairs join it.
        var queued = false
        var pending: [Pending] = []
    }

    private let state = NIOLockedValueBox(State())
    static let maxBatch = 250

    /// The direct conversation of `sender` and `recipient`, created with both as members unless it
    /// exists (made by someone else meanwhile, or on another node).
    func conversation(from sender: UUID, to recipient: UUID, on db: any Database, writer: MessageBatchWriter, clock: AppClock) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let queues = state.withLockedValue { state -> Bool in
                state.pending.append(Pending(sender: sender, recipient: recipient, continuation: continuation))
                guard !state.queued else { return false }
                state.queued = true
                return true
            }
            guard queues else { return }
            writer.betweenBatches(on: db as! any SQLDatabase) { await self.run(on: db, clock: clock) }
        }
    }

    /// Every pair asked for until now, in batches of `maxBatch`.
    private func run(on db: any Database, clock: AppClock) async {
        let pending = state.withLockedValue { state -> [Pending] in
            state.queued = false
            defer { state.pending = [] }
            return state.pending
        }
        var start = 0
        while start < pending.count {
            let batch = pending[start..<min(start + Self.maxBatch, pending.count)]
            start += batch.count
            do {
                try await answer(Array(batch), on: db, clock: clock)
            } catch where batch.count > 1 {
                // One bad pair (a recipient deleted between the reads and the inserts) must not
                // fail the first messages of all the others: each on its own.
                for pending in batch {
                    do { try await answer([pending], on: db, clock: clock) } catch { pending.continuation.resume(throwing: error) }
                }
            } catch {
                for pending in batch { pending.continuation.resume(throwing: error) }
            }
        }
    }

    /// Looks up or creates the batch's pairs and resumes each; throws (resuming none) if that fails.
    private func answer(_ batch: [Pending], on db: any Database, clock: AppClock) async throws {
        let outcomes = try await Self.lookUpOrCreate(batch.map { ($0.sender, $0.recipient) }, on: db, now: clock.now)
        for pending in batch {
            if let outcome = outcomes[Conversation.directKey(pending.sender, pending.recipient)] {
                pending.continuation.resume(returning: outcome)
            } else {
                pending.continuation.resume(throwing: ChatrError.conflict("The conversation could not be created"))
            }
        }
    }

    /// By pair key: the conversations that exist, with their members; for the others, whether the
    /// recipient may be written to; then, in one transaction, those created (a row made meanwhile
    /// wins: the pair's key is unique) and the two members of each one made here. The reads come
    /// before the transaction: on SQLite a transaction that reads first and writes second fails
    /// (`SQLITE_BUSY_SNAPSHOT`) when another connection wrote in between, and a row made by
    /// someone else after the reads is met by the insert anyway.
    static func lookUpOrCreate(_ pairs: [(sender: UUID, recipient: UUID)], on db: any Database, now: Date) async throws -> [String: Outcome] {
        let asked = Dictionary(pairs.map { (Conversation.directKey($0.sender, $0.recipient), $0) }, uniquingKeysWith: { first, _ in first })
        // In key order: two nodes inserting overlapping pairs take the unique index's locks in the
        // same order, so they queue instead of deadlocking (PostgreSQL).
        let keys = asked.keys.sorted()
        let sql = db as! any SQLDatabase
        var outcomes: [String: Outcome] = [:]
        for row in try await sql.raw("""
            SELECT c.id, c.direct_key, m.user_id FROM conversations c LEFT JOIN members m ON m.conversation_id = c.id
            WHERE c.direct_key IN (\(binds: keys))
            """).all() {
            let key = try row.decode(column: "direct_key", as: String.self)
            var entry = DirectConversationCache.Entry(conversationID: try row.decode(column: "id", as: UUID.self), members: [])
            if case .found(let seen) = outcomes[key] { entry = seen }
            if let member = try row.decode(column: "user_id", as: UUID?.self) { entry.members.append(member) }
            outcomes[key] = .found(entry)
        }
        let missing = keys.filter { outcomes[$0] == nil }
        guard !missing.isEmpty else { return outcomes }
        let recipients = Set(missing.map { asked[$0]!.recipient })
        let verified = Set(try await sql.raw("""
            SELECT id FROM users WHERE id IN (\(binds: Array(recipients))) AND \(User.isVerifiedSQL)
            """).all().map { try $0.decode(column: "id", as: UUID.self) })
        let creating = missing.filter { verified.contains(asked[$0]!.recipient) }
        for key in missing where !verified.contains(asked[key]!.recipient) { outcomes[key] = .recipientNotFound }
        guard !creating.isEmpty else { return outcomes }
        let made = Dictionary(uniqueKeysWithValues: creating.map { ($0, UUID()) })
        let known = outcomes
        return try await db.transaction { db in
            let sql = db as! any SQLDatabase
            var outcomes = known
            var conversations = sql.insert(into: Conversation.schema)
                .columns("id", "kind", "direct_key", "last_seq", "created_at", "updated_at")
            for key in creating {
                conversations = conversations.values(SQLBind(made[key]!), SQLBind(Conversation.Kind.direct.rawValue), SQLBind(key),
                                                     SQLBind(Int64(0)), SQLBind(now), SQLBind(now))
            }
            try await conversations.ignoringConflicts(with: ["direct_key"]).run()
            var ids: [String: UUID] = [:]
            for row in try await sql.select().columns("id", "direct_key").from(Conversation.schema)
                .where("direct_key", .in, creating).all() {
                ids[try row.decode(column: "direct_key", as: String.self)] = try row.decode(column: "id", as: UUID.self)
            }
            var members = sql.insert(into: Member.schema)
                .columns("id", "conversation_id", "user_id", "role", "joined_at", "last_read_seq", "history_from_seq")
            var adding = false
            for key in creating {
                guard let id = ids[key] else { continue }
                let pair = asked[key]!
                // Made here, or by another node between the lookup and the insert (it adds the
                // same two members in the same transaction as its row).
                outcomes[key] = .found(.init(conversationID: id, members: [pair.sender, pair.recipient]))
                guard id == made[key] else { continue }
                for user in [pair.sender, pair.recipient] {
                    members = members.values(SQLBind(UUID()), SQLBind(id), SQLBind(user), SQLBind(Member.Role.member.rawValue),
                                             SQLBind(now), SQLBind(Int64(0)), SQLBind(Int64(0)))
                }
                adding = true
            }
            if adding { try await members.run() }
            return outcomes
        }
    }
}
