import NIOConcurrencyHelpers

/// The default adapter: room membership in two maps under one lock; everything acts on this
/// node's sockets, the only ones there are. A cluster adapter keeps one as its local part.
public final class InMemoryAdapter: SocketAdapter {
    private struct Tables {
        var members: [String: Set<String>] = [:]   // room → socket ids
        var memberships: [String: Set<String>] = [:] // socket id → rooms
    }

    private let tables = NIOLockedValueBox(Tables())
    public let local: LocalNamespace

    public init(_ local: LocalNamespace) {
        self.local = local
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
        tables.withLockedValue { Self.matching(options, in: $0) }
    }

    private static func matching(_ options: BroadcastOptions, in tables: Tables) -> Set<String> {
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

    public func broadcast(_ packet: EncodedPacket, options: BroadcastOptions) {
        local.deliver(sockets(matching: options), packet, options)
    }

    /// Matched and joined under one lock: a socket leaving meanwhile cannot be joined back.
    public func addSockets(_ options: BroadcastOptions, rooms: Set<String>) {
        guard !rooms.isEmpty else { return }
        tables.withLockedValue { tables in
            for id in Self.matching(options, in: tables) {
                tables.memberships[id, default: []].formUnion(rooms)
                for room in rooms { tables.members[room, default: []].insert(id) }
            }
        }
    }

    public func delSockets(_ options: BroadcastOptions, rooms: Set<String>) {
        tables.withLockedValue { tables in
            for id in Self.matching(options, in: tables) {
                for room in rooms {
                    tables.memberships[id]?.remove(room)
                    tables.members[room]?.remove(id)
                    if tables.members[room]?.isEmpty == true { tables.members[room] = nil }
                }
            }
        }
    }

    public func disconnectSockets(_ options: BroadcastOptions, close: Bool) {
        let targets = sockets(matching: options)
        if !targets.isEmpty { local.disconnect(targets, close) }
    }

    public func fetchSockets(_ options: BroadcastOptions, timeout: Duration) async -> [SocketSummary] {
        localSummaries(options)
    }

    /// This node's matching sockets with their rooms.
    public func localSummaries(_ options: BroadcastOptions) -> [SocketSummary] {
        tables.withLockedValue { tables in
            Self.matching(options, in: tables).map { SocketSummary(id: $0, rooms: tables.memberships[$0] ?? []) }
        }
    }

    /// No other nodes: nobody to tell.
    public func serverSideEmit(_ event: String, _ args: [SocketValue]) {}

    public func serverSideEmitWithAck(_ event: String, _ args: [SocketValue], timeout: Duration) async -> [SocketValue] { [] }

    public var serverCount: Int { 1 }
}
