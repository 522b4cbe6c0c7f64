import Foundation
import NIOConcurrencyHelpers

/// Who is connected to this process, with how many sockets, and their chosen status.
final class PresenceRegistry: Sendable {
    enum Status: String, Sendable, Codable { case online, away, offline }

    /// `shown` mirrors the user's showOnlineStatus, so telling others a status needs no database.
    private struct Entry { var sockets: Int; var status: Status; var shown: Bool }
    private let entries = NIOLockedValueBox<[UUID: Entry]>([:])

    /// Counts a new socket; true when it is the user's first.
    func connect(_ userID: UUID, showsStatus: Bool = true) -> Bool {
        entries.withLockedValue { table in
            var entry = table[userID] ?? Entry(sockets: 0, status: .online, shown: showsStatus)
            entry.sockets += 1
            entry.shown = showsStatus
            table[userID] = entry
            return entry.sockets == 1
        }
    }

    func setShowsStatus(_ userID: UUID, _ shown: Bool) {
        entries.withLockedValue { table in
            if var entry = table[userID] { entry.shown = shown; table[userID] = entry }
        }
    }

    /// The statuses others may see of these users (connected and not hiding), in one lock.
    func visibleOnline(among userIDs: some Sequence<UUID>) -> [(userID: UUID, status: Status)] {
        entries.withLockedValue { table in
            userIDs.compactMap { id in
                guard let entry = table[id], entry.shown, entry.status != .offline else { return nil }
                return (id, entry.status)
            }
        }
    }

    /// Forgets a socket; true when it was the user's last.
    func disconnect(_ userID: UUID) -> Bool {
        entries.withLockedValue { table in
            guard var entry = table[userID] else { return false }
            entry.sockets -= 1
            if entry.sockets <= 0 {
                table[userID] = nil
                return true
            }
            table[userID] = entry
            return false
        }
    }

    func setStatus(_ userID: UUID, _ status: Status) {
        entries.withLockedValue { table in
            if var entry = table[userID] { entry.status = status; table[userID] = entry }
        }
    }

    /// The status as others should see it, before privacy settings.
    func status(of userID: UUID) -> Status {
        entries.withLockedValue { $0[userID]?.status ?? .offline }
    }

    func isConnected(_ userID: UUID) -> Bool {
        entries.withLockedValue { $0[userID] != nil }
    }

    var connectedUsers: [UUID] { entries.withLockedValue { Array($0.keys) } }
}
