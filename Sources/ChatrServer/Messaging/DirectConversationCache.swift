import Foundation
import NIOConcurrencyHelpers

/// Direct conversations by pair, remembered after the first lookup. A direct conversation's id
/// and its two members never change, so the entry is never stale; a send to someone you have
/// written to before needs no read. (Per process: another instance simply looks it up once.)
final class DirectConversationCache: Sendable {
    struct Entry: Sendable {
        var conversationID: UUID
        var members: [UUID]
    }

    private let entries = NIOLockedValueBox<[String: Entry]>([:])
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
}
