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
/// cluster adapter wraps it, publishing broadcasts to other nodes and delivering theirs locally
/// through the same `broadcast` entry point — the server code does not change.
public protocol SocketAdapter: AnyObject, Sendable {
    func join(_ socketID: String, rooms: Set<String>)
    func leave(_ socketID: String, room: String)
    func leaveAll(_ socketID: String)
    func rooms(of socketID: String) -> Set<String>
    /// Local socket ids matching `options`.
    func sockets(matching options: BroadcastOptions) -> Set<String>
    /// Sends an encoded packet to every matching socket (on every node, for a cluster adapter).
    func broadcast(_ packet: EncodedPacket, options: BroadcastOptions)
}

/// A packet encoded once for many recipients: the text frame and its binary attachments.
public struct EncodedPacket: Sendable {
    public let prepared: PreparedMessages
    public var messages: [EngineMessage] { prepared.messages }

    public init(_ packet: SocketPacket) {
        let encoded = SocketCodec.encode(packet)
        prepared = PreparedMessages([.text(encoded.text)] + encoded.attachments.map { .binary($0) })
    }

    public init(messages: [EngineMessage]) {
        prepared = PreparedMessages(messages)
    }
}
