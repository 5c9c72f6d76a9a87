/// `log.*`: what the server logs and how.
public struct LogSettings: Sendable, Equatable {
    /// Start-up, connections and problems, without per-message noise.
    public var level = LogLevel.info
    /// Readable on a terminal; `json` is for log collectors.
    public var format = LogFormat.text

    public init() {}
}

/// Log levels, spelled as swift-log's `Logger.Level` raw values so the server maps them 1:1.
public enum LogLevel: String, Sendable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}

/// Log line format.
public enum LogFormat: String, Sendable, CaseIterable {
    case text, json
}
