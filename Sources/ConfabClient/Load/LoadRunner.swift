import ConfabReactor
import Foundation
import Glibc

/// One server of a load run: its URL and the address resolved from it.
public struct LoadTarget: Sendable {
    public var url: ServerURL
    public var address: ServerAddress

    public init(url: ServerURL, address: ServerAddress) {
        self.url = url
        self.address = address
    }
}

/// Runs `confab load` (the caller raises the descriptor limit first): one thread per `--threads`, each with its own reactor (created on
/// that thread), a progress line on stderr when it is a terminal, the report at the end.
public enum LoadRunner {
    /// `--report-every` lines are written to `linesTo` as each window ends.
    public static func run(options: LoadOptions, targets: [LoadTarget], linesTo: Int32 = 1,
                           makeReactor: @escaping @Sendable () throws -> Reactor) throws -> LoadReport {
        let coordinator = LoadCoordinator(options: options)
        let wallStart = coordinator.startMicros
        let cpuStart = cpuTimes()
        let done = DispatchGroup()
        let failure = ErrorBox()
        for index in 0..<options.threads {
            done.enter()
            let thread = Thread {
                defer { done.leave() }
                do {
                    let reactor = try makeReactor()
                    let worker = LoadWorker(reactor: reactor, options: options, coordinator: coordinator, targets: targets,
                                            threadIndex: index)
                    coordinator.finish(worker.run())
                } catch {
                    failure.set(error)
                    coordinator.intervals?.end(thread: index)
                    coordinator.threadReady(members: [:])
                    coordinator.finish(LoadStats())
                }
            }
            thread.name = "confab-load-\(index)"
            thread.stackSize = 1 << 22
            thread.start()
        }
        let live = isTerminal(2)
        // With a server to watch, wake every 100 ms for its memory peak; interval lines too.
        let wake = options.serverPID != nil || options.reportEvery != nil ? 100 : live ? 500 : 1000
        var lastProgress: UInt64 = 0
        let intervals = coordinator.intervals.map { IntervalReporter(options: options, collector: $0) }
        func printLines(_ lines: [String]) {
            guard !lines.isEmpty else { return }
            if live { writeAll("\r\u{1B}[2K", to: 2) }
            writeAll(lines.joined(separator: "\n") + "\n", to: linesTo)
        }
        while done.wait(timeout: .now() + .milliseconds(wake)) == .timedOut {
            coordinator.sampleServerPeak()
            if let intervals {
                let now = monotonicMicros()
                printLines(intervals.poll(schedule: coordinator.currentSchedule(), members: coordinator.result().members, now: now))
            }
            guard live, monotonicMicros() - lastProgress >= 500_000 else { continue }
            lastProgress = monotonicMicros()
            let p = coordinator.progress()
            let seconds = Double(monotonicMicros() - wallStart) / 1_000_000
            writeAll("\r\u{1B}[2K\(p.phase) \(LoadReport.fixed(seconds, 1)) s: \(p.connected) connected, \(p.failed) failed, \(p.sent) sent, \(p.received) delivered", to: 2)
        }
        if live { writeAll("\r\u{1B}[2K", to: 2) }
        if let error = failure.error { throw error }
        let wall = Double(monotonicMicros() - wallStart) / 1_000_000
        let cpuEnd = cpuTimes()
        let result = coordinator.result()
        let ended = intervals?.finish(schedule: result.schedule, members: result.members, drained: result.server?.drained,
                                      now: monotonicMicros())
        printLines(ended?.lines ?? [])
        let connectSeconds = result.schedule.map { Double($0.sendStart - wallStart) / 1_000_000 }
        var deliverySeconds: Double?
        if let schedule = result.schedule, let drainedAt = result.drainedAt {
            deliverySeconds = Double(drainedAt - schedule.sendStart) / 1_000_000
        }
        return LoadReport(options: options, stats: result.stats, membersPerRoom: result.members,
                          measuredSeconds: options.crowd ? (deliverySeconds ?? 0) : options.duration,
                          cpuUserSeconds: cpuEnd.user - cpuStart.user, cpuSystemSeconds: cpuEnd.system - cpuStart.system,
                          wallSeconds: wall, connectSeconds: connectSeconds, deliverySeconds: deliverySeconds,
                          server: result.server, intervals: ended?.summary)
    }

    /// This process's CPU time so far (getrusage), in seconds.
    public static func cpuTimes() -> (user: Double, system: Double) {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1_000_000 }
        return (seconds(usage.ru_utime), seconds(usage.ru_stime))
    }
}

final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    var error: Error? {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
    func set(_ error: Error) {
        lock.lock()
        defer { lock.unlock() }
        if stored == nil { stored = error }
    }
}
