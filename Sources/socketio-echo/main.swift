import Foundation
import SocketIO
import SocketIOVapor
import Vapor

/// A conformance fixture built only on the SocketIO library:
/// `socketio-echo --port 3000 --path /socket.io --ping-interval 300 --ping-timeout 200 --connect-timeout 1000`.
/// On connect to `/` or `/custom` it emits `auth` with the client's auth payload; it echoes
/// `message` as `message-back`; any event with an ack id is acked with its arguments.
/// For room tests it also understands `join` (room) and `to-room` (room, event, args…).
func option(_ name: String, default value: String) -> String {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: "--" + name), index + 1 < arguments.count else { return value }
    return arguments[index + 1]
}

var options = SocketIOOptions()
options.engine.pingInterval = Int(option("ping-interval", default: "25000")) ?? 25_000
options.engine.pingTimeout = Int(option("ping-timeout", default: "20000")) ?? 20_000
options.engine.maxPayload = Int(option("max-payload", default: "1000000")) ?? 1_000_000
options.engine.corsOrigins = ["*"]
options.connectTimeout = Int(option("connect-timeout", default: "45000")) ?? 45_000

let app = try await Application.make(Environment(name: "development", arguments: [
    "socketio-echo", "serve", "--hostname", option("host", default: "127.0.0.1"), "--port", option("port", default: "3000"),
]))
let server = SocketIOServer(options: options, group: app.eventLoopGroup)
for namespace in [server.of("/"), server.of("/custom")] {
    namespace.onConnection { socket in
        socket.emit("auth", socket.handshake.auth ?? .object([:]))
        socket.on("message") { socket, args in
            socket.emit("message-back", args)
            return args
        }
        // Beyond the fixture's contract, for room tests: join a room; relay to a room.
        socket.on("join") { socket, args in
            if let room = args.first?.stringValue { socket.join(room) }
            return args
        }
        socket.on("to-room") { socket, args in
            guard let room = args.first?.stringValue, let event = args.dropFirst().first?.stringValue else { return nil }
            socket.to(room).emit(event, Array(args.dropFirst(2)))
            return args
        }
        socket.onUnhandled { _, args in args }
    }
}
let path = option("path", default: "/socket.io").split(separator: "/").map { PathComponent(stringLiteral: String($0)) }
app.socketIO(server, path: path)
do {
    try await app.execute()
} catch {
    try? await app.asyncShutdown()
    throw error
}
try await app.asyncShutdown()
