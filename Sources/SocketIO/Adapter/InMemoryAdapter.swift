import NIOConcurrencyHelpers

/// The default adapter: room membership in two maps under one lock; broadcasts delivered to
/// local sockets through the namespace.
public final class InMemoryAdapter: SocketAdapter {
    private struct Tables {
        var members: [String: Set<String>] = [:]   // room → socket ids
        var memberships: [String: Set<String>] = [:] // socket id → rooms
    }

    private let tables = NIOLockedValueBox(Tables())
    private let deliver: @Sendable (_ socketIDs: Set<String>, _ packet: EncodedPacket) -> Void

    /// `deliver` sends an encoded packet to local sockets by id.
    public init(deliver: @escaping @Sendable (_ socketIDs: Set<String>, _ packet: EncodedPacket) -> Void) {
        self.deliver = deliver
    }

    public func join(_ socketID: String, rooms: Set<String>) {
        tables.withLockedValue { tables in
            tables.memberships[socketID, default: []].formUnion(rooms)
            for room in rooms { tables.members[room, default: []].insert(socketID) }
        }
    }

    public func leave(_ socketID: String, room: String) {
        tables.withLockedValue { tables in
            tables.memberships[socketID]?.remove(room)
            tables.members[room]?.remove(socketID)
            if tables.members[room]?.isEmpty == true { tables.members[room] = nil }
        }
    }

    public func leaveAll(_ socketID: String) {
        tables.withLockedValue { tables in
            for room in tables.memberships.removeValue(forKey: socketID) ?? [] {
                tables.members[room]?.remove(socketID)
                if tables.members[room]?.isEmpty == true { tables.members[room] = nil }
            }
        }
    }

    public func rooms(of socketID: String) -> Set<String> {
        tables.withLockedValue { $0.memberships[socketID] ?? [] }
    }

    public func sockets(matching options: BroadcastOptions) -> Set<String> {
        tables.withLockedValue { tables in
            var targets: Set<String>
            if options.rooms.isEmpty {
                targets = Set(tables.memberships.keys)
            } else {
                targets = []
                for room in options.rooms { targets.formUnion(tables.members[room] ?? []) }
            }
            for room in options.except { targets.subtract(tables.members[room] ?? []) }
            return targets
        }
    }

    public func broadcast(_ packet: EncodedPacket, options: BroadcastOptions) {
        let targets = sockets(matching: options)
        if !targets.isEmpty { deliver(targets, packet) }
    }
}
