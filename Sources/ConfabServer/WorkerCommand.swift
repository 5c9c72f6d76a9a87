import ConfabConfig

/// How `confab serve --workers N` starts each worker: `serve` with the supervisor's own flags
/// and environment, plus the port they all share, the worker's number, and a node id of its own.
public struct WorkerCommand: Sendable {
    /// The supervisor's `serve` flags, without `--port` and `--workers`.
    public var flags: [String]
    public var environment: [String: String]
    /// The HTTP port every worker listens on (chosen by the supervisor when configured as 0).
    public var port: Int
    /// The line chat port, when the supervisor chose it (line.port 0).
    public var linePort: Int?
    /// A configured `cluster.nodeId`, which each worker extends (generated ids are unique anyway).
    public var nodeId: String?

    public init(flags: [String], environment: [String: String], port: Int, linePort: Int?, nodeId: String?) {
        self.flags = flags
        self.environment = environment
        self.port = port
        self.linePort = linePort
        self.nodeId = nodeId
    }

    /// Arguments and `NAME=value` environment of worker `worker`'s `start`-th start (0: the first).
    public func callAsFunction(worker: Int, start: Int) -> (arguments: [String], environment: [String]) {
        var environment = self.environment
        // These keys have no flag, so the environment outranks whatever the file says.
        if let linePort, let name = ConfigKey.named("line.port")?.environmentName {
            environment[name] = String(linePort)
        }
        if let nodeId, let name = ConfigKey.named("cluster.nodeId")?.environmentName {
            environment[name] = Self.nodeID(nodeId, worker: worker, start: start)
        }
        let arguments = ["serve"] + flags + ["--port", String(port), "--worker", String(worker)]
        return (arguments, environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
    }

    /// `base-2` for worker 2, then `base-2.1`, `base-2.2`… when it is restarted: a restarted
    /// worker is a new node, never taken for the one that died (whose users the cluster
    /// still has to time out), as with a generated id. Within the key's 64 characters.
    static func nodeID(_ base: String, worker: Int, start: Int) -> String {
        let suffix = start == 0 ? "-\(worker)" : "-\(worker).\(start)"
        return String(base.prefix(64 - suffix.count)) + suffix
    }
}
