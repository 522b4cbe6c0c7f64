import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import SocketIO
import WebSocketKit

/// A Socket.IO v4 client over WebSocket (Engine.IO v4, protocol v5), sharing the server's
/// codecs. Light enough that one process holds thousands: one WebSocket and a few small
/// tables per connection, all on the event loops it is given.
public final class SocketIOClient: Sendable {
    public struct Options: Sendable {
        /// `http://host:port` or `ws://host:port`.
        public var url: String
        public var path = "/socket.io"
        public var namespace = "/"
        public var auth: SocketValue?
        public var headers: [String: String] = [:]
        /// Reconnect with exponential backoff (0.5 s doubling to 10 s) after an unexpected close.
        public var reconnect = false
        /// Connection state recovery: ask for offsets (`recover: true` in CONNECT), keep the
        /// server's pid and the last offset, and present them when reconnecting, so that the
        /// server replays what was missed. The offset is taken off the events' arguments.
        public var recover = false

        public init(url: String) { self.url = url }
    }

    public enum ClientError: Error, Sendable {
        case connectRefused(SocketValue?)
        case notConnected
        case ackTimeout
        case closed
    }

    public typealias Handler = @Sendable ([SocketValue]) -> Void

    private struct State {
        var ws: WebSocket?
        var connected = false
        var closedByUser = false
        var handlers: [String: Handler] = [:]
        var pendingAcks: [Int: CheckedContinuation<[SocketValue], any Error>] = [:]
        var nextAckID = 0
        var connectWaiter: CheckedContinuation<Void, any Error>?
        var assembler = BinaryAssembler()
        var attempts = 0
        var sid: String?
        var pid: String?
        var offset: String?
        var recovered = false
    }

    public let options: Options
    private let group: any EventLoopGroup
    private let state = NIOLockedValueBox(State())
    private let connectionHandlers = NIOLockedValueBox<[@Sendable (Bool) -> Void]>([])

    public init(options: Options, group: any EventLoopGroup) {
        self.options = options
        self.group = group
    }

    public var isConnected: Bool { state.withLockedValue { $0.connected } }

    /// Whether the current connection took the previous one back (same socket id, missed
    /// events replayed), with `Options.recover`.
    public var recovered: Bool { state.withLockedValue { $0.recovered } }

    /// The socket id the server gave on the last CONNECT.
    public var socketID: String? { state.withLockedValue { $0.sid } }

    /// Calls `handler` for every `event` from the server.
    public func on(_ event: String, _ handler: @escaping Handler) {
        state.withLockedValue { $0.handlers[event] = handler }
    }

    /// Called with true on every (re)connection and false on every loss.
    public func onConnectionChange(_ handler: @escaping @Sendable (Bool) -> Void) {
        connectionHandlers.withLockedValue { $0.append(handler) }
    }

