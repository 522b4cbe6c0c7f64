import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOWebSocket
import SocketIO
import Vapor
import WebSocketKit

extension Application {
    /// Mounts a Socket.IO server at `path` (default `/socket.io/`): long-polling GET and POST,
    /// CORS preflight, and the WebSocket upgrade on the same path. Sessions are closed when the
    /// application shuts down.
    /// `clientAddress` says who a request comes from (for `maxSessionsPerAddress`): by default the
    /// TCP peer; behind a reverse proxy, the address the proxy reports.
    public func socketIO(_ server: SocketIOServer, path: [PathComponent] = ["socket.io"],
                         clientAddress: @escaping @Sendable (Request) -> String? = { $0.remoteAddress?.ipAddress }) {
        let maxPayload = server.options.engine.maxPayload
        routes.get(path) { req async throws -> Response in
            let request = EngineRequest(req, remoteAddress: clientAddress(req))
            if req.headers.first(name: .upgrade)?.lowercased() == "websocket" {
                if let error = server.engine.websocketError(for: request) {
                    return Response(engine: EngineResponse(status: error.status, contentType: "application/json", body: error.body))
                }
                return Response.webSocketUpgrade(maxMessageSize: max(maxPayload, 1 << 14)) { ws, channel in
                    let socket = VaporEngineWebSocket(ws, channel: channel)
                    let receiver = server.engine.accept(socket, request: request)
                    ws.onText { _, text in receiver.receive(text: text) }
                    ws.onBinary { _, buffer in receiver.receive(binary: Array(buffer.readableBytesView)) }
                    ws.onClose.whenComplete { _ in receiver.closed() }
                }
            }
            return Response(engine: await server.engine.handle(request, body: nil))
        }
        // The body limit leaves room over maxPayload so the engine, not the framework, answers 413
        // for payloads just over it; far larger bodies are cut off by Vapor (also 413).
        routes.on(.POST, path, body: .collect(maxSize: ByteCount(value: maxPayload + 1024))) { req async throws -> Response in
            let body = req.body.data.map { String(buffer: $0) } ?? ""
            return Response(engine: await server.engine.handle(EngineRequest(req, remoteAddress: clientAddress(req)), body: body))
        }
        routes.on(.OPTIONS, path) { req async throws -> Response in
            Response(engine: await server.engine.handle(EngineRequest(req, remoteAddress: clientAddress(req)), body: nil))
        }
        // Other methods get the protocol's JSON 400 from the engine, not a 404 from the router.
        for method in [HTTPMethod.PUT, .DELETE, .PATCH] {
            routes.on(method, path, body: .collect(maxSize: ByteCount(value: maxPayload + 1024))) { req async throws -> Response in
                Response(engine: await server.engine.handle(EngineRequest(req, remoteAddress: clientAddress(req)), body: nil))
            }
        }
        lifecycle.use(SocketIOLifecycle(server: server))
    }
}

/// Closes the sessions and waits for their disconnect handlers before the rest of the app
/// (its database, say) shuts down; Vapor runs this before it stops the HTTP server.
private struct SocketIOLifecycle: LifecycleHandler {
    let server: SocketIOServer
    func shutdownAsync(_ application: Application) async { await server.shutdownGracefully() }
}

extension EngineRequest {
    init(_ req: Request, remoteAddress: String?) {
        let method: Method
        switch req.method {
        case .GET: method = .get
        case .POST: method = .post
        case .OPTIONS: method = .options
        default: method = .other
        }
        var query: [String: String] = [:]
        if let raw = req.url.query {
            for pair in raw.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = String(parts[0]).removingPercentEncoding ?? String(parts[0])
                let value = parts.count > 1 ? (String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(parts[1])) : ""
                query[key] = value
            }
        }
        self.init(method: method, query: query, headers: req.headers.map { (name: $0.name, value: $0.value) },
                  remoteAddress: remoteAddress)
    }
}

extension Response {
    convenience init(engine: EngineResponse) {
        var headers = HTTPHeaders([("Content-Type", engine.contentType)])
        for header in engine.headers { headers.add(name: header.name, value: header.value) }
        self.init(status: HTTPResponseStatus(statusCode: engine.status), headers: headers, body: .init(string: engine.body))
    }
}

