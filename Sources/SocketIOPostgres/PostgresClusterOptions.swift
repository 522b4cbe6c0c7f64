import Logging
import PostgresNIO

/// How a node talks to the others through PostgreSQL.
public struct PostgresClusterOptions: Sendable {
    /// The connection settings (a dedicated LISTEN connection and a publishing connection).
    public var connection: PostgresConnection.Configuration
    /// The channel every node LISTENs on.
    public var channel = "socket_io"
    /// Envelopes larger than this go through `attachmentTable` (PostgreSQL refuses NOTIFY
    /// payloads of 8,000 bytes or more).
    public var payloadLimit = 7_900
    public var attachmentTable = "socket_io_attachments"
    /// Attachment rows are deleted after this long (replays may still read them meanwhile).
    public var attachmentRetention: Duration = .seconds(300)
    /// How often a node says it is alive; after `heartbeatTimeout` of silence it is gone.
    public var heartbeatInterval: Duration = .seconds(5)
    public var heartbeatTimeout: Duration = .seconds(15)
    /// How long `fetchSockets`/`serverSideEmitWithAck` wait for the other nodes.
    public var requestTimeout: Duration = .seconds(5)
    /// How many of its own recent messages a node keeps to publish again on request.
    public var replayCapacity = 10_000
    /// How long a gap in another node's messages is waited on before it is given up: longer than
    /// a reconnection back-off plus a heartbeat, so a sender that was away too can answer.
    public var gapTimeout: Duration = .seconds(12)
    /// Messages waiting while PostgreSQL is unreachable; beyond, the oldest are dropped (reported).
    public var maxQueued = 50_000
    /// Reconnection back-off bounds.
    public var reconnectDelay: (first: Duration, max: Duration) = (.milliseconds(200), .seconds(5))
    /// Notifications sent in one round trip at most.
    public var maxBatch = 256
    public var logger = Logger(label: "socketio.postgres")

    public init(connection: PostgresConnection.Configuration) {
        self.connection = connection
    }
}
