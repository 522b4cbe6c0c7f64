import NIOConcurrencyHelpers

/// What a connect middleware sees: the CONNECT packet's auth payload and the HTTP request that
/// opened the session.
public struct SocketHandshake: Sendable {
    public var auth: SocketValue?
    public var headers: [(name: String, value: String)]
    public var query: [String: String]
    public var address: String?
    /// What middleware learnt (the authenticated user, say), readable later from
    /// `socket.handshake.context`.
    public let context = HandshakeContext()

    init(auth: SocketValue?, request: EngineRequest) {
        self.auth = auth
        headers = request.headers
        query = request.query
        address = request.remoteAddress
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A small thread-safe store that connect middleware fills for the connection handler.
public final class HandshakeContext: Sendable {
    private let values = NIOLockedValueBox<[String: any Sendable]>([:])

    public subscript(key: String) -> (any Sendable)? {
        get { values.withLockedValue { $0[key] } }
        set { values.withLockedValue { $0[key] = newValue } }
    }
}

/// Thrown by a connect middleware to refuse a socket: the client gets CONNECT_ERROR
/// `{message, data}`.
public struct SocketConnectError: Error, Sendable {
    public var message: String
    public var data: SocketValue?

    public init(_ message: String, data: SocketValue? = nil) {
        self.message = message
        self.data = data
    }
}

/// An emit that waited for an ack and got none in time, or whose socket went away.
public enum SocketAckError: Error, Sendable {
    case timeout
    case disconnected
}
