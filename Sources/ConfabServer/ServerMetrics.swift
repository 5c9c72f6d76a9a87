import ConfabReactor
import CoreMetrics
import Prometheus

/// `GET /metrics`: the reactor's and the server's plain counters, published through
/// swift-metrics into a Prometheus registry when scraped. The hot paths only add to
/// integers; the (locked) metric objects are touched once per scrape.
final class ServerMetrics {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    /// Totals already pushed into each counter, so a scrape adds only the difference.
    private var published: [String: Int] = [:]
    private var counterCache: [String: CoreMetrics.Counter] = [:]
    private var gaugeCache: [String: CoreMetrics.Gauge] = [:]

    init() {
        factory = PrometheusMetricsFactory(registry: registry)
    }

    struct Snapshot {
        var reactor: ReactorStats
        var server: ServerCounters
        var webSockets: Int
        var tcpConnections: Int
        var users: Int
        var rooms: Int
        var cluster: ClusterSnapshot?
    }

    struct ClusterSnapshot {
        var up: Bool
        var redis: RedisCounters
        var roundTripMs: Double?
        var undecodable: Int
    }

    /// The Prometheus text exposition of the current values.
    func render(_ snapshot: Snapshot) -> [UInt8] {
        let stats = snapshot.reactor
        gauge("confab_connections", snapshot.webSockets)
        gauge("confab_tcp_connections", snapshot.tcpConnections)
        gauge("confab_users", snapshot.users)
        gauge("confab_rooms", snapshot.rooms)
        gauge("confab_event_loop_lag_seconds", Double(stats.loopLagMs) / 1000)
        gauge("confab_event_loop_lag_max_seconds", Double(stats.maxLoopLagMs) / 1000)
        counter("confab_connections_total", stats.connectionsAccepted)
        counter("confab_accept_errors_total", stats.acceptErrors)
        counter("confab_messages_in_total", snapshot.server.messagesIn)
        counter("confab_messages_out_total", snapshot.server.messagesOut)
        counter("confab_frames_out_total", stats.framesOut)
        counter("confab_bytes_in_total", stats.bytesIn)
        counter("confab_bytes_out_total", stats.bytesOut)
        counter("confab_slow_consumers_dropped_total", stats.slowConsumersDropped)
        counter("confab_handshake_timeouts_total", stats.handshakeTimeouts)
        counter("confab_idle_timeouts_total", stats.idleTimeouts)
        for (code, count) in stats.protocolErrors.merging(snapshot.server.protocolErrors, uniquingKeysWith: +) {
            counter("confab_protocol_errors_total", count, [("code", "\(code)")])
        }
        for (status, count) in snapshot.server.handshakeFailures {
            counter("confab_handshake_failures_total", count, [("status", "\(status)")])
        }
        for (result, count) in snapshot.server.forwardedHeaders {
            counter("confab_forwarded_headers_total", count, [("result", result)])
        }
        for (reason, count) in snapshot.server.refused {
            counter("confab_connections_refused_total", count, [("reason", reason)])
        }
        if let cluster = snapshot.cluster {
            gauge("confab_cluster_up", cluster.up ? 1 : 0)
            gauge("confab_cluster_redis_rtt_seconds", (cluster.roundTripMs ?? 0) / 1000)
            counter("confab_cluster_reconnects_total", cluster.redis.reconnects)
            counter("confab_cluster_commands_total", cluster.redis.commandsSent)
            counter("confab_cluster_messages_received_total", cluster.redis.messagesReceived)
            counter("confab_cluster_messages_undecodable_total", cluster.undecodable)
        }
        var out: [UInt8] = []
        registry.emit(into: &out)
        return out
    }

    private func counter(_ name: String, _ total: Int, _ labels: [(String, String)] = []) {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        let metric = counterCache[key] ?? {
            let made = CoreMetrics.Counter(label: name, dimensions: labels, factory: factory)
            counterCache[key] = made
            return made
        }()
        let delta = total - published[key, default: 0]
        if delta > 0 { metric.increment(by: delta) }
        published[key] = total
    }

    private func gauge(_ name: String, _ value: some BinaryInteger) {
        gauge(name, Double(value))
    }

    private func gauge(_ name: String, _ value: Double) {
        let metric = gaugeCache[name] ?? {
            let made = CoreMetrics.Gauge(label: name, factory: factory)
            gaugeCache[name] = made
            return made
        }()
        metric.record(value)
    }
}
