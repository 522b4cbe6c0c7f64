import NIOConcurrencyHelpers
import NIOCore
import WebSocketKit
import XCTest
@testable import SocketIO

/// A minimal Socket.IO client over a real WebSocket that speaks the protocol by hand, so tests
/// can send exactly the packets they mean (bad ones included) and see every frame. It answers
/// the server's pings itself.
final class RawClient: @unchecked Sendable {
    private let lock = NIOLock()
    private var frames: [EngineMessage] = []
    private var consumed = 0
    private var closed = false
    private(set) var ws: WebSocket!

    var isClosed: Bool { lock.withLock { closed } }

    static func connect(port: Int, group: any EventLoopGroup, query: String = "") async throws -> RawClient {
        let client = RawClient()
        let promise = group.next().makePromise(of: WebSocket.self)
        WebSocket.connect(to: "ws://127.0.0.1:\(port)/socket.io/?EIO=4&transport=websocket\(query)", on: group) { ws in
            ws.onText { ws, text in
                if text == "2" { ws.send("3"); return }
                client.lock.withLock { client.frames.append(.text(text)) }
            }
            ws.onBinary { _, buffer in client.lock.withLock { client.frames.append(.binary(Array(buffer.readableBytesView))) } }
            ws.onClose.whenComplete { _ in client.lock.withLock { client.closed = true } }
            promise.succeed(ws)
        }.whenFailure { promise.fail($0) }
        client.ws = try await promise.futureResult.get()
        let open = try await client.nextText()
        XCTAssertTrue(open.hasPrefix("0{"), open)
        return client
    }

    /// The next frame, waiting up to `timeout`.
    func next(timeout: Duration = .seconds(5)) async throws -> EngineMessage {
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

    func nextText(timeout: Duration = .seconds(5)) async throws -> String {
        guard case .text(let text) = try await next(timeout: timeout) else { throw RawClientError.unexpectedBinary }
        return text
    }

    /// True when no frame arrives within `timeout`.
    func staysSilent(for timeout: Duration = .milliseconds(300)) async -> Bool {
        (try? await next(timeout: timeout)) == nil
    }

    /// Waits until the server has closed the WebSocket.
    func waitUntilClosed(timeout: Duration = .seconds(5)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if isClosed { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return isClosed
    }

    func send(_ text: String) { ws.send(text) }
    func send(binary: [UInt8]) { ws.send(binary) }
    func close() async { try? await ws.close().get() }

    /// CONNECT to a namespace; returns the server's answer (`40{"sid":…}` or `44…`).
    func connectNamespace(_ namespace: String = "/", auth: String? = nil) async throws -> String {
        let prefix = namespace == "/" ? "" : namespace + ","
        send("40" + prefix + (auth ?? ""))
        return try await nextText()
    }
}

enum RawClientError: Error { case noFrame, unexpectedBinary }