    /// Opens the WebSocket and connects to the namespace; throws on CONNECT_ERROR.
    public func connect() async throws {
        state.withLockedValue { $0.closedByUser = false }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            state.withLockedValue { $0.connectWaiter = continuation }
            open()
        }
    }

    public func emit(_ event: String, _ args: SocketValue...) { emit(event, args) }

    public func emit(_ event: String, _ args: [SocketValue]) {
        send(SocketPacket(.event, namespace: options.namespace, data: .array([.string(event)] + args)))
    }

    /// Emits and waits for the server's ack.
    public func emitWithAck(_ event: String, _ args: [SocketValue], timeout: TimeAmount = .seconds(10)) async throws -> [SocketValue] {
        let id = state.withLockedValue { state -> Int in
            defer { state.nextAckID += 1 }
            return state.nextAckID
        }
        let timer = group.next().scheduleTask(in: timeout) { [weak self] in
            self?.state.withLockedValue { $0.pendingAcks.removeValue(forKey: id) }?.resume(throwing: ClientError.ackTimeout)
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            let connected = state.withLockedValue { state -> Bool in
                guard state.connected else { return false }
                state.pendingAcks[id] = continuation
                return true
            }
            guard connected else { continuation.resume(throwing: ClientError.notConnected); return }
            send(SocketPacket(.event, namespace: options.namespace, id: id, data: .array([.string(event)] + args)))
        }
    }

    public func disconnect() {
        let ws = state.withLockedValue { state -> WebSocket? in
            state.closedByUser = true
            return state.ws
        }
        if let ws {
            send(SocketPacket(.disconnect, namespace: options.namespace))
            ws.close(code: .normalClosure, promise: nil)
        }
    }

    // MARK: Transport

    /// Where the WebSocket goes, in parts: given as one string, WebSocketKit reads the path with
    /// `URL.path`, which drops the trailing slash — and `/socket.io?EIO=4…` is a 404 for
    /// python-socketio and the reference server (Chatr's own server took both).
    struct Endpoint: Equatable {
        var scheme: String
        var host: String
        var port: Int
        var path: String
        var query: String
    }

    static func endpoint(url: String, path: String) -> Endpoint {
        let parsed = URLComponents(string: url)
        let secure = parsed?.scheme == "https" || parsed?.scheme == "wss"
        let prefix = (parsed?.path ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let enginePath = "/" + [prefix, path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))].filter { !$0.isEmpty }.joined(separator: "/") + "/"
        return Endpoint(scheme: secure ? "wss" : "ws", host: parsed?.host ?? "localhost", port: parsed?.port ?? (secure ? 443 : 80),
                        path: enginePath, query: "EIO=4&transport=websocket")
    }

    private func open() {
        var headers = HTTPHeaders()
        for (name, value) in options.headers { headers.add(name: name, value: value) }
        // WebSocketKit's default 16 KB frame limit is too small: a presence:update listing a few
        // hundred online contacts is bigger, and an oversized frame closes the connection.
        let configuration = WebSocketClient.Configuration(maxFrameSize: 1 << 24)
        let endpoint = Self.endpoint(url: options.url, path: options.path)
        WebSocket.connect(scheme: endpoint.scheme, host: endpoint.host, port: endpoint.port, path: endpoint.path, query: endpoint.query,
                          headers: headers, configuration: configuration, on: group) { [weak self] ws in
            guard let self else { return }
            self.state.withLockedValue { $0.ws = ws }
            ws.onText { [weak self] ws, text in self?.receive(text: text, ws: ws) }
            ws.onBinary { [weak self] _, buffer in self?.receive(binary: Array(buffer.readableBytesView)) }
            ws.onClose.whenComplete { [weak self] _ in self?.closed() }
        }.whenFailure { [weak self] error in
            guard let self else { return }
            let waiter = self.state.withLockedValue { state in defer { state.connectWaiter = nil }; return state.connectWaiter }
            if let waiter { waiter.resume(throwing: error) } else { self.scheduleReconnect() }
        }
    }

    private func send(_ packet: SocketPacket) {
        guard let ws = state.withLockedValue({ $0.ws }) else { return }
        let encoded = SocketCodec.encode(packet)
        ws.send("4" + encoded.text)
        for attachment in encoded.attachments { ws.send(attachment) }
    }

    /// `<base36>-<base36>`, the form of the server's offsets.
    static func looksLikeOffset(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { part in
            !part.isEmpty && part.utf8.allSatisfy { (48...57).contains($0) || (97...122).contains($0) }
        }
    }

    /// The auth, with what recovery needs when it is on.
    private var connectPayload: SocketValue? {
        guard options.recover else { return options.auth }
        var payload = options.auth?.objectValue ?? [:]
        payload["recover"] = true
        let (pid, offset) = state.withLockedValue { ($0.pid, $0.offset) }
        if let pid, let offset {
            payload["pid"] = .string(pid)
            payload["offset"] = .string(offset)
        }
        return .object(payload)
    }

    private func receive(text: String, ws: WebSocket) {
        guard let first = text.first else { return }
        switch first {
        case "0":  // Engine.IO open: connect to the namespace
            let prefix = options.namespace == "/" ? "" : options.namespace + ","
            ws.send("40" + prefix + (connectPayload.map { JSONCodec.serialize($0) } ?? ""))
        case "2":
            ws.send("3")
        case "4":
            guard let (packet, attachments) = try? SocketCodec.decode(String(text.dropFirst())) else { return }
            if packet.type == .binaryEvent || packet.type == .binaryAck {
                if let complete = try? state.withLockedValue({ state throws(SocketDecodingError) in try state.assembler.start(packet, attachments: attachments) }) {
                    handle(complete)
                }
            } else {
                handle(packet)
            }
        default:
            break
        }
    }

    private func receive(binary: [UInt8]) {
        if let complete = try? state.withLockedValue({ state throws(SocketDecodingError) in try state.assembler.add(binary) }) {
            handle(complete)
        }
    }

    private func handle(_ packet: SocketPacket) {
        switch packet.type {
        case .connect:
            let waiter = state.withLockedValue { state in
                let sid = packet.data?["sid"]?.stringValue
                let pid = packet.data?["pid"]?.stringValue
                state.recovered = state.pid != nil && pid == state.pid && sid == state.sid
                if !state.recovered { state.offset = nil }
                state.sid = sid
                state.pid = pid
                state.connected = true
                state.attempts = 0
                defer { state.connectWaiter = nil }
                return state.connectWaiter
            }
            waiter?.resume()
            for handler in connectionHandlers.withLockedValue({ $0 }) { handler(true) }
        case .connectError:
            let waiter = state.withLockedValue { state in defer { state.connectWaiter = nil; state.closedByUser = true }; return state.connectWaiter }
            waiter?.resume(throwing: ClientError.connectRefused(packet.data))
            state.withLockedValue { $0.ws }?.close(code: .normalClosure, promise: nil)
        case .event:
            guard var args = packet.data?.arrayValue, let name = args.first?.stringValue else { return }
            args.removeFirst()
            let handler = state.withLockedValue { state -> Handler? in
                // A broadcast's offset comes last (we asked for offsets).
                if options.recover, state.pid != nil, packet.id == nil, let offset = args.last?.stringValue, Self.looksLikeOffset(offset) {
                    state.offset = offset
                    args.removeLast()
                }
                return state.handlers[name]
            }
            handler?(args)
        case .ack:
            guard let id = packet.id else { return }
            state.withLockedValue { $0.pendingAcks.removeValue(forKey: id) }?.resume(returning: packet.data?.arrayValue ?? [])
        case .disconnect:
            // The server disconnected us on purpose: no reconnection (as in the reference client).
            state.withLockedValue { $0.closedByUser = true }
            state.withLockedValue { $0.ws }?.close(code: .normalClosure, promise: nil)
        default:
            break
        }
    }

    private func closed() {
        let (acks, waiter, wasConnected, reconnect) = state.withLockedValue { state in
            defer {
                state.pendingAcks = [:]
                state.connectWaiter = nil
                state.connected = false
                state.ws = nil
                state.assembler = BinaryAssembler()
            }
            return (Array(state.pendingAcks.values), state.connectWaiter, state.connected, !state.closedByUser && options.reconnect)
        }
        for ack in acks { ack.resume(throwing: ClientError.closed) }
        waiter?.resume(throwing: ClientError.closed)
        if wasConnected { for handler in connectionHandlers.withLockedValue({ $0 }) { handler(false) } }
        if reconnect { scheduleReconnect() }
    }

    private func scheduleReconnect() {
        let attempt = state.withLockedValue { state -> Int? in
            guard !state.closedByUser else { return nil }
            state.attempts += 1
            return state.attempts
        }
        guard let attempt else { return }
        let delay = min(10_000, 500 * (1 << min(attempt - 1, 5)))
        group.next().scheduleTask(in: .milliseconds(Int64(delay))) { [weak self] in self?.open() }
    }
}
