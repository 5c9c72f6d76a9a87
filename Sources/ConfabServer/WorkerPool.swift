import Glibc

/// What `confab serve --workers N` decides: start N workers, announce readiness once all of
/// them listen, restart one that dies (backing off if it keeps dying), pass a signal on for
/// a graceful drain and end when they have all exited. Pure: ``WorkerSupervisor`` spawns,
/// times and signals, and reports back here. Workers are numbered 1...N.
public struct WorkerPool: Sendable {
    public enum Event: Equatable, Sendable {
        /// A worker printed its first line: its banner, once it listens.
        case listening(worker: Int, banner: String)
        /// A worker ended (or could not be started) with this exit code (128 + N for signal N).
        case exited(worker: Int, code: Int32)
        /// A restart's backoff is over.
        case restartDue(worker: Int)
        /// SIGTERM or SIGINT reached the supervisor.
        case signal(Int32)
    }

    public enum Action: Equatable, Sendable {
        /// Start this worker (again).
        case spawn(worker: Int)
        /// Report `restartDue` after this long.
        case restart(worker: Int, afterMs: UInt64)
        /// Every worker listens: print the banner (theirs; they share the port and config).
        case announce(String)
        /// Send this signal to these workers.
        case forward(Int32, workers: [Int])
        /// Exit with this code.
        case exit(Int32)
    }

    enum Phase: Equatable {
        /// Until every worker has listened once; a worker that dies now is a failed start.
        case starting
        case running
        /// A signal came (exit 0 unless a worker does not), or a start failed (its code).
        case stopping(code: Int32)
        case done
    }

    enum WorkerState: Equatable {
        case starting(since: UInt64)
        case listening(since: UInt64)
        /// Dead, its restart due after a backoff.
        case waiting
        /// Exited for good (stopping).
        case gone
    }

    /// The first restart comes this soon; each quick death in a row doubles it up to `maxBackoffMs`.
    static let baseBackoffMs: UInt64 = 250
    static let maxBackoffMs: UInt64 = 5_000
    /// A worker that ran this long before dying starts again with the shortest backoff.
    static let stableMs: UInt64 = 10_000

    public let count: Int
    private(set) var phase = Phase.starting
    private(set) var workers: [WorkerState]
    /// Quick deaths in a row, per worker.
    private var failures: [Int]
    private var banner: String?

    public init(count: Int) {
        precondition(count >= 1, "a pool has at least one worker")
        self.count = count
        workers = Array(repeating: .starting(since: 0), count: count)
        failures = Array(repeating: 0, count: count)
    }

    /// The first actions: start every worker.
    public mutating func start(now: UInt64) -> [Action] {
        for index in workers.indices { workers[index] = .starting(since: now) }
        return (1...count).map { .spawn(worker: $0) }
    }

    /// The workers with a process: started or listening.
    var live: [Int] {
        workers.indices.filter {
            if case .starting = workers[$0] { return true }
            if case .listening = workers[$0] { return true }
            return false
        }.map { $0 + 1 }
    }

    public var isRunning: Bool { phase == .running }

    public mutating func handle(_ event: Event, now: UInt64) -> [Action] {
        switch event {
        case .listening(let worker, let text):
            guard let index = slot(worker), case .starting(let since) = workers[index] else { return [] }
            workers[index] = .listening(since: since)
            if banner == nil { banner = text }
            guard phase == .starting,
                  workers.allSatisfy({ if case .listening = $0 { return true } else { return false } }) else { return [] }
            phase = .running
            return [.announce(banner ?? text)]

        case .exited(let worker, let code):
            guard let index = slot(worker) else { return [] }
            let since: UInt64
            switch workers[index] {
            case .starting(let start), .listening(let start): since = start
            case .waiting, .gone: return []
            }
            switch phase {
            case .starting:
                // A worker that cannot start (port taken, bad config) will not start on a retry.
                workers[index] = .gone
                phase = .stopping(code: code == 0 ? 1 : code)
                return stopOrWait(signal: SIGTERM)
            case .running:
                if now &- since >= Self.stableMs { failures[index] = 0 }
                let delay = min(Self.maxBackoffMs, Self.baseBackoffMs << UInt64(min(failures[index], 16)))
                failures[index] += 1
                workers[index] = .waiting
                return [.restart(worker: worker, afterMs: delay)]
            case .stopping(let exitCode):
                workers[index] = .gone
                if exitCode == 0 && code != 0 { phase = .stopping(code: code) }
                return stopOrWait(signal: nil)
            case .done:
                return []
            }

        case .restartDue(let worker):
            guard phase == .running, let index = slot(worker), workers[index] == .waiting else { return [] }
            workers[index] = .starting(since: now)
            return [.spawn(worker: worker)]

        case .signal(let signal):
            switch phase {
            case .starting, .running:
                phase = .stopping(code: 0)
                for index in workers.indices where workers[index] == .waiting { workers[index] = .gone }
                return stopOrWait(signal: signal)
            case .stopping:
                // Second signal: no more waiting.
                let alive = live
                phase = .done
                return (alive.isEmpty ? [] : [.forward(SIGKILL, workers: alive)]) + [.exit(128 + signal)]
            case .done:
                return []
            }
        }
    }

    /// While stopping: pass `signal` to the live workers, or exit once there are none.
    private mutating func stopOrWait(signal: Int32?) -> [Action] {
        guard case .stopping(let code) = phase else { return [] }
        let alive = live
        if alive.isEmpty {
            phase = .done
            return [.exit(code)]
        }
        return signal.map { [.forward($0, workers: alive)] } ?? []
    }

    private func slot(_ worker: Int) -> Int? { (1...count).contains(worker) ? worker - 1 : nil }
}
