import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// The Engine.IO v4 server: handshakes, long-polling requests and WebSockets, handed over by a
/// web framework (see `SocketIOVapor`). Above it, the Socket.IO layer sees only sessions,
/// whole messages and close reasons.
public final class EngineServer: Sendable {
    public let options: EngineOptions
    private let group: any EventLoopGroup
    private let sessions = NIOLockedValueBox<Sessions>(Sessions())
    /// The open sessions, and how many each client address holds (for `maxSessionsPerAddress`).
    private struct Sessions {
        var byID: [String: EngineSocket] = [:]
        var perAddress: [String: Int] = [:]
    }
    private let connectionHandler = LockedHandler<EngineSocket> { _ in }

    public init(options: EngineOptions = EngineOptions(), group: any EventLoopGroup) {
        self.options = options
        self.group = group
    }

    /// Called for every new session, before any of its messages are delivered.
    public func onConnection(_ handler: @escaping @Sendable (EngineSocket) -> Void) {
        connectionHandler.set(handler)
    }

    public var sessionCount: Int { sessions.withLockedValue { $0.byID.count } }

    public func session(_ id: String) -> EngineSocket? { sessions.withLockedValue { $0.byID[id] } }

    // MARK: HTTP long-polling

    /// A GET or POST on the engine path (or an OPTIONS preflight). `body` is the POST body.
    public func handle(_ request: EngineRequest, body: String?) async -> EngineResponse {
        var response = await respond(request, body: body)
        response.headers.append(contentsOf: corsHeaders(for: request))
        return response
    }

