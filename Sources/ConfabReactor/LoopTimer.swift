import CLibUV

/// A `uv_timer_t` that calls a Swift closure on the loop thread, repeatedly or once.
/// (Named apart from Foundation's `Timer`, which clients of this module also import.)
public final class LoopTimer {
    /// The live handle; nil once cancelled, and for a timer made while the loop was
    /// stopping (it never fires).
    private var handle: UnsafeMutablePointer<uv_timer_t>?
    let body: () -> Void
    let repeats: Bool
    unowned(unsafe) let reactor: Reactor

    init(reactor: Reactor, milliseconds: UInt64, repeats: Bool, keepsLoopAlive: Bool, body: @escaping () -> Void) {
        self.body = body
        self.repeats = repeats
        self.reactor = reactor
        guard reactor.mayOpenHandle("timer") else { return }
        let handle = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
        self.handle = handle
        reactor.opened(uv_timer_init(reactor.loop, handle), "uv_timer_init")
        setContext(handle.cast(to: uv_handle_t.self), self)
        uv_timer_start(handle, { handle in
            guard let timer = context(handle?.cast(to: uv_handle_t.self), as: LoopTimer.self) else {
                assertionFailure("timer callback after the timer was closed")
                return
            }
            if !timer.repeats { timer.cancel() }
            timer.body()
            timer.reactor.finishTurn()
        }, milliseconds, repeats ? milliseconds : 0)
        if !keepsLoopAlive { uv_unref(handle.cast(to: uv_handle_t.self)) }
    }

    /// False once cancelled (or fired, for a one-shot timer).
    public var isActive: Bool { handle != nil }

    /// Stops the timer and frees its handle; safe to call more than once.
    public func cancel() {
        guard let handle else { return }
        self.handle = nil
        uv_timer_stop(handle)
        reactor.closeAndFree(handle)
        reactor.timers.removeAll { $0 === self }
    }
}

extension Reactor {
    /// Calls `body` every `milliseconds` on the loop thread until cancelled.
    /// A timer that does not keep the loop alive lets `run()` return once real work is done.
    /// A timer made after `stop()` never fires.
    @discardableResult
    public func every(milliseconds: UInt64, keepsLoopAlive: Bool = false, _ body: @escaping () -> Void) -> LoopTimer {
        let timer = LoopTimer(reactor: self, milliseconds: milliseconds, repeats: true, keepsLoopAlive: keepsLoopAlive, body: body)
        if timer.isActive { timers.append(timer) }
        return timer
    }

    /// Calls `body` once after `milliseconds` unless cancelled first (or made after `stop()`).
    @discardableResult
    public func after(milliseconds: UInt64, keepsLoopAlive: Bool = false, _ body: @escaping () -> Void) -> LoopTimer {
        let timer = LoopTimer(reactor: self, milliseconds: milliseconds, repeats: false, keepsLoopAlive: keepsLoopAlive, body: body)
        if timer.isActive { timers.append(timer) }
        return timer
    }
}
