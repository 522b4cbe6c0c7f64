import Foundation
import NIOConcurrencyHelpers

/// The member ids of group conversations, so a send to a 1,000-member group does not read (and
/// reflect into models) 1,000 member rows per message. Every membership change in `GroupService`
/// invalidates its group. A read that raced with a change cannot store what it read: `put` takes
/// the ticket taken before the read and is ignored if the group was invalidated since.
/// In cluster mode each invalidation is also announced to the other nodes, which forget theirs.
final class GroupMembersCache: Sendable {
    private struct State {
        var members: [UUID: [UUID]] = [:]
        var generation: [UUID: Int] = [:]
        /// Moves on `invalidateAll`: a ticket taken before it is stale for every group.
        var epoch = 0
        var announce: (@Sendable (UUID) -> Void)?
    }

    private let state = NIOLockedValueBox(State())
    private let capacity: Int

    init(capacity: Int = 50_000) { self.capacity = capacity }

    func get(_ conversationID: UUID) -> [UUID]? { state.withLockedValue { $0.members[conversationID] } }

    struct Ticket: Equatable, Sendable {
        var epoch: Int
        var generation: Int
    }

    /// Take before reading the members from the database.
    func ticket(_ conversationID: UUID) -> Ticket {
        state.withLockedValue { Ticket(epoch: $0.epoch, generation: $0.generation[conversationID, default: 0]) }
    }

    func put(_ conversationID: UUID, members: [UUID], ticket: Ticket) {
        state.withLockedValue { state in
            guard Ticket(epoch: state.epoch, generation: state.generation[conversationID, default: 0]) == ticket else { return }
            if state.members.count >= capacity { state.members.removeAll(keepingCapacity: true) }
            state.members[conversationID] = members
        }
    }

    /// `announce: false` for an invalidation that came from another node.
    func invalidate(_ conversationID: UUID, announce: Bool = true) {
        let tell = state.withLockedValue { state in
            state.members[conversationID] = nil
            state.generation[conversationID, default: 0] += 1
            return announce ? state.announce : nil
        }
        tell?(conversationID)
    }

    /// Forgets every group (cluster mode, after invalidations from other nodes may have been lost).
    func invalidateAll() {
        state.withLockedValue { state in
            state.members.removeAll()
            state.epoch += 1
        }
    }

    /// Cluster mode: tell the other nodes of every local invalidation.
    func announceInvalidations(_ announce: @escaping @Sendable (UUID) -> Void) {
        state.withLockedValue { $0.announce = announce }
    }
}