    private func respond(_ request: EngineRequest, body: String?) async -> EngineResponse {
        if request.method == .options, options.corsOrigins != nil {
            return EngineResponse(status: 204, body: "", headers: [
                ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
                ("Access-Control-Allow-Headers", request.header("Access-Control-Request-Headers") ?? "content-type"),
            ])
        }
        if let error = validate(request, transport: "polling") { return .error(error) }
        // Only GET and POST mean anything here (OPTIONS is CORS, above): anything else is the
        // protocol's 400, never the framework's 404.
        if request.method == .other || request.method == .options {
            return .error(request.query["sid"] == nil ? .badHandshakeMethod : .badRequest)
        }
        guard let sid = request.query["sid"] else {
            guard request.method == .get else { return .error(.badHandshakeMethod) }
            return openPollingSession(request)
        }
        guard let session = session(sid) else { return .error(.unknownSession) }
        switch request.method {
        case .get:
            return await session.poll()
        case .post:
            guard let body else { return .error(.badRequest) }
            guard body.utf8.count <= options.maxPayload else {
                return EngineResponse(status: 413, contentType: "application/json", body: #"{"code":3,"message":"Payload too large"}"#)
            }
            return await session.receivePost(body)
        default:
            return .error(.badRequest)
        }
    }

    private func validate(_ request: EngineRequest, transport expected: String) -> EngineHTTPError? {
        guard request.query["EIO"] == "4" else { return .unsupportedVersion }
        guard let transport = request.query["transport"], ["polling", "websocket"].contains(transport) else { return .unknownTransport }
        guard transport == expected else { return .badRequest }
        if transport == "polling" && !options.allowPolling { return .unknownTransport }
        if transport == "websocket" && !options.allowWebSocket { return .unknownTransport }
        return nil
    }

    private func openPollingSession(_ request: EngineRequest) -> EngineResponse {
        guard let session = makeSession(request, transport: .polling) else { return .error(.tooManySessions) }
        let open = EnginePacket(.open, openPayload(sid: session.id, upgrades: options.allowWebSocket ? ["websocket"] : []))
        announce(session)
        return EngineResponse(status: 200, body: EngineCodec.encode(open))
    }

    private func corsHeaders(for request: EngineRequest) -> [(name: String, value: String)] {
        guard let allowed = options.corsOrigins, let origin = request.header("Origin") else { return [] }
        guard allowed.contains("*") || allowed.contains(origin) else { return [] }
        return [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Credentials", "true"), ("Vary", "Origin")]
    }

    // MARK: WebSocket

    /// Checks a WebSocket request before the framework upgrades it; `nil` means go ahead.
    public func websocketError(for request: EngineRequest) -> EngineHTTPError? {
        if let error = validate(request, transport: "websocket") { return error }
        if let sid = request.query["sid"] {
            guard let session = session(sid) else { return .unknownSession }
            guard session.transportName == "polling" else { return .badRequest }
        } else if isFull(request.remoteAddress) {
            return .tooManySessions
        }
        return nil
    }

    /// Takes an upgraded WebSocket: a new session (no `sid`), or the probe that upgrades a
    /// polling session. The framework forwards the socket's frames to the returned receiver.
    public func accept(_ socket: any EngineWebSocket, request: EngineRequest) -> EngineWebSocketReceiver {
        if let sid = request.query["sid"] {
            guard let session = session(sid), session.attachProbe(socket) else {
                socket.close()
                return EngineWebSocketReceiver(session: nil, socket: socket)
            }
            return EngineWebSocketReceiver(session: session, socket: socket)
        }
        // Checked before the upgrade too; this catches handshakes that raced past that check.
        guard let session = makeSession(request, transport: .websocket(socket)) else {
            socket.close()
            return EngineWebSocketReceiver(session: nil, socket: socket)
        }
        socket.send(text: EngineCodec.encode(EnginePacket(.open, openPayload(sid: session.id, upgrades: []))))
        announce(session)
        return EngineWebSocketReceiver(session: session, socket: socket)
    }

    // MARK: Sessions

    /// A new session, counted against its address (a request without one is not counted); nil
    /// when the address has its maximum.
    private func makeSession(_ request: EngineRequest, transport: EngineSocket.Transport) -> EngineSocket? {
        let address = request.remoteAddress
        let admitted = sessions.withLockedValue { sessions in
            guard let address else { return true }
            let held = sessions.perAddress[address] ?? 0
            if let max = options.maxSessionsPerAddress, held >= max { return false }
            sessions.perAddress[address] = held + 1
            return true
        }
        guard admitted else { return nil }
        let session = EngineSocket(id: Self.newSessionID(), handshake: request, transport: transport, options: options,
                                   eventLoop: group.next(), removeFromServer: { [weak self] id in
                                       self?.sessions.withLockedValue { sessions in
                                           guard sessions.byID.removeValue(forKey: id) != nil, let address else { return }
                                           let left = (sessions.perAddress[address] ?? 1) - 1
                                           sessions.perAddress[address] = left > 0 ? left : nil
                                       }
                                   })
        sessions.withLockedValue { $0.byID[session.id] = session }
        return session
    }

    private func isFull(_ address: String?) -> Bool {
        guard let max = options.maxSessionsPerAddress, let address else { return false }
        return sessions.withLockedValue { ($0.perAddress[address] ?? 0) >= max }
    }

    private func announce(_ session: EngineSocket) {
        connectionHandler(session)
        session.startHeartbeat()
    }

    private func openPayload(sid: String, upgrades: [String]) -> String {
        let upgradeList = upgrades.map { "\"\($0)\"" }.joined(separator: ",")
        return #"{"sid":"\#(sid)","upgrades":[\#(upgradeList)],"pingInterval":\#(options.pingInterval),"pingTimeout":\#(options.pingTimeout),"maxPayload":\#(options.maxPayload)}"#
    }

    /// 120 random bits as 20 base64url characters (the reference server's ids are 15 random bytes
    /// in base64url). Two draws from the system generator, where a byte at a time made 15 system
    /// calls — and every connect takes three ids (the session's, the socket's, its recovery pid).
    static func newSessionID() -> String {
        var generator = SystemRandomNumberGenerator()
        let halves: [UInt64] = [generator.next(), generator.next()]
        var characters = [UInt8]()
        characters.reserveCapacity(20)
        for half in halves {
            for sixBits in 0..<10 { characters.append(base64URL[Int((half >> (6 * UInt64(sixBits))) & 63)]) }
        }
        return String(decoding: characters, as: UTF8.self)
    }

    private static let base64URL = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Closes every session (server shutdown).
    public func closeAll(reason: String = "server shutting down") {
        let all = sessions.withLockedValue { Array($0.byID.values) }
        for session in all { session.close(reason: reason) }
    }
}

/// Where the framework sends a WebSocket's frames.
public struct EngineWebSocketReceiver: Sendable {
    let session: EngineSocket?
    let socket: any EngineWebSocket

    public func receive(text: String) { session?.receive(text: text, from: socket) }
    public func receive(binary: [UInt8]) { session?.receive(binary: binary, from: socket) }
    public func closed() { session?.socketClosed(socket) }
}
