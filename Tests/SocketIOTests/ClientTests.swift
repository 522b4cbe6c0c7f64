import NIOConcurrencyHelpers
@testable import SocketIOClient
import SocketIOVapor
import XCTVapor
@testable import SocketIO

/// The Swift client against the library's server, over real WebSockets.
final class ClientTests: XCTestCase {
    var app: Application!
    var server: SocketIOServer!
    var url = ""

    override func setUp() async throws {
        app = try await Application.make(.testing)
        server = SocketIOServer(group: app.eventLoopGroup)
        server.sockets.use { socket in
            guard socket.handshake.auth?["token"] == "secret" else { throw SocketConnectError("Authentication error") }
        }
        server.sockets.onConnection { socket in
            socket.emit("welcome", .string(socket.id))
            socket.on("echo") { _, args in args }
        }
        app.socketIO(server)
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        url = "http://127.0.0.1:\(try XCTUnwrap(app.http.server.shared.localAddress?.port))"
    }

    override func tearDown() async throws {
        await server.shutdownGracefully()
        await app.server.shutdown()
        try await app.asyncShutdown()
    }

    func client(token: String = "secret") -> SocketIOClient {
        var options = SocketIOClient.Options(url: url)
        options.auth = ["token": .string(token)]
        return SocketIOClient(options: options, group: app.eventLoopGroup)
    }

    /// The Engine.IO path keeps its trailing slash (`/socket.io/?EIO=4…`): without it
    /// python-socketio answers 404 (Tests/interop/test_bench_peer.py tries one for real).
    func testTheEndpointKeepsTheTrailingSlashAndAnyPathPrefix() {
        typealias E = SocketIOClient.Endpoint
        XCTAssertEqual(SocketIOClient.endpoint(url: "http://127.0.0.1:3001", path: "/socket.io"),
                       E(scheme: "ws", host: "127.0.0.1", port: 3001, path: "/socket.io/", query: "EIO=4&transport=websocket"))
        XCTAssertEqual(SocketIOClient.endpoint(url: "https://chat.example.com/team/", path: "/socket.io"),
                       E(scheme: "wss", host: "chat.example.com", port: 443, path: "/team/socket.io/", query: "EIO=4&transport=websocket"))
        XCTAssertEqual(SocketIOClient.endpoint(url: "ws://localhost", path: "socket.io/").path, "/socket.io/")
    }

    func testConnectEmitAckAndEvents() async throws {
        let c = client()
        let welcome = NIOLockedValueBox<String?>(nil)
        c.on("welcome") { args in welcome.withLockedValue { $0 = args.first?.stringValue } }
        try await c.connect()
        XCTAssertTrue(c.isConnected)
        let echoed = try await c.emitWithAck("echo", ["a", 1, ["b": .binary([1, 2])]])
        XCTAssertEqual(echoed, ["a", 1, ["b": .binary([1, 2])]])
        let deadline = Date().addingTimeInterval(2)
        while welcome.withLockedValue({ $0 }) == nil && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertNotNil(welcome.withLockedValue { $0 })
        c.disconnect()
    }

    func testRefusedConnectionThrows() async throws {
        do {
            try await client(token: "wrong").connect()
            XCTFail("connected with a wrong token")
        } catch SocketIOClient.ClientError.connectRefused(let data) {
            XCTAssertEqual(data?["message"], "Authentication error")
        }
    }
}
