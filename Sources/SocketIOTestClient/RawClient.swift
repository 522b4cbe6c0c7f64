import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import SocketIO
import WebSocketKit

/// A minimal Socket.IO client over a real WebSocket that speaks the protocol by hand, so tests
/// can send exactly the packets they mean (bad ones included) and see every frame. It answers
/// the server's pings itself.
/// @unchecked: every mutable field is read and written under `lock`, except `ws`, which is set
/// once in `connect`/`open` before the client is handed to anyone.
public final class RawClient: @unchecked Sendable {
    private let lock = NIOLock()
    private var frames: [EngineMessage] = []
    private var consumed = 0
    private var closed = false
    private var ackCounter = 1000

    public var allFrames: [EngineMessage] { lock.withLock { frames } }

    func nextAckID() -> Int { lock.withLock { ackCounter += 1; return ackCounter } }
    public private(set) var ws: WebSocket!

    public var isClosed: Bool { lock.withLock { closed } }

    public static func connect(port: Int, group: any EventLoopGroup, query: String = "", headers: [String: String] = [:]) async throws -> RawClient {
        let client = try await open(port: port, group: group, query: query, headers: headers)
        let open = try await client.nextText()
        guard open.hasPrefix("0{") else { throw RawClientError.unexpectedFrame(open) }
        return client
    }

    /// A WebSocket that upgrades the polling session `sid` (`2probe` → `3probe`, then `5`), as
    /// a browser client does after its first polls.
    public static func upgrade(port: Int, group: any EventLoopGroup, sid: String) async throws -> RawClient {
        let client = try await open(port: port, group: group, query: "&sid=\(sid)")
        client.send("2probe")
        let pong = try await client.nextText()
        guard pong == "3probe" else { throw RawClientError.unexpectedFrame(pong) }
        client.send("5")
        return client
    }

    /// A WebSocket on the engine path, with no expectations about what comes first.
    public static func open(port: Int, group: any EventLoopGroup, query: String = "", headers: [String: String] = [:]) async throws -> RawClient {
        let client = RawClient()
        let promise = group.next().makePromise(of: WebSocket.self)
        var httpHeaders = HTTPHeaders()
        for (name, value) in headers { httpHeaders.add(name: name, value: value) }
        WebSocket.connect(to: "ws://127.0.0.1:\(port)/socket.io/?EIO=4&transport=websocket\(query)", headers: httpHeaders,
                          configuration: WebSocketClient.Configuration(maxFrameSize: 1 << 24), on: group) { ws in
            ws.onText { ws, text in
                if text == "2" { ws.send("3"); return }
                client.lock.withLock { client.frames.append(.text(text)) }
            }
            ws.onBinary { _, buffer in client.lock.withLock { client.frames.append(.binary(Array(buffer.readableBytesView))) } }
            ws.onClose.whenComplete { _ in client.lock.withLock { client.closed = true } }
            promise.succeed(ws)
        }.whenFailure { promise.fail($0) }
        client.ws = try await promise.futureResult.get()
        return client
    }

    /// The next frame, waiting up to `timeout`.
    public func next(timeout: Duration = .seconds(5)) async throws -> EngineMessage {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let frame: EngineMessage? = lock.withLock {
                guard frames.count > consumed else { return nil }
                consumed += 1
                return frames[consumed - 1]
            }
            if let frame { return frame }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw RawClientError.noFrame
    }

    public func nextText(timeout: Duration = .seconds(5)) async throws -> String {
        guard case .text(let text) = try await next(timeout: timeout) else { throw RawClientError.unexpectedBinary }
        return text
    }

    /// True when no frame arrives within `timeout`.
    public func staysSilent(for timeout: Duration = .milliseconds(300)) async -> Bool {
        (try? await next(timeout: timeout)) == nil
    }

    /// Waits until a text frame equal to `text` has arrived (without consuming frames).
    public func waitForFrame(_ text: String, timeout: Duration = .seconds(5)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if allFrames.contains(.text(text)) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return allFrames.contains(.text(text))
    }

    /// Waits until the server has closed the WebSocket.
    public func waitUntilClosed(timeout: Duration = .seconds(5)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if isClosed { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return isClosed
    }

    public func send(_ text: String) { ws.send(text) }
    public func send(binary: [UInt8]) { ws.send(binary) }
    public func close() async { try? await ws.close().get() }

    /// CONNECT to a namespace; returns the server's answer (`40{"sid":…}` or `44…`).
    public func connectNamespace(_ namespace: String = "/", auth: String? = nil) async throws -> String {
        let prefix = namespace == "/" ? "" : namespace + ","
        send("40" + prefix + (auth ?? ""))
        return try await nextText()
    }
}

// MARK: Event-level helpers

extension RawClient {
    /// Every event received so far (by name, in order), and every ack by id — without consuming
    /// frames, so tests can wait for several things in any order.
    public func received() -> (events: [(name: String, args: [SocketValue])], acks: [Int: [SocketValue]]) {
        var events: [(String, [SocketValue])] = []
        var acks: [Int: [SocketValue]] = [:]
        for frame in allFrames {
            guard case .text(let text) = frame, text.hasPrefix("4"),
                  let (packet, _) = try? SocketCodec.decode(String(text.dropFirst())) else { continue }
            if packet.type == .event, var args = packet.data?.arrayValue, let name = args.first?.stringValue {
                args.removeFirst()
                events.append((name, args))
            } else if packet.type == .ack, let id = packet.id {
                acks[id] = packet.data?.arrayValue ?? []
            }
        }
        return (events, acks)
    }

    /// Sends an event; with `ack`, asks for an acknowledgement with that id.
    public func emit(_ event: String, _ args: SocketValue..., ack: Int? = nil) {
        let packet = SocketPacket(.event, id: ack, data: .array([.string(event)] + args))
        send("4" + SocketCodec.encode(packet).text)
    }

    /// Sends an event and waits for its ack's first argument.
    public func call(_ event: String, _ args: SocketValue..., timeout: Duration = .seconds(5)) async throws -> SocketValue {
        let id = nextAckID()
        let packet = SocketPacket(.event, id: id, data: .array([.string(event)] + args))
        send("4" + SocketCodec.encode(packet).text)
        return try await waitUntil(timeout) { self.received().acks[id].map { $0.first ?? .null } }
    }

    /// The `count`-th event called `name` (1-based), waiting for it.
    @discardableResult
    public func waitForEvent(_ name: String, count: Int = 1, timeout: Duration = .seconds(5)) async throws -> [SocketValue] {
        try await waitUntil(timeout) {
            let matching = self.received().events.filter { $0.name == name }
            return matching.count >= count ? matching[count - 1].args : nil
        }
    }

    /// How many events called `name` arrived so far.
    public func count(_ name: String) -> Int { received().events.filter { $0.name == name }.count }

    private func waitUntil<T>(_ timeout: Duration, _ check: @escaping () -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let value = check() { return value }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw RawClientError.noFrame
    }
}

public enum RawClientError: Error { case noFrame, unexpectedBinary, unexpectedFrame(String) }
