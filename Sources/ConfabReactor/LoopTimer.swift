import CLibUV

/// A `uv_timer_t` that calls a Swift closure on the loop thread, repeatedly or once.
/// (Named apart from Foundation's `Timer`, which clients of this module also import.)
public final class LoopTimer {
    let handle: UnsafeMutablePointer<uv_timer_t>
    let body: () -> Void
    let repeats: Bool
    unowned(unsafe) let reactor: Reactor
    private var isClosed = false

    init(reactor: Reactor, milliseconds: UInt64, repeats: Bool, keepsLoopAlive: Bool, body: @escaping () -> Void) {
        handle = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
        self.body = body
        self.repeats = repeats
        self.reactor = reactor
        uv_timer_init(reactor.loop, handle)
        setContext(handle.cast(to: uv_handle_t.self), self)
        uv_timer_start(handle, { timer in
            guard let timer = context(timer?.cast(to: uv_handle_t.self), as: LoopTimer.self) else { return }
            if !timer.repeats { timer.cancel() }
            timer.body()
        }, milliseconds, repeats ? milliseconds : 0)
        if !keepsLoopAlive { uv_unref(handle.cast(to: uv_handle_t.self)) }
    }

    /// Stops the timer and frees its handle; safe to call more than once.
    public func cancel() {
        guard !isClosed else { return }
        isClosed = true
        uv_timer_stop(handle)
        closeAndFree(handle)
        reactor.timers.removeAll { $0 === self }
    }
}

extension Reactor {
    /// Calls `body` every `milliseconds` on the loop thread until cancelled.
    /// A timer that does not keep the loop alive lets `run()` return once real work is done.
    @discardableResult
    public func every(milliseconds: UInt64, keepsLoopAlive: Bool = false, _ body: @escaping () -> Void) -> LoopTimer {
        let timer = LoopTimer(reactor: self, milliseconds: milliseconds, repeats: true, keepsLoopAlive: keepsLoopAlive, body: body)
        timers.append(timer)
        return timer
    }

    /// Calls `body` once after `milliseconds` unless cancelled first.
    @discardableResult
    public func after(milliseconds: UInt64, keepsLoopAlive: Bool = false, _ body: @escaping () -> Void) -> LoopTimer {
        let timer = LoopTimer(reactor: self, milliseconds: milliseconds, repeats: false, keepsLoopAlive: keepsLoopAlive, body: body)
        timers.append(timer)
        return timer
    }
}
