import CoreMetrics
import Foundation
import NIOConcurrencyHelpers
import Prometheus
import SocketIO

/// The figures an operator watches, in Prometheus text at `GET /metrics`. One registry per
/// process, because swift-metrics has one metrics system per process: Vapor reports every HTTP
/// request into it (`http_requests_total` and `http_request_duration_seconds` by method, route
/// pattern and status), and Chatr adds its own below.
final class ChatrMetrics: Sendable {
    static let shared = ChatrMetrics()

    let registry = PrometheusCollectorRegistry()
    /// Messages stored by a send (not retries answered from the idempotency check).
    let messagesSent: Prometheus.Counter
    /// Packets handed to local sockets (one per socket per broadcast).
    private let deliveries: Prometheus.Counter
    private let socketsConnected: Prometheus.Gauge
    private let clusterNodes: Prometheus.Gauge
    private let clusterReady: Prometheus.Gauge
    private let clusterCounters: [String: Prometheus.Counter]
    /// Messages per batch of the batch writer (group commit, SQLite and PostgreSQL).
    let batchSizes: ValueHistogram
    /// PostgreSQL: the wait for a pooled connection before a send's statement runs.
    let poolWait: DurationHistogram
    /// Time to store one send (pool wait, batch wait and the statement).
    let storeTime: DurationHistogram
    private let lastCounts = NIOLockedValueBox<[String: Int]>([:])
    /// Web Push requests by what became of them (`PushQueue`).
    private let pushCounters: [PushResult: Prometheus.Counter]

    enum PushResult: String, CaseIterable, Sendable { case delivered, gone, rejected, failed, dropped }

    private init() {
        messagesSent = registry.makeCounter(name: "chatr_messages_sent_total", help: "Messages stored by a send")
        deliveries = registry.makeCounter(name: "chatr_deliveries_total", help: "Packets delivered to sockets of this instance")
        socketsConnected = registry.makeGauge(name: "chatr_sockets_connected", help: "Socket.IO sockets connected to this instance")
        clusterNodes = registry.makeGauge(name: "chatr_cluster_nodes", help: "Instances in the cluster, this one included")
        clusterReady = registry.makeGauge(name: "chatr_cluster_ready", help: "1 when both cluster connections to PostgreSQL are up")
        var counters: [String: Prometheus.Counter] = [:]
        for (name, help) in [("published", "Cluster envelopes sent (several share a notification)"), ("received", "Cluster envelopes received from other nodes"),
                             ("replays_requested", "Replays asked of other nodes after a gap"), ("missed", "Cluster messages lost for good"),
                             ("dropped", "Cluster messages dropped from a full queue"), ("reconnects", "LISTEN connection re-established")] {
            counters[name] = registry.makeCounter(name: "chatr_cluster_\(name)_total", help: help)
        }
        clusterCounters = counters
        batchSizes = registry.makeValueHistogram(name: "chatr_batch_writer_batch_size", buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
                                                 help: "Messages per batch of the batch writer (group commit)")
        let latency: [Duration] = [.microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                                   .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(1000)]
        poolWait = registry.makeDurationHistogram(name: "chatr_db_pool_wait_seconds", buckets: latency,
                                                  help: "Wait for a pooled PostgreSQL connection before a send")
        storeTime = registry.makeDurationHistogram(name: "chatr_message_store_seconds", buckets: latency,
                                                   help: "Time to store one sent message")
        let registry = self.registry
        pushCounters = Dictionary(uniqueKeysWithValues: PushResult.allCases.map { result in
            (result, registry.makeCounter(name: "chatr_push_total", labels: [("result", result.rawValue)],
                                          help: "Web Push notifications by result: delivered, gone (subscription forgotten), rejected, failed after retries, dropped (queue full)"))
        })
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }

    func pushes(_ result: PushResult) -> Prometheus.Counter { pushCounters[result]! }

    /// The text exposition, with the figures read at scrape time brought up to date first.
    func render(server: SocketIOServer?, cluster: ChatrCluster?) -> String {
        if let server {
            socketsConnected.set(Double(server.sockets.allSockets.count))
            advance(deliveries, "deliveries", to: server.sockets.deliveredPackets)
        }
        if let cluster {
            let stats = cluster.link.stats
            clusterNodes.set(Double(cluster.link.otherNodes.count + 1))
            clusterReady.set(cluster.isReady ? 1.0 : 0.0)
            let values: [String: Int] = ["published": stats.published, "received": stats.received, "replays_requested": stats.replaysRequested,
                                         "missed": Int(stats.missed), "dropped": stats.dropped, "reconnects": stats.reconnects]
            for (name, value) in values { advance(clusterCounters[name]!, "cluster_" + name, to: value) }
        }
        return registry.emitToString()
    }

    /// Counters kept elsewhere as totals: add what grew since the last scrape. (Several apps in
    /// one test process share this registry; a total that went down starts over from it.)
    private func advance(_ counter: Prometheus.Counter, _ key: String, to total: Int) {
        let delta = lastCounts.withLockedValue { last -> Int in
            let previous = last[key] ?? 0
            last[key] = total
            return total >= previous ? total - previous : total
        }
        if delta > 0 { counter.increment(by: Int64(delta)) }
    }
}
