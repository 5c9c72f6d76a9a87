import CLibUV
import Glibc

/// How a child process ended.
public struct ChildExit: Sendable, Equatable {
    /// The exit status (0 when a signal ended it).
    public var status: Int64
    /// The signal that ended it; 0 when it exited.
    public var signal: Int32

    public init(status: Int64, signal: Int32) {
        self.status = status
        self.signal = signal
    }

    /// As a shell reports it: the status, or 128 + the signal.
    public var code: Int32 { signal != 0 ? 128 + signal : Int32(truncatingIfNeeded: status) }
}

/// A process started with `uv_spawn` and watched on the loop. Its standard output arrives
/// line by line, its standard error is ours, and its standard input is a pipe we never
/// write to: the child reads end of input once we are gone, however we go (SIGKILL too).
/// It runs in a session of its own, so a terminal's Ctrl-C reaches us, not it directly.
public final class ChildProcess {
    public private(set) var pid: Int32 = 0
    /// Live handles; each nil once closed.
    private var process: UnsafeMutablePointer<uv_process_t>?
    private var input: UnsafeMutablePointer<uv_pipe_t>?
    private var output: UnsafeMutablePointer<uv_pipe_t>?
    /// Output since the last newline, bounded by `maxLineBytes`.
    private var partial: [UInt8] = []
    let onLine: (String) -> Void
    let onExit: (ChildExit) -> Void
    unowned(unsafe) let reactor: Reactor

    /// A longer line is handed over in pieces of this size: a child cannot make us buffer without end.
    static let maxLineBytes = 4096

    init(reactor: Reactor, executable: String, arguments: [String], environment: [String],
         onLine: @escaping (String) -> Void, onExit: @escaping (ChildExit) -> Void) throws {
        self.reactor = reactor
        self.onLine = onLine
        self.onExit = onExit
        let process = UnsafeMutablePointer<uv_process_t>.allocate(capacity: 1)
        let input = UnsafeMutablePointer<uv_pipe_t>.allocate(capacity: 1)
        let output = UnsafeMutablePointer<uv_pipe_t>.allocate(capacity: 1)
        reactor.opened(uv_pipe_init(reactor.loop, input, 0), "uv_pipe_init")
        reactor.opened(uv_pipe_init(reactor.loop, output, 0), "uv_pipe_init")
        var stdio = [uv_stdio_container_t](repeating: uv_stdio_container_t(), count: 3)
        // Directions are the child's: it reads its stdin, writes its stdout.
        stdio[0].flags = uv_stdio_flags(rawValue: UV_CREATE_PIPE.rawValue | UV_READABLE_PIPE.rawValue)
        stdio[0].data.stream = input.cast(to: uv_stream_t.self)
        stdio[1].flags = uv_stdio_flags(rawValue: UV_CREATE_PIPE.rawValue | UV_WRITABLE_PIPE.rawValue)
        stdio[1].data.stream = output.cast(to: uv_stream_t.self)
        stdio[2].flags = UV_INHERIT_FD
        stdio[2].data.fd = 2
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var options = uv_process_options_t()
        options.exit_cb = { handle, status, signal in
            guard let child = context(handle?.cast(to: uv_handle_t.self), as: ChildProcess.self) else { return }
            child.exited(ChildExit(status: status, signal: signal))
        }
        options.flags = UV_PROCESS_DETACHED.rawValue
        options.stdio_count = 3
        let status = executable.withCString { file in
            argv.withUnsafeBufferPointer { args in
                envp.withUnsafeBufferPointer { env in
                    stdio.withUnsafeMutableBufferPointer { stdio in
                        options.file = file
                        options.args = UnsafeMutablePointer(mutating: args.baseAddress)
                        options.env = UnsafeMutablePointer(mutating: env.baseAddress)
                        options.stdio = stdio.baseAddress
                        return uv_spawn(reactor.loop, process, &options)
                    }
                }
            }
        }
        // uv_spawn initialises the process handle even when it fails: it is closed either way.
        reactor.opened(0, "uv_spawn")
        self.process = process
        self.input = input
        self.output = output
        setContext(process.cast(to: uv_handle_t.self), self)
        setContext(input.cast(to: uv_handle_t.self), self)
        setContext(output.cast(to: uv_handle_t.self), self)
        guard status == 0 else {
            close()
            throw LibuvError(operation: "spawn \(executable)", code: status)
        }
        pid = process.pointee.pid
        startReading(output)
    }

