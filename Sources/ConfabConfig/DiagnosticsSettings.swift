/// `diagnostics.*`: tools for testing the server, off unless asked for.
public struct DiagnosticsSettings: Sendable, Equatable {
    /// Off: an echo endpoint is a free amplifier for anyone who finds it.
    public var echoPath: String? = nil

    public init() {}
}
