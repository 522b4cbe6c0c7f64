import Foundation
import NIOConcurrencyHelpers

/// Direct conversations by pair, remembered after the first lookup. A direct conversation's id
/// and its two members never change, so the entry is never stale; a send to someone you have
/// written to before needs no read. (Per process: another instance simply looks it up once.)
final class DirectConversationCache: Sendable {
    struct Entry: Sendable, Equatable {
        var conversationID: UUID
        var members: [UUID]
    }

    private let entries = NIOLockedValueBox<[String: Entry]>([:])
    /// Lookups (and creations) running now, by pair and by whether they create.
    private let running = NIOLockedValueBox<[String: Task<Entry?, any Error>]>([:])
    private let capacity: Int

    init(capacity: Int = 200_000) { self.capacity = capacity }

    func get(_ key: String) -> Entry? { entries.withLockedValue { $0[key] } }

    func put(_ key: String, _ entry: Entry) {
        entries.withLockedValue { table in
            // A crude bound: start over rather than grow without limit.
            if table.count >= capacity { table.removeAll(keepingCapacity: true) }
            table[key] = entry
        }
    }

    /// The pair's entry: from the cache, or from `resolve` — run once however many sends ask at
    /// the same time; the others await the same outcome. A found entry is cached.
    func resolveOnce(_ key: String, creating: Bool, _ resolve: @escaping @Sendable () async throws -> Entry?) async throws -> Entry? {
        if let hit = get(key) { return hit }
        let runKey = (creating ? "+" : "?") + key
        let (task, leads) = running.withLockedValue { table -> (Task<Entry?, any Error>, Bool) in
            if let task = table[runKey] { return (task, false) }
            let task = Task { try await resolve() }
            table[runKey] = task
            return (task, true)
        }
        guard leads else { return try await task.value }
        defer { running.withLockedValue { $0[runKey] = nil } }
        let entry = try await task.value
        if let entry { put(key, entry) }
        return entry
    }
}