    private func startReading(_ output: UnsafeMutablePointer<uv_pipe_t>) {
        uv_read_start(output.cast(to: uv_stream_t.self), { handle, _, buffer in
            // Consumed before the callback returns, like a connection's reads.
            guard let child = context(handle, as: ChildProcess.self), let buffer else { return }
            buffer.pointee = uv_buf_init(child.reactor.readSlab.assumingMemoryBound(to: CChar.self),
                                         UInt32(child.reactor.settings.readBufferBytes))
        }, { stream, count, buffer in
            guard let child = context(stream?.cast(to: uv_handle_t.self), as: ChildProcess.self) else { return }
            guard count > 0 else {
                if count < 0 { child.closeOutput() }  // End of output or a read error.
                return
            }
            guard let base = buffer?.pointee.base else { return }
            child.received(UnsafeRawBufferPointer(start: base, count: count))
        })
    }

    private func received(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                deliverLine()
            } else {
                partial.append(byte)
                if partial.count >= Self.maxLineBytes { deliverLine() }
            }
        }
    }

    private func deliverLine() {
        if partial.last == UInt8(ascii: "\r") { partial.removeLast() }
        let line = String(decoding: partial, as: UTF8.self)
        partial.removeAll(keepingCapacity: true)
        onLine(line)
    }

    private func exited(_ exit: ChildExit) {
        // What it wrote after its last newline, and anything after the exit, is not reported:
        // the owner hears of a child's lines strictly before its end.
        close()
        onExit(exit)
    }

    private func closeOutput() {
        guard let output else { return }
        self.output = nil
        reactor.closeAndFree(output)
    }

    /// Sends `signal` to the child while it runs; false when it has exited (or cannot be signalled).
    @discardableResult
    public func signal(_ signal: Int32) -> Bool {
        guard let process else { return false }
        return uv_process_kill(process, signal) == 0
    }

    /// True until its exit has been reported (or the loop stopped watching it).
    public var isRunning: Bool { process != nil }

    /// Stops watching the child (it keeps running) and closes our ends of its pipes; no
    /// more callbacks. Safe to call more than once.
    func close() {
        if let process {
            self.process = nil
            reactor.closeAndFree(process)
        }
        if let input {
            self.input = nil
            reactor.closeAndFree(input)
        }
        closeOutput()
        reactor.children.removeAll { $0 === self }
    }
}

extension Reactor {
    /// Starts `executable` with `arguments` and exactly `environment` (`NAME=value` items)
    /// as a ``ChildProcess``: `onLine` gets each line of its standard output, then `onExit`
    /// its end, once. A running child keeps the loop alive; `stop()` stops watching it
    /// (without killing it). Throws when the process cannot be started.
    public func spawn(_ executable: String, arguments: [String], environment: [String],
                      onLine: @escaping (String) -> Void, onExit: @escaping (ChildExit) -> Void) throws -> ChildProcess {
        guard mayOpenHandle("spawn") else { throw LibuvError(operation: "spawn \(executable)", code: Int32(UV_ECANCELED.rawValue)) }
        let child = try ChildProcess(reactor: self, executable: executable, arguments: arguments, environment: environment,
                                     onLine: onLine, onExit: onExit)
        children.append(child)
        return child
    }

    /// The path of the running program (`uv_exepath`), to start more of it.
    public static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        var size = buffer.count
        guard uv_exepath(&buffer, &size) == 0 else { return nil }
        return String(decoding: buffer.prefix(size).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
