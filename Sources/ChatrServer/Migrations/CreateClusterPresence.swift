import Fluent
import SQLKit

/// Cluster mode (`ClusterPresence`): the live nodes, by heartbeat, and how many devices each user
/// has on each node. Created everywhere (empty unless `CLUSTER=postgres`).
struct CreateClusterPresence: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.create(table: "cluster_nodes")
            .column("node_id", type: .text, .primaryKey(autoIncrement: false))
            .column("started_at", type: .custom(SQLRaw("TIMESTAMPTZ")), .notNull)
            .column("heartbeat_at", type: .custom(SQLRaw("TIMESTAMPTZ")), .notNull)
            // HMAC of a fixed text under the node's JWT_SECRET: nodes compare secrets without sharing them.
            .column("secret_fingerprint", type: .text, .notNull)
            .run()
        try await sql.create(table: "cluster_presence")
            .column("user_id", type: .custom(SQLRaw("UUID")), .notNull)
            .column("node_id", type: .text, .notNull)
            .column("devices", type: .int, .notNull)
            .primaryKey("user_id", "node_id")
            .run()
        try await sql.create(index: "cluster_presence_by_node").on("cluster_presence").column("node_id").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.drop(table: "cluster_presence").run()
        try await sql.drop(table: "cluster_nodes").run()
    }
}
