import CLibUV

/// A `uv_signal_t`: the signal is delivered on the loop thread, where the handler may
/// touch any state, instead of in an async-signal context.
final class SignalWatcher {
    let handle: UnsafeMutablePointer<uv_signal_t>
    let body: (Int32) -> Void
    private var isClosed = false

    init(loop: UnsafeMutablePointer<uv_loop_t>, signal: Int32, body: @escaping (Int32) -> Void) {
        handle = UnsafeMutablePointer<uv_signal_t>.allocate(capacity: 1)
        self.body = body
        uv_signal_init(loop, handle)
        setContext(handle.cast(to: uv_handle_t.self), self)
        uv_signal_start(handle, { watcher, signum in
            context(watcher?.cast(to: uv_handle_t.self), as: SignalWatcher.self)?.body(signum)
        }, signal)
        // Watching a signal is no reason to keep running.
        uv_unref(handle.cast(to: uv_handle_t.self))
    }

    func cancel() {
        guard !isClosed else { return }
        isClosed = true
        uv_signal_stop(handle)
        closeAndFree(handle)
    }
}

extension Reactor {
    /// Calls `body` on the loop thread each time `signal` arrives.
    public func onSignal(_ signal: Int32, _ body: @escaping (Int32) -> Void) {
        signals.append(SignalWatcher(loop: loop, signal: signal, body: body))
    }
}
