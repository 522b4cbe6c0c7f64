import SocketIO

/// The cluster adapter of one namespace: everything acts here at once, through the in-memory
/// adapter it keeps as its local part, and is published for the other nodes to do the same on
/// theirs. Room membership itself is never shared — a socket's rooms live on its own node.
public final class PostgresAdapter: SocketAdapter {
    let local: LocalNamespace
    let localPart: InMemoryAdapter
    private unowned let cluster: PostgresCluster

    init(local: LocalNamespace, cluster: PostgresCluster) {
        self.local = local
        self.localPart = InMemoryAdapter(local)
        self.cluster = cluster
    }

    public func join(_ socketID: String, rooms: Set<String>) { localPart.join(socketID, rooms: rooms) }
    public func leave(_ socketID: String, room: String) { localPart.leave(socketID, room: room) }
    public func leaveAll(_ socketID: String) { localPart.leaveAll(socketID) }
    public func rooms(of socketID: String) -> Set<String> { localPart.rooms(of: socketID) }
    public func sockets(matching options: BroadcastOptions) -> Set<String> { localPart.sockets(matching: options) }

    public func broadcast(_ packet: EncodedPacket, options: BroadcastOptions) {
        localPart.broadcast(packet, options: options)
        cluster.publish(.broadcast(options, packet.messages), namespace: local.name)
    }

    public func addSockets(_ options: BroadcastOptions, rooms: Set<String>) {
        localPart.addSockets(options, rooms: rooms)
        cluster.publish(.join(options, rooms: rooms), namespace: local.name)
    }

    public func delSockets(_ options: BroadcastOptions, rooms: Set<String>) {
        localPart.delSockets(options, rooms: rooms)
        cluster.publish(.leave(options, rooms: rooms), namespace: local.name)
    }

    public func disconnectSockets(_ options: BroadcastOptions, close: Bool) {
        localPart.disconnectSockets(options, close: close)
        cluster.publish(.disconnect(options, close: close), namespace: local.name)
    }

    public func fetchSockets(_ options: BroadcastOptions, timeout: Duration) async -> [SocketSummary] {
        let mine = localPart.localSummaries(options)
        let replies = await cluster.request(namespace: local.name, timeout: timeout) { .fetchSockets(options, requestID: $0) }
        let theirs = replies.flatMap { reply in
            (reply.arrayValue ?? []).compactMap { item -> SocketSummary? in
                guard let id = item["id"]?.stringValue else { return nil }
                return SocketSummary(id: id, rooms: Set((item["rooms"]?.arrayValue ?? []).compactMap(\.stringValue)))
            }
        }
        return mine + theirs
    }

    public func serverSideEmit(_ event: String, _ args: [SocketValue]) {
        cluster.publish(.event(name: event, args: args, requestID: nil), namespace: local.name)
    }

    public func serverSideEmitWithAck(_ event: String, _ args: [SocketValue], timeout: Duration) async -> [SocketValue] {
        await cluster.request(namespace: local.name, timeout: timeout) { .event(name: event, args: args, requestID: $0) }
    }

    public var serverCount: Int { cluster.otherNodes.count + 1 }
}
