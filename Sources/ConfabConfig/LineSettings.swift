/// `line.*`: the plain-TCP line chat for `nc`/`telnet` users.
public struct LineSettings: Sendable, Equatable {
    /// Off: an unauthenticated plain-text port is something to open on purpose.
    public var enabled = false
    /// The classic port of line chat servers; 0 picks a free one.
    public var port = 7007
    /// A line is one chat message plus a command word; twice the default message limit
    /// leaves room for that and bounds what a client that never sends a newline costs.
    public var maxLineBytes = 8192

    public init() {}
}
