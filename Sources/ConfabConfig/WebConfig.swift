/// `web.*`: the browser page and its static files.
public struct WebConfig: Sendable, Equatable {
    /// Relative to the current directory, which is the repository root for `Scripts/serve`.
    public var root = "web"

    public init() {}
}
