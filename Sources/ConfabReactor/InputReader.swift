import CLibUV
import Foundation
import Logging

/// Reads a file descriptor (stdin) on a helper thread and hands the bytes to the loop
/// through a `uv_async_t`. Blocking reads work the same for terminals, pipes and files,
/// which libuv's stream handles do not all accept; the loop never blocks on them.
final class InputReader: @unchecked Sendable {
    let async: UnsafeMutablePointer<uv_async_t>
    let onData: ([UInt8]) -> Void
    let onEnd: () -> Void
    unowned(unsafe) let reactor: Reactor
    private let lock = NSLock()
    // Guarded by `lock`: filled by the reader thread, drained on the loop thread.
    private var chunks: [[UInt8]] = []
    private var ended = false
    /// Set (under the lock) before the handle is closed, so the thread never signals a
    /// closed handle; the loop thread's own record that it closed it.
    private var closed = false

    init(reactor: Reactor, fd: Int32, onData: @escaping ([UInt8]) -> Void, onEnd: @escaping () -> Void) throws {
        self.onData = onData
        self.onEnd = onEnd
        self.reactor = reactor
        async = UnsafeMutablePointer<uv_async_t>.allocate(capacity: 1)
        // Fails when the loop cannot make its wakeup descriptor (out of descriptors).
        let result = uv_async_init(reactor.loop, async) { handle in
            guard let reader = context(handle?.cast(to: uv_handle_t.self), as: InputReader.self) else {
                assertionFailure("async callback after the input reader was closed")
                return
            }
            reader.drain()
        }
        guard result == 0 else {
            async.deallocate()
            throw LibuvError(operation: "uv_async_init", code: result)
        }
        reactor.opened(result, "uv_async_init")
        setContext(async.cast(to: uv_handle_t.self), self)
        let thread = Thread { [self] in readLoop(fd) }
        thread.name = "confab-input"
        thread.start()
    }

    private func readLoop(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            lock.lock()
            if count > 0 { chunks.append(Array(buffer[0..<count])) } else { ended = true }
            let stop = closed
            if !stop { uv_async_send(async) }
            lock.unlock()
            if count <= 0 || stop { return }
        }
    }

    /// On the loop thread: deliver what arrived (async sends coalesce), then the end.
    private func drain() {
        lock.lock()
        let ready = chunks
        chunks.removeAll()
        let finished = ended
        lock.unlock()
        for chunk in ready { onData(chunk) }
        if finished {
            cancel()
            onEnd()
        }
    }

    /// On the loop thread: stop delivering and close the handle; safe to call more than once.
    func cancel() {
        lock.lock()
        let wasClosed = closed
        closed = true
        lock.unlock()
        if !wasClosed { reactor.closeAndFree(async) }
    }
}

extension Reactor {
    /// Delivers bytes read from `fd` (standard input by default) on the loop thread, then
    /// calls `onEnd` once at end of input. The reader does not keep the loop alive.
    /// Nothing is read after `stop()`; a failure to start is logged.
    public func readInput(fd: Int32 = 0, onData: @escaping ([UInt8]) -> Void, onEnd: @escaping () -> Void) {
        guard mayOpenHandle("readInput") else { return }
        do {
            let reader = try InputReader(reactor: self, fd: fd, onData: onData, onEnd: onEnd)
            uv_unref(reader.async.cast(to: uv_handle_t.self))
            inputReaders.append(reader)
        } catch {
            logger.error("cannot read input", metadata: ["fd": "\(fd)", "error": "\(error)"])
        }
    }
}
