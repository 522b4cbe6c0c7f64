import NIOCore
/// What the engine needs to know of an HTTP request; the web framework fills it in.
public struct EngineRequest: Sendable {
    public enum Method: Sendable { case get, post, options, other }

    public var method: Method
    public var query: [String: String]
    public var headers: [(name: String, value: String)]
    public var remoteAddress: String?

    public init(method: Method, query: [String: String], headers: [(name: String, value: String)], remoteAddress: String? = nil) {
        self.method = method
        self.query = query
        self.headers = headers
        self.remoteAddress = remoteAddress
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// An HTTP answer from the engine.
public struct EngineResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: String
    public var headers: [(name: String, value: String)]

    public init(status: Int, contentType: String = "text/plain; charset=UTF-8", body: String, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    static func error(_ error: EngineHTTPError) -> EngineResponse {
        EngineResponse(status: error.status, contentType: "application/json", body: error.body)
    }

    static let ok = EngineResponse(status: 200, body: "ok")
}

/// The engine's side of a WebSocket; the web framework implements it.
public protocol EngineWebSocket: AnyObject, Sendable {
    func send(text: String)
    func send(binary: [UInt8])
    /// A frame already encoded (the same buffer goes to every recipient of a broadcast, without
    /// a copy). The default goes through `send(text:)` / `send(binary:)`.
    func send(frame: ByteBuffer, isText: Bool)
    func close()
    /// Stops reading frames from the peer until `deadline` (back-pressure on a client over its
    /// budget): what it sends meanwhile stays in TCP buffers. The default reads on.
    func pauseReading(until deadline: NIODeadline)
}

extension EngineWebSocket {
    public func pauseReading(until deadline: NIODeadline) {}

    public func send(frame: ByteBuffer, isText: Bool) {
        if isText { send(text: String(buffer: frame)) } else { send(binary: Array(frame.readableBytesView)) }
    }
}

/// Engine.IO messages prepared once for many sessions: kept as messages for polling sessions,
/// and encoded as WebSocket frame payloads (`4…` text, raw binary) for WebSocket sessions.
public struct PreparedMessages: Sendable {
    public let messages: [EngineMessage]
    let frames: [(payload: ByteBuffer, isText: Bool)]

    public init(_ messages: [EngineMessage]) {
        self.messages = messages
        frames = messages.map { message in
            switch message {
            case .text(let text):
                var buffer = ByteBufferAllocator().buffer(capacity: text.utf8.count + 1)
                buffer.writeInteger(UInt8(ascii: "4"))
                buffer.writeString(text)
                return (buffer, true)
            case .binary(let bytes):
                return (ByteBuffer(bytes: bytes), false)
            }
        }
    }
}

/// A whole Engine.IO message for the layer above.
public enum EngineMessage: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
}
