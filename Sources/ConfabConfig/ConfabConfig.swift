// The whole configuration as one value. Every field starts at a conservative default, so an
// empty config file (or none) gives a server that is safe to run on a laptop.

/// Confab's configuration: defaults < YAML file < environment < command-line flags.
///
/// Build it with ``ConfigLoader/load(file:environment:overrides:)``; `ConfabConfig()` is the
/// all-defaults value. Every key is listed once in ``ConfigKey/all``, which drives the loader,
/// the environment names, `confab serve --help` and `docs/CONFIG.md`.
public struct ConfabConfig: Sendable, Equatable {
    public var server = ServerConfig()
    public var web = WebConfig()
    public var chat = ChatSettings()
    public var websocket = WebSocketSettings()
    public var http = HTTPSettings()
    public var log = LogSettings()
    public var line = LineSettings()
    public var diagnostics = DiagnosticsSettings()
    public var compat = CompatSettings()
    public var cluster = ClusterSettings()
    public var auth = AuthSettings()

    public init() {}
}
