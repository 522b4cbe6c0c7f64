/// Why a socket went away, as the reference server names it (`reason` in its `disconnect`
/// event), so handlers can tell a client that left from one that was lost.
public enum DisconnectReason: String, Sendable, CustomStringConvertible {
    /// The client closed its connection (or it dropped: the TCP connection ended).
    case transportClose = "transport close"
    /// The transport failed: a second concurrent poll, a broken WebSocket.
    case transportError = "transport error"
    /// The client stopped answering pings.
    case pingTimeout = "ping timeout"
    /// The client sent something that is not the protocol.
    case parseError = "parse error"
    /// The client left this namespace (DISCONNECT packet); its connection may stay.
    case clientNamespaceDisconnect = "client namespace disconnect"
    /// The server called `disconnect()`.
    case serverNamespaceDisconnect = "server namespace disconnect"
    /// The server closed the whole connection (`disconnect(close: true)`, or a flooding client).
    case forcedServerClose = "forced server close"
    /// The server is stopping.
    case serverShuttingDown = "server shutting down"

    public var description: String { rawValue }

    /// The connection was lost rather than ended on purpose: connection state recovery keeps
    /// the socket's state for the client to take back.
    var isRecoverable: Bool {
        switch self {
        case .transportClose, .transportError, .pingTimeout: true
        default: false
        }
    }

    /// From an Engine.IO close reason.
    init(engineReason: String) {
        switch engineReason {
        case "transport close": self = .transportClose
        case "ping timeout": self = .pingTimeout
        case "parse error": self = .parseError
        case "server shutting down": self = .serverShuttingDown
        case "forced close", "forced server close", "connect timeout": self = .forcedServerClose
        default: self = .transportError
        }
    }
}

/// A key for typed data kept with a socket (`socket[MyKey.self] = value`), instead of a
/// string-keyed bag of `Any` that every reader has to cast.
public protocol SocketStorageKey {
    associatedtype Value: Sendable
}

/// Something went wrong that no client request can answer for: the library reports it here,
/// with its context, rather than dropping it. Set a handler with `SocketIOServer.onError`.
public struct SocketIOFailure: Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// A packet that does not decode; the connection is closed.
        case parse
        /// A connect middleware failed with something other than `SocketConnectError`.
        case connect
        /// An event handler threw.
        case handler
        /// A client sent events faster than allowed, or more than can wait; refused, and
        /// disconnected if it kept on.
        case flood
        /// The adapter could not reach, or understand, the other nodes.
        case adapter
    }

    public var kind: Kind
    public var sessionID: String
    public var socketID: String?
    public var namespace: String?
    public var event: String?
    public var error: any Error

    public var description: String {
        var parts = ["socket.io \(kind.rawValue) failure", "session=\(sessionID)"]
        if let socketID { parts.append("socket=\(socketID)") }
        if let namespace { parts.append("namespace=\(namespace)") }
        if let event { parts.append("event=\(event)") }
        parts.append("error=\(String(describing: error))")
        return parts.joined(separator: " ")
    }
}

/// A client's events over the limit (`SocketIOOptions.inboundLimit`).
public struct SocketFloodError: Error, Sendable, CustomStringConvertible {
    /// Refused since the client's last report (one per `floodReportInterval` at most).
    public var refused: Int
    /// Refused in a row, up to this one.
    public var inARow: Int
    public var queued: Int
    public var description: String { "refused \(refused) event(s) since the last report, \(inARow) in a row, \(queued) waiting" }
}
