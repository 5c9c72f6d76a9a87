/// What the reactor asked of libuv that libuv must answer with a callback, counted so
/// that closing the loop (and each test) can check every request was answered: each
/// handle we initialised closed exactly once and called back, each connect, shutdown
/// and write called back. Loop thread only.
///
/// The write counts are kept in debug builds only, so the write path pays nothing for
/// them in release.
struct LoopLedger: Equatable, CustomStringConvertible {
    /// `uv_*_init` calls that succeeded: handles we must close.
    var handlesOpened = 0
    /// `uv_close` calls.
    var closesRequested = 0
    /// Close callbacks (where each handle's memory is freed).
    var handlesClosed = 0
    /// `uv_tcp_connect` and `uv_shutdown` requests accepted, and their callbacks.
    var requestsStarted = 0
    var requestsCompleted = 0
    /// `uv_write` requests accepted, and their callbacks (debug builds).
    var writesStarted = 0
    var writesCompleted = 0

    var isBalanced: Bool {
        handlesOpened == closesRequested && closesRequested == handlesClosed
            && requestsStarted == requestsCompleted && writesStarted == writesCompleted
    }

    var description: String {
        "handles \(handlesOpened) opened / \(closesRequested) closing / \(handlesClosed) closed, "
            + "requests \(requestsStarted) / \(requestsCompleted), writes \(writesStarted) / \(writesCompleted)"
    }
}
