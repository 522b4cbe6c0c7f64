import NIOCore
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
                return req.webSocket(maxFrameSize: WebSocketMaxFrameSize(integerLiteral: max(maxPayload, 1 << 14))) { req, ws in
                    let socket = VaporEngineWebSocket(ws)
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

/// Vapor's WebSocket as the engine sees it.
final class VaporEngineWebSocket: EngineWebSocket {
    let ws: WebSocket
    init(_ ws: WebSocket) { self.ws = ws }
    func send(text: String) { ws.send(text) }
    func send(binary: [UInt8]) { ws.send(binary) }
    func send(frame: ByteBuffer, isText: Bool) { ws.send(frame, opcode: isText ? .text : .binary) }
    func close() { _ = ws.close(code: .normalClosure) }
}
