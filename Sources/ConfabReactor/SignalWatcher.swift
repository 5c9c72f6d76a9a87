import CLibUV
import Logging

/// A `uv_signal_t`: the signal is delivered on the loop thread, where the handler may
/// touch any state, instead of in an async-signal context.
final class SignalWatcher {
    /// The live handle; nil once cancelled.
    private var handle: UnsafeMutablePointer<uv_signal_t>?
    let body: (Int32) -> Void
    unowned(unsafe) let reactor: Reactor

    init(reactor: Reactor, signal: Int32, body: @escaping (Int32) -> Void) throws {
        self.body = body
        self.reactor = reactor
        let handle = UnsafeMutablePointer<uv_signal_t>.allocate(capacity: 1)
        // Fails when the loop cannot make its signal pipe (out of descriptors).
        let result = uv_signal_init(reactor.loop, handle)
        guard result == 0 else {
            handle.deallocate()
            throw LibuvError(operation: "uv_signal_init", code: result)
        }
        self.handle = handle
        reactor.opened(result, "uv_signal_init")
        setContext(handle.cast(to: uv_handle_t.self), self)
        uv_signal_start(handle, { watcher, signum in
            guard let watcher = context(watcher?.cast(to: uv_handle_t.self), as: SignalWatcher.self) else {
                assertionFailure("signal callback after the watcher was closed")
                return
            }
            watcher.body(signum)
        }, signal)
        // Watching a signal is no reason to keep running.
        uv_unref(handle.cast(to: uv_handle_t.self))
    }

    func cancel() {
        guard let handle else { return }
        self.handle = nil
        uv_signal_stop(handle)
        reactor.closeAndFree(handle)
    }
}

extension Reactor {
    /// Calls `body` on the loop thread each time `signal` arrives. Nothing is watched
    /// after `stop()`; a failure to watch is logged.
    public func onSignal(_ signal: Int32, _ body: @escaping (Int32) -> Void) {
        guard mayOpenHandle("onSignal") else { return }
        do {
            signals.append(try SignalWatcher(reactor: self, signal: signal, body: body))
        } catch {
            logger.error("cannot watch signal", metadata: ["signal": "\(signal)", "error": "\(error)"])
        }
    }
}
