import NIOConcurrencyHelpers
import NIOCore

/// Socket.IO server settings on top of the engine's.
public struct SocketIOOptions: Sendable {
    public var engine = EngineOptions()
    /// A client that opens a session but sends no CONNECT within this time is dropped (ms).
    public var connectTimeout: Int = 45_000
    /// Most binary attachments one packet may announce.
    public var maxAttachments: Int = 10
    public init() {}
}

/// A Socket.IO v4 server (protocol v5): namespaces of sockets over an Engine.IO server.
public final class SocketIOServer: Sendable {
    public let options: SocketIOOptions
    public let engine: EngineServer
    let group: any EventLoopGroup
    private let namespaces = NIOLockedValueBox<[String: Namespace]>([:])

    public init(options: SocketIOOptions = SocketIOOptions(), group: any EventLoopGroup) {
        self.options = options
        self.group = group
        engine = EngineServer(options: options.engine, group: group)
        _ = of("/")
        engine.onConnection { [weak self] session in
            guard let self else { return }
            Client(server: self, session: session).start()
        }
    }

    /// The namespace with this name, created on first use.
    public func of(_ name: String) -> Namespace {
        let name = name.hasPrefix("/") ? name : "/" + name
        return namespaces.withLockedValue { table in
            if let existing = table[name] { return existing }
            let namespace = Namespace(name: name, server: self)
            table[name] = namespace
            return namespace
        }
    }

    /// The main namespace, `/`.
    public var sockets: Namespace { of("/") }

    func existingNamespace(_ name: String) -> Namespace? {
        namespaces.withLockedValue { $0[name] }
    }

    /// Closes every session. Sockets hear "server shutting down"; clients see the transport
    /// close — not a DISCONNECT packet — so they reconnect when the server is back, as with the
    /// reference server's `io.close()`.
    public func shutdown() {
        for namespace in namespaces.withLockedValue({ Array($0.values) }) {
            for socket in namespace.allSockets { socket.closed(reason: "server shutting down") }
        }
        engine.closeAll()
    }
}
