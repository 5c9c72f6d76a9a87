import CLibUV

/// A repeating `uv_timer_t` that calls a Swift closure on the loop thread.
public final class Timer {
    let handle: UnsafeMutablePointer<uv_timer_t>
    let body: () -> Void
    private var isClosed = false

    init(loop: UnsafeMutablePointer<uv_loop_t>, milliseconds: UInt64, keepsLoopAlive: Bool, body: @escaping () -> Void) {
        handle = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
        self.body = body
        uv_timer_init(loop, handle)
        setContext(handle.cast(to: uv_handle_t.self), self)
        uv_timer_start(handle, { timer in
            context(timer?.cast(to: uv_handle_t.self), as: Timer.self)?.body()
        }, milliseconds, milliseconds)
        if !keepsLoopAlive { uv_unref(handle.cast(to: uv_handle_t.self)) }
    }

    /// Stops the timer and frees its handle; safe to call more than once.
    public func cancel() {
        guard !isClosed else { return }
        isClosed = true
        uv_timer_stop(handle)
        closeAndFree(handle)
    }
}

extension Reactor {
    /// Calls `body` every `milliseconds` on the loop thread until cancelled.
    /// A timer that does not keep the loop alive lets `run()` return once real work is done.
    @discardableResult
    public func every(milliseconds: UInt64, keepsLoopAlive: Bool = false, _ body: @escaping () -> Void) -> Timer {
        let timer = Timer(loop: loop, milliseconds: milliseconds, keepsLoopAlive: keepsLoopAlive, body: body)
        timers.append(timer)
        return timer
    }
}