/// Vapor's WebSocket as the engine sees it, with its channel (to stop reading it).
final class VaporEngineWebSocket: EngineWebSocket {
    let ws: WebSocket
    private let channel: any Channel
    private let resumeReading = NIOLockedValueBox<Scheduled<Void>?>(nil)

    init(_ ws: WebSocket, channel: any Channel) {
        self.ws = ws
        self.channel = channel
    }

    func send(text: String) { ws.send(text) }
    func send(binary: [UInt8]) { ws.send(binary) }
    func send(frame: ByteBuffer, isText: Bool) { ws.send(frame, opcode: isText ? .text : .binary) }
    func close() { _ = ws.close(code: .normalClosure) }

    /// Turns the channel's auto-read off until `deadline`: the kernel's buffers fill, then the
    /// peer's TCP window closes and its writes wait.
    func pauseReading(until deadline: NIODeadline) {
        let channel = self.channel
        channel.eventLoop.execute { [resumeReading] in
            guard channel.isActive else { return }
            channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
            let resume = channel.eventLoop.scheduleTask(deadline: deadline) {
                channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
            }
            resumeReading.withLockedValue { $0.map { $0.cancel() }; $0 = resume }
        }
    }
}

extension Response {
    /// A 101 that turns the connection into a WebSocket, as `Request.webSocket` does, but hands
    /// over the channel too, and bounds a message sent in fragments as a single frame is bounded
    /// (Vapor's default lets fragments accumulate without limit).
    static func webSocketUpgrade(maxMessageSize: Int, onUpgrade: @escaping @Sendable (WebSocket, any Channel) -> Void) -> Response {
        let response = Response(status: .switchingProtocols)
        response.upgrader = ChannelWebSocketUpgrader(maxMessageSize: maxMessageSize, onUpgrade: onUpgrade)
        return response
    }
}

private struct ChannelWebSocketUpgrader: Upgrader {
    let maxMessageSize: Int
    let onUpgrade: @Sendable (WebSocket, any Channel) -> Void

    func applyUpgrade(req: Request, res: Response) -> any HTTPServerProtocolUpgrader {
        let config = {
            var config = WebSocket.Configuration()
            config.maxAccumulatedFrameSize = maxMessageSize
            config.maxAccumulatedFrameCount = 256
            return config
        }()
        let onUpgrade = self.onUpgrade
        return NIOWebSocketServerUpgrader(
            maxFrameSize: maxMessageSize, automaticErrorHandling: false,
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture([:]) },
            upgradePipelineHandler: { channel, _ in
                WebSocket.server(on: channel, config: config) { ws in
                    // Between the aggregator and the WebSocket: its refusals close with 1009
                    // (message too big) rather than 1011 (server error).
                    let sync = channel.pipeline.syncOperations
                    if let aggregator = try? sync.handler(type: NIOWebSocketFrameAggregator.self) {
                        try? sync.addHandler(AggregatorErrorCodes(), position: .after(aggregator))
                    }
                    onUpgrade(ws, channel)
                }
            })
    }
}

/// Turns the frame aggregator's errors into the `NIOWebSocketError` WebSocketKit takes its close
/// code from: too big is 1009, fragments out of order are 1002 (protocol error). Anything else
/// WebSocketKit closes with 1011 (server error), which these are not.
private final class AggregatorErrorCodes: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let error = error as? NIOWebSocketFrameAggregator.Error else { return context.fireErrorCaught(error) }
        switch error {
        case .accumulatedFrameSizeIsTooLarge, .tooManyFragments:
            context.fireErrorCaught(NIOWebSocketError.invalidFrameLength)
        case .nonFinalFragmentSizeIsTooSmall, .receivedNewFrameWithoutFinishingPrevious, .didReceiveFragmentBeforeReceivingTextOrBinaryFrame:
            context.fireErrorCaught(NIOWebSocketError.fragmentedControlFrame)  // WebSocketKit's only way to 1002
        }
    }
}
