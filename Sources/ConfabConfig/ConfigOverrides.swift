/// Values from command-line flags, the highest layer. nil means the flag was not given.
public struct ConfigOverrides: Sendable, Equatable {
    /// `--host`
    public var host: String?
    /// `--port`
    public var port: Int?
    /// `--log-level`
    public var logLevel: String?
    /// `--web-root`
    public var webRoot: String?

    public init(host: String? = nil, port: Int? = nil, logLevel: String? = nil,
                webRoot: String? = nil) {
        self.host = host
        self.port = port
        self.logLevel = logLevel
        self.webRoot = webRoot
    }

    /// (flag, key path, value) for each flag given, in a fixed order.
    var entries: [(flag: String, path: String, value: String)] {
        var out: [(flag: String, path: String, value: String)] = []
        if let host { out.append(("--host", "server.host", host)) }
        if let port { out.append(("--port", "server.port", String(port))) }
        if let logLevel { out.append(("--log-level", "log.level", logLevel)) }
        if let webRoot { out.append(("--web-root", "web.root", webRoot)) }
        return out
    }
}
