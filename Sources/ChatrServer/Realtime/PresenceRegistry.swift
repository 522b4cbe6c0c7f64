import Foundation
import NIOConcurrencyHelpers

/// Who is connected to this process, with how many sockets, and their chosen status.
final class PresenceRegistry: Sendable {
    enum Status: String, Sendable, Codable { case online, away, offline }

    private struct Entry { var sockets: Int; var status: Status }
    private let entries = NIOLockedValueBox<[UUID: Entry]>([:])

    /// Counts a new socket; true when it is the user's first.
    func connect(_ userID: UUID) -> Bool {
        entries.withLockedValue { table in
            var entry = table[userID] ?? Entry(sockets: 0, status: .online)
            entry.sockets += 1
            table[userID] = entry
            return entry.sockets == 1
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
