import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// Socket.IO server settings on top of the engine's.
public struct SocketIOOptions: Sendable {
    public var engine = EngineOptions()
    /// A client that opens a session but sends no CONNECT within this time is dropped (ms).
    public var connectTimeout: Int = 45_000
    /// Most binary attachments one packet may announce.
    public var maxAttachments: Int = 10
    /// How fast one client may send events, and how many may wait for their turn. Applied as
    /// packets arrive, before they are queued: a flood costs neither memory nor handler time.
    public var inboundLimit = InboundLimit()
    /// A budget shared by every socket with the same `Socket.budgetKey` (one user's devices),
    /// checked as packets arrive like `inboundLimit`; refusals count toward the same streak.
    public var sharedInboundLimit: SharedInboundLimit?
    /// Connection state recovery (`nil`: off, as in the reference server).
    public var connectionStateRecovery: ConnectionStateRecovery?
    public init() {}
}

/// The inbound budget of one client connection (all its namespaces together).
public struct InboundLimit: Sendable {
    /// Sustained events per second (a token bucket); `nil`, no rate limit.
    public var eventsPerSecond: Double?
    /// Events allowed at once above the rate.
    public var burst: Double = 60
    /// Events waiting for the one before them to be handled; more are refused.
    public var maxQueued: Int = 256
    /// Refusals in a row after which the connection is closed.
    public var refusalsBeforeDisconnect: Int = 200
    /// The ack a refused event gets when it asked for one.
    public var refusalAck: [SocketValue] = [["error": "Too many events"]]
    /// Emitted to the client for a refused event that asked for no ack (`nil`: nothing).
    public var refusalEvent: (name: String, args: [SocketValue])?

    public init(eventsPerSecond: Double? = nil) {
        self.eventsPerSecond = eventsPerSecond
    }
}

/// A Socket.IO v4 server (protocol v5): namespaces of sockets over an Engine.IO server.
public final class SocketIOServer: Sendable {
    public let options: SocketIOOptions
    public let engine: EngineServer
    let group: any EventLoopGroup
    /// The budgets of `options.sharedInboundLimit`, by key (nil without one).
    public let sharedBudgets: SharedBudgets?
    private let namespaces = NIOLockedValueBox<[String: Namespace]>([:])
    private let pendingWork = NIOLockedValueBox<(next: Int, tasks: [Int: Task<Void, Never>])>((0, [:]))
    private let failureHandler = LockedHandler<SocketIOFailure> { failure in
        // Nobody listening is no reason to be silent.
        FileHandle.standardError.write(Data((failure.description + "\n").utf8))
    }

    public init(options: SocketIOOptions = SocketIOOptions(), group: any EventLoopGroup) {
        self.options = options
        self.group = group
        engine = EngineServer(options: options.engine, group: group)
        sharedBudgets = options.sharedInboundLimit.map(SharedBudgets.init)
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

    /// Where failures go that no client request can answer for (a packet that does not decode,
    /// a handler that threw, a flooding client). Until set, they are written to standard error.
    public func onError(_ handler: @escaping @Sendable (SocketIOFailure) -> Void) {
        failureHandler.set(handler)
    }

    func report(_ failure: SocketIOFailure) {
        failureHandler(failure)
    }

    /// The main namespace, `/`.
    public var sockets: Namespace { of("/") }

    func existingNamespace(_ name: String) -> Namespace? {
        namespaces.withLockedValue { $0[name] }
    }

    /// Runs disconnect handlers in the background, tracked so that a graceful shutdown can wait
    /// for them (they often write to a database that is about to close).
    func track(_ work: @escaping @Sendable () async -> Void) {
        pendingWork.withLockedValue { state in
            let id = state.next
            state.next += 1
            // Created under the lock: the task's own removal waits until it is registered.
            state.tasks[id] = Task { [weak self] in
                await work()
                _ = self?.pendingWork.withLockedValue { $0.tasks.removeValue(forKey: id) }
            }
        }
    }

    /// `shutdown()`, then waits (up to `timeout`) for the disconnect handlers it set off.
    public func shutdownGracefully(timeout: Duration = .seconds(5)) async {
        shutdown()
        let tasks = pendingWork.withLockedValue { Array($0.tasks.values) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for task in tasks { await task.value } }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Closes every session. Sockets hear "server shutting down"; clients see the transport
    /// close — not a DISCONNECT packet — so they reconnect when the server is back, as with the
    /// reference server's `io.close()`.
    public func shutdown() {
        for namespace in namespaces.withLockedValue({ Array($0.values) }) {
            for socket in namespace.allSockets { socket.closed(reason: .serverShuttingDown) }
        }
        engine.closeAll()
    }
}
