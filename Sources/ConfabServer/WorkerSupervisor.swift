import ConfabReactor
import Foundation
import Glibc
import Logging

/// Runs `confab serve --workers N`: N processes of this program, each a cluster node
/// listening on the same port, started, restarted and stopped as ``WorkerPool`` decides.
/// Their stderr is ours; the first line each writes on stdout is its banner.
public final class WorkerSupervisor {
    /// A worker that cannot be spawned at all (EAGAIN, ENOMEM…) counts as exiting with EX_OSERR.
    static let spawnFailedCode: Int32 = 71

    let reactor: Reactor
    let logger: Logger
    let executable: String
    let command: WorkerCommand
    var pool: WorkerPool
    var children: [Int: ChildProcess] = [:]
    var starts: [Int: Int] = [:]
    /// Workers whose banner has come since their latest start.
    var announced: Set<Int> = []
    var events: [WorkerPool.Event] = []
    var isHandling = false
    var exitCode: Int32 = 0

    public init(count: Int, executable: String, command: WorkerCommand, logger: Logger) throws {
        reactor = try Reactor(settings: ReactorSettings(), logger: logger)
        pool = WorkerPool(count: count)
        self.logger = logger
        self.executable = executable
        self.command = command
    }

    /// Runs until every worker has exited (or a second signal); returns the exit code.
    public func run() -> Int32 {
        for signal in [SIGINT, SIGTERM] {
            reactor.onSignal(signal) { [unowned self] signum in handle(.signal(signum)) }
        }
        // A reload (`systemctl reload`, `kill -HUP`) is every worker's to do: each reads the
        // same file, environment and flags again.
        reactor.onSignal(SIGHUP) { [unowned self] _ in
            logger.notice("reloading the workers' configuration", metadata: ["workers": "\(children.count)"])
            for child in children.values { child.signal(SIGHUP) }
        }
        isHandling = true
        apply(pool.start(now: reactor.now))
        isHandling = false
        drain()
        reactor.run()
        return exitCode
    }

    /// Runs one event through the pool; events raised while applying its actions wait their turn.
    func handle(_ event: WorkerPool.Event) {
        events.append(event)
        if !isHandling { drain() }
    }

    private func drain() {
        isHandling = true
        defer { isHandling = false }
        while !events.isEmpty {
            let event = events.removeFirst()
            note(event)
            apply(pool.handle(event, now: reactor.now))
        }
    }

    private func note(_ event: WorkerPool.Event) {
        switch event {
        case .exited(let worker, let code):
            let level: Logger.Level = pool.isRunning || code != 0 ? .warning : .info
            logger.log(level: level, "worker exited", metadata: ["worker": "\(worker)", "code": "\(code)"])
        case .listening(let worker, _) where pool.isRunning:
            logger.notice("worker listening again", metadata: ["worker": "\(worker)", "pid": "\(children[worker]?.pid ?? 0)"])
        case .signal(let signal):
            logger.notice("shutting down the workers", metadata: ["signal": "\(signal)", "workers": "\(children.count)"])
        default:
            break
        }
    }

    private func apply(_ actions: [WorkerPool.Action]) {
        for action in actions {
            switch action {
            case .spawn(let worker):
                spawn(worker)
            case .restart(let worker, let delay):
                logger.notice("restarting worker", metadata: ["worker": "\(worker)", "afterMs": "\(delay)"])
                reactor.after(milliseconds: delay, keepsLoopAlive: true) { [unowned self] in handle(.restartDue(worker: worker)) }
            case .announce(let banner):
                // The contract with scripts and tests, as for one process: one line, unbuffered.
                FileHandle.standardOutput.write(Data((banner + "\n").utf8))
                logger.info("workers listening", metadata: ["workers": "\(pool.count)"])
            case .forward(let signal, let workers):
                for worker in workers { children[worker]?.signal(signal) }
            case .exit(let code):
                exitCode = code
                reactor.stop()
            }
        }
    }

    private func spawn(_ worker: Int) {
        let start = starts[worker].map { $0 + 1 } ?? 0
        starts[worker] = start
        announced.remove(worker)
        let (arguments, environment) = command(worker: worker, start: start)
        do {
            let child = try reactor.spawn(executable, arguments: arguments, environment: environment, onLine: { [unowned self] line in
                if announced.insert(worker).inserted {
                    handle(.listening(worker: worker, banner: line))
                } else {
                    logger.notice("worker output", metadata: ["worker": "\(worker)", "line": "\(line)"])
                }
            }, onExit: { [unowned self] exit in
                children[worker] = nil
                handle(.exited(worker: worker, code: exit.code))
            })
            children[worker] = child
            logger.info("worker started", metadata: ["worker": "\(worker)", "pid": "\(child.pid)"])
        } catch {
            logger.error("cannot start worker", metadata: ["worker": "\(worker)", "error": "\(error)"])
            handle(.exited(worker: worker, code: Self.spawnFailedCode))
        }
    }
}
