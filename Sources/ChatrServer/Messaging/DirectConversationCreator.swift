import Fluent
import Foundation
import NIOConcurrencyHelpers
import SQLKit

/// Creates direct conversations (a pair's first message) in batches, as `MessageBatchWriter`
/// stores messages: a creation that finds no batch running starts one; those that arrive
/// meanwhile go together into the next, one transaction of three statements whatever their
/// number.
///
/// Why: when many people write to someone new at once (a team's first day, the morning after a
/// deploy) each creation was its own transaction of five round trips. On SQLite, with one writer
/// at a time, they queued behind each other and behind the message batches — and a connection
/// waiting for the lock spins — so every send in that second waited: p99 went to seconds.
final class DirectConversationCreator: Sendable {
    private struct Pending: Sendable {
        let pair: (UUID, UUID)
        let continuation: CheckedContinuation<UUID, any Error>
    }

    private struct State {
        var writing = false
        var pending: [Pending] = []
    }

    private let state = NIOLockedValueBox(State())
    static let maxBatch = 250

    /// The id of the direct conversation of `a` and `b`, created with both as members unless it
    /// exists (made by someone else meanwhile, or on another node).
    func conversation(between a: UUID, and b: UUID, on db: any Database, clock: AppClock) async throws -> UUID {
        try await withCheckedThrowingContinuation { continuation in
            let leads = state.withLockedValue { state -> Bool in
                state.pending.append(Pending(pair: (a, b), continuation: continuation))
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            guard leads else { return }
            Task(priority: .high) { await self.drain(on: db, clock: clock) }
        }
    }

    private func drain(on db: any Database, clock: AppClock) async {
        while true {
            let batch = state.withLockedValue { state -> [Pending] in
                guard !state.pending.isEmpty else {
                    state.writing = false
                    return []
                }
                let batch = Array(state.pending.prefix(Self.maxBatch))
                state.pending.removeFirst(batch.count)
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                let ids = try await Self.create(batch.map(\.pair), on: db, now: clock.now)
                for pending in batch {
                    if let id = ids[Conversation.directKey(pending.pair.0, pending.pair.1)] {
                        pending.continuation.resume(returning: id)
                    } else {
                        pending.continuation.resume(throwing: ChatrError.conflict("The conversation could not be created"))
                    }
                }
            } catch {
                for pending in batch { pending.continuation.resume(throwing: error) }
            }
        }
    }

    /// One transaction: the conversations that do not exist yet (a row already there wins: the
    /// pair's key is unique), the ids of all, then the two members of each one made here.
    static func create(_ pairs: [(UUID, UUID)], on db: any Database, now: Date) async throws -> [String: UUID] {
        var fresh: [String: (id: UUID, a: UUID, b: UUID)] = [:]
        for (a, b) in pairs where fresh[Conversation.directKey(a, b)] == nil {
            fresh[Conversation.directKey(a, b)] = (UUID(), a, b)
        }
        let made = fresh
        // In key order: two nodes inserting overlapping pairs take the unique index's locks in the
        // same order, so they queue instead of deadlocking (PostgreSQL).
        let keys = made.keys.sorted()
        return try await db.transaction { db in
            let sql = db as! any SQLDatabase
            var conversations = sql.insert(into: Conversation.schema)
                .columns("id", "kind", "direct_key", "last_seq", "created_at", "updated_at")
            for key in keys {
                conversations = conversations.values(SQLBind(made[key]!.id), SQLBind(Conversation.Kind.direct.rawValue), SQLBind(key),
                                                     SQLBind(Int64(0)), SQLBind(now), SQLBind(now))
            }
            try await conversations.ignoringConflicts(with: ["direct_key"]).run()
            var ids: [String: UUID] = [:]
            for row in try await sql.select().columns("id", "direct_key").from(Conversation.schema)
                .where("direct_key", .in, keys).all() {
                ids[try row.decode(column: "direct_key", as: String.self)] = try row.decode(column: "id", as: UUID.self)
            }
            let ours = keys.filter { ids[$0] == made[$0]!.id }
            if !ours.isEmpty {
                var members = sql.insert(into: Member.schema)
                    .columns("id", "conversation_id", "user_id", "role", "joined_at", "last_read_seq", "history_from_seq")
                for key in ours {
                    let conversation = made[key]!
                    for user in [conversation.a, conversation.b] {
                        members = members.values(SQLBind(UUID()), SQLBind(conversation.id), SQLBind(user), SQLBind(Member.Role.member.rawValue),
                                                 SQLBind(now), SQLBind(Int64(0)), SQLBind(Int64(0)))
                    }
                }
                try await members.run()
            }
            return ids
        }
    }
}
