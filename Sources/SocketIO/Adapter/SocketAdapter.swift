/// Who a broadcast goes to: sockets in any of `rooms` (every socket when empty), minus sockets
/// in any of `except`.
public struct BroadcastOptions: Sendable, Hashable {
    public var rooms: Set<String>
    public var except: Set<String>

    public init(rooms: Set<String> = [], except: Set<String> = []) {
        self.rooms = rooms
        self.except = except
    }
}

/// Rooms and broadcasts of one namespace. The in-memory adapter keeps them in this process; a
/// cluster adapter wraps it, publishing what crosses nodes and applying the other nodes' work
/// locally through the same entry points — the server code does not change.
///
/// The first group acts on this node's sockets only (a socket lives on one node); the second
/// acts on every node's (`sockets`, `fetchSockets`: only those the adapter can see).
public protocol SocketAdapter: AnyObject, Sendable {
    func join(_ socketID: String, rooms: Set<String>)
    func leave(_ socketID: String, room: String)
    func leaveAll(_ socketID: String)
    func rooms(of socketID: String) -> Set<String>
    /// Local socket ids matching `options`.
    func sockets(matching options: BroadcastOptions) -> Set<String>

    /// Sends an encoded packet to every matching socket (on every node, for a cluster adapter).
    func broadcast(_ packet: EncodedPacket, options: BroadcastOptions)
    /// The matching sockets, wherever they are, join `rooms` (`socketsJoin`).
    func addSockets(_ options: BroadcastOptions, rooms: Set<String>)
    /// The matching sockets, wherever they are, leave `rooms` (`socketsLeave`).
    func delSockets(_ options: BroadcastOptions, rooms: Set<String>)
    /// The matching sockets, wherever they are, are disconnected (`close`: their connections too).
    func disconnectSockets(_ options: BroadcastOptions, close: Bool)
    /// The matching sockets of every node that answers within `timeout`.
    func fetchSockets(_ options: BroadcastOptions, timeout: Duration) async -> [SocketSummary]
    /// Runs the other nodes' handlers for `event` (never this node's).
    func serverSideEmit(_ event: String, _ args: [SocketValue])
    /// Like `serverSideEmit`, returning the replies of the nodes that answer within `timeout`.
    func serverSideEmitWithAck(_ event: String, _ args: [SocketValue], timeout: Duration) async -> [SocketValue]
    /// Nodes in the cluster, this one included (1 for the in-memory adapter).
    var serverCount: Int { get }
}

/// A socket as other nodes describe it.
public struct SocketSummary: Sendable, Hashable {
    public var id: String
    public var rooms: Set<String>

    public init(id: String, rooms: Set<String>) {
        self.id = id
        self.rooms = rooms
    }
}

/// What an adapter may do with this node's side of a namespace; the namespace hands it over.
public struct LocalNamespace: Sendable {
    public let name: String
    /// Sends a broadcast to local sockets by id (`options` says whom it was for: connection state
    /// recovery keeps it for sockets in those rooms that are away). Called for every broadcast,
    /// even one that reaches no local socket.
    public let deliver: @Sendable (Set<String>, EncodedPacket, BroadcastOptions) -> Void
    /// Disconnects local sockets by id; `close` ends their connections.
    public let disconnect: @Sendable (Set<String>, _ close: Bool) -> Void
    /// Runs this node's handler for a server-side event from another node; its reply, if any.
    public let serverSideEvent: @Sendable (_ event: String, _ args: [SocketValue]) async -> SocketValue?
    /// Failures no caller can be told about (a notification that does not parse, a lost link).
    public let report: @Sendable (_ what: String, _ error: any Error) -> Void

    public init(name: String, deliver: @escaping @Sendable (Set<String>, EncodedPacket, BroadcastOptions) -> Void,
                disconnect: @escaping @Sendable (Set<String>, Bool) -> Void,
                serverSideEvent: @escaping @Sendable (String, [SocketValue]) async -> SocketValue?,
                report: @escaping @Sendable (String, any Error) -> Void) {
        self.name = name
        self.deliver = deliver
        self.disconnect = disconnect
        self.serverSideEvent = serverSideEvent
        self.report = report
    }
}

/// A packet encoded once for many recipients: the text frame and its binary attachments.
public struct EncodedPacket: Sendable {
    public let prepared: PreparedMessages
    /// Set on a broadcast numbered for connection state recovery: its offset (also the last
    /// argument in the packet).
    public internal(set) var offset: String?
    /// Its number in the recovery log, with `offset`.
    var recoveryNumber: UInt64?
    public var messages: [EngineMessage] { prepared.messages }

    public init(_ packet: SocketPacket) {
        let encoded = SocketCodec.encode(packet)
        prepared = PreparedMessages([.text(encoded.text)] + encoded.attachments.map { .binary($0) })
    }

    public init(messages: [EngineMessage]) {
        prepared = PreparedMessages(messages)
    }
}
