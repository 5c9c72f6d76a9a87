import Foundation
import Glibc

/// Microseconds of the monotonic clock, the same on every thread of the process.
public func monotonicMicros() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000 + UInt64(spec.tv_nsec) / 1000
}

/// The one thing the load threads share, behind a lock: when sending starts and ends (once
/// every thread has its clients connected), running totals for the drain and the progress
/// line, and the merged stats at the end.
public final class LoadCoordinator: @unchecked Sendable {
    public struct Schedule: Sendable, Equatable {
        /// Senders start (warm-up begins).
        public var sendStart: UInt64
        /// Messages from here on are measured.
        public var measureStart: UInt64
        /// Senders stop.
        public var sendEnd: UInt64
    }

    let options: LoadOptions
    /// After sending stops, wait at most this long for the last deliveries.
    let drainMicros: UInt64
    /// When the run started (the connect phase too).
    public let startMicros: UInt64
    /// `--report-every`: the threads' windows.
    public let intervals: IntervalCollector?
    private let lock = NSLock()
    private var readyThreads = 0
    private var finishedThreads = 0
    private var schedule: Schedule?
    private var members: [Int: Int] = [:]
    private var sentPerRoom: [Int: Int] = [:]
    private var received = 0
    private var connected = 0
    private var failed = 0
    private var sentTotal = 0
    private var merged = LoadStats()
    /// Threads that will send nothing more and have reported all they sent.
    private var threadsDoneSending = 0
    /// First time the deliveries were found all in, or the drain wait over.
    private var drainedAt: UInt64?
    private var server: ServerFigures?

    public init(options: LoadOptions, now: UInt64 = monotonicMicros()) {
        self.options = options
        drainMicros = UInt64(max(0, options.drain) * 1_000_000)
        startMicros = now
        intervals = options.reportEvery == nil ? nil : IntervalCollector(threads: options.threads, drainMicros: drainMicros)
        if let pid = options.serverPID, let sample = ProcessProbe.sample(pid: pid, now: now) {
            server = ServerFigures(pid: pid, start: sample)
        }
    }

    /// A thread has every client connected (or failed); `members` counts its ready clients per room.
    func threadReady(members threadMembers: [Int: Int]) {
        lock.lock()
        defer { lock.unlock() }
        for (room, count) in threadMembers { members[room, default: 0] += count }
        readyThreads += 1
        if readyThreads == options.threads {
            let now = monotonicMicros()
            sampleServer(now: now) { $0.connected = $1 }
            if !options.churn && members.values.reduce(0, +) == 0 {
                // Nobody connected: nothing to measure, end at once.
                schedule = Schedule(sendStart: now, measureStart: now, sendEnd: now)
                return
            }
            if options.crowd {
                // One message, sent at once; then only the wait for its deliveries.
                schedule = Schedule(sendStart: now, measureStart: now, sendEnd: now)
                return
            }
            let measure = now + UInt64(options.warmup * 1_000_000)
            schedule = Schedule(sendStart: now, measureStart: measure, sendEnd: measure + UInt64(options.duration * 1_000_000))
        }
    }

    func currentSchedule() -> Schedule? {
        lock.lock()
        defer { lock.unlock() }
        return schedule
    }

    /// Running totals from a thread since its last report.
    func report(sent: [Int: Int], received newlyReceived: Int, connected newlyConnected: Int, failed newlyFailed: Int) {
        lock.lock()
        defer { lock.unlock() }
        for (room, count) in sent {
            sentPerRoom[room, default: 0] += count
            sentTotal += count
        }
        received += newlyReceived
        connected += newlyConnected
        failed += newlyFailed
    }

    /// This thread sends nothing more and has reported everything it sent: the crowd's one
    /// message, or a tick past `sendEnd`. Until every thread says so, the deliveries expected
    /// are not known (a closed-loop echo may have sent one more since the thread last reported).
    func threadDoneSending() {
        lock.lock()
        defer { lock.unlock() }
        threadsDoneSending += 1
    }

    /// True once every expected delivery arrived, or the drain time is over.
    func drained(now: UInt64) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if drainedAt != nil { return true }
        guard let schedule, now >= schedule.sendEnd else { return false }
        var done = now >= schedule.sendEnd + drainMicros
        if !done && threadsDoneSending == options.threads {
            let expected = sentPerRoom.reduce(0) { $0 + $1.value * (members[$1.key] ?? 0) }
            done = received >= expected
        }
        if done {
            drainedAt = now
            sampleServer(now: now) { $0.drained = $1 }
        }
        return done
    }

    /// Reads the server's figures (with the lock held) into `store`, keeping the peak.
    private func sampleServer(now: UInt64, _ store: (inout ServerFigures, ProcessSample) -> Void) {
        guard var figures = server, let sample = ProcessProbe.sample(pid: figures.pid, now: now) else { return }
        store(&figures, sample)
        figures.peakRSSKiB = max(figures.peakRSSKiB, sample.rssKiB)
        server = figures
    }

    /// Every 100 ms or so from the runner: the server's memory peak.
    func sampleServerPeak() {
        lock.lock()
        defer { lock.unlock() }
        guard server != nil else { return }
        sampleServer(now: monotonicMicros()) { _, _ in }
    }

    func finish(_ stats: LoadStats) {
        lock.lock()
        defer { lock.unlock() }
        merged.merge(stats)
        finishedThreads += 1
    }

    /// `connected failed sent received` so far, for the progress line.
    public func progress() -> (connected: Int, failed: Int, sent: Int, received: Int, phase: String) {
        lock.lock()
        defer { lock.unlock() }
        let now = monotonicMicros()
        let phase: String
        if let schedule {
            phase = now < schedule.measureStart ? "warm-up" : now < schedule.sendEnd ? "measuring" : "draining"
        } else {
            phase = "connecting"
        }
        return (connected, failed, sentTotal, received, phase)
    }

    public func result() -> (stats: LoadStats, members: [Int: Int], schedule: Schedule?, drainedAt: UInt64?, server: ServerFigures?) {
        lock.lock()
        defer { lock.unlock() }
        return (merged, members, schedule, drainedAt, server)
    }
}
