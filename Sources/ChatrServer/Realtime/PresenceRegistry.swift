import Foundation
import NIOConcurrencyHelpers

/// Who is connected, with how many sockets, and their chosen status: this process's sockets,
/// and — in cluster mode — what the other nodes said of theirs. A user is online while any
/// device is connected to any node.
final class PresenceRegistry: Sendable {
    enum Status: String, Sendable, Codable { case online, away, offline }

    /// `shown` mirrors the user's showOnlineStatus, so telling others a status needs no database.
    private struct Entry { var sockets: Int; var status: Status; var shown: Bool }
    /// What another node said about one of its users.
    struct Remote: Sendable, Equatable { var status: Status; var shown: Bool }

    private struct Tables {
        var local: [UUID: Entry] = [:]
        var remote: [UUID: [String: Remote]] = [:]   // user → node → state
        /// Told of each local change (nil: the user's last local socket went), under the lock, so
        /// the other nodes hear the changes of one user in the order they happened.
        var announce: (@Sendable (UUID, Remote?) -> Void)?
    }

    private let tables = NIOLockedValueBox(Tables())

    /// Cluster mode: `announce` publishes this node's changes to the others.
    func announceChanges(_ announce: @escaping @Sendable (UUID, Remote?) -> Void) {
        tables.withLockedValue { $0.announce = announce }
    }

    /// Counts a new socket; true when it is the user's first anywhere in the cluster.
    func connect(_ userID: UUID, showsStatus: Bool = true) -> Bool {
        tables.withLockedValue { tables in
            var entry = tables.local[userID] ?? Entry(sockets: 0, status: .online, shown: showsStatus)
            entry.sockets += 1
            let changed = entry.sockets == 1 || entry.shown != showsStatus
            entry.shown = showsStatus
            tables.local[userID] = entry
            if changed { tables.announce?(userID, Remote(status: entry.status, shown: entry.shown)) }
            return entry.sockets == 1 && tables.remote[userID] == nil
        }
    }

    /// Forgets a socket; true when it was the user's last anywhere in the cluster.
    func disconnect(_ userID: UUID) -> Bool {
        tables.withLockedValue { tables in
            guard var entry = tables.local[userID] else { return false }
            entry.sockets -= 1
            guard entry.sockets <= 0 else {
                tables.local[userID] = entry
                return false
            }
            tables.local[userID] = nil
            tables.announce?(userID, nil)
            return tables.remote[userID] == nil
        }
    }

    func setShowsStatus(_ userID: UUID, _ shown: Bool) {
        update(userID) { $0.shown = shown }
    }

    func setStatus(_ userID: UUID, _ status: Status) {
        update(userID) { $0.status = status }
    }

    private func update(_ userID: UUID, _ change: (inout Entry) -> Void) {
        tables.withLockedValue { tables in
            guard var entry = tables.local[userID] else { return }
            change(&entry)
            tables.local[userID] = entry
            tables.announce?(userID, Remote(status: entry.status, shown: entry.shown))
        }
    }

    /// The statuses others may see of these users (connected and not hiding), in one lock.
    func visibleOnline(among userIDs: some Sequence<UUID>) -> [(userID: UUID, status: Status)] {
        tables.withLockedValue { tables in
            userIDs.compactMap { id in
                guard let state = Self.state(of: id, in: tables), state.shown, state.status != .offline else { return nil }
                return (id, state.status)
            }
        }
    }

    /// The status as others should see it, before privacy settings.
    func status(of userID: UUID) -> Status {
        tables.withLockedValue { Self.state(of: userID, in: $0)?.status ?? .offline }
    }

    func isConnected(_ userID: UUID) -> Bool {
        tables.withLockedValue { $0.local[userID] != nil || $0.remote[userID] != nil }
    }

    /// Those of `userIDs` with no socket on any node, under one lock (a group's members).
    func notConnected(among userIDs: [UUID]) -> [UUID] {
        tables.withLockedValue { tables in userIDs.filter { tables.local[$0] == nil && tables.remote[$0] == nil } }
    }

    /// Whether another node said it has a socket of this user.
    func isConnectedElsewhere(_ userID: UUID) -> Bool {
        tables.withLockedValue { $0.remote[userID] != nil }
    }

    func isConnectedHere(_ userID: UUID) -> Bool {
        tables.withLockedValue { $0.local[userID] != nil }
    }

    var connectedUsers: [UUID] { tables.withLockedValue { Array(Set($0.local.keys).union($0.remote.keys)) } }

    /// One user as the cluster sees them: this node's entry first, else the "most present" of the
    /// others' (online before away).
    private static func state(of userID: UUID, in tables: Tables) -> Remote? {
        if let entry = tables.local[userID] { return Remote(status: entry.status, shown: entry.shown) }
        guard let remotes = tables.remote[userID]?.values, !remotes.isEmpty else { return nil }
        return remotes.first { $0.status == .online } ?? remotes.first
    }

    // MARK: The other nodes

    /// Tells the others (again) about every local user — after they took this node for dead.
    func announceAll() {
        tables.withLockedValue { tables in
            for (user, entry) in tables.local { tables.announce?(user, Remote(status: entry.status, shown: entry.shown)) }
        }
    }

    /// How many sockets each user has on this node.
    var localDeviceCounts: [UUID: Int] { tables.withLockedValue { $0.local.mapValues(\.sockets) } }

    /// This node's users, for a node that asks (one that just started).
    var localSnapshot: [(UUID, Remote)] {
        tables.withLockedValue { $0.local.map { ($0.key, Remote(status: $0.value.status, shown: $0.value.shown)) } }
    }

    /// What a node said about one of its users (nil: its last socket there went). The node where
    /// a user's first or last device came or went tells their contacts; the others only listen.
    func applyRemote(node: String, user: UUID, _ remote: Remote?) {
        tables.withLockedValue { tables in
            if let remote {
                tables.remote[user, default: [:]][node] = remote
            } else {
                tables.remote[user]?[node] = nil
                if tables.remote[user]?.isEmpty == true { tables.remote[user] = nil }
            }
        }
    }

    /// A node is gone: forgets what it said; returns its users who are now connected nowhere.
    func removeNode(_ node: String) -> [UUID] {
        tables.withLockedValue { tables in
            var gone: [UUID] = []
            for (user, nodes) in tables.remote where nodes[node] != nil {
                var rest = nodes
                rest[node] = nil
                tables.remote[user] = rest.isEmpty ? nil : rest
                if rest.isEmpty, tables.local[user] == nil { gone.append(user) }
            }
            return gone
        }
    }
}
