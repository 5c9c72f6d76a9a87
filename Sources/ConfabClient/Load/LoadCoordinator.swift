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

    /// After sending stops, wait at most this long for the last deliveries.
    public static let drainMicros: UInt64 = 3_000_000

    let options: LoadOptions
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

    public init(options: LoadOptions) { self.options = options }

    /// A thread has every client connected (or failed); `members` counts its ready clients per room.
    func threadReady(members threadMembers: [Int: Int]) {
        lock.lock()
        defer { lock.unlock() }
        for (room, count) in threadMembers { members[room, default: 0] += count }
        readyThreads += 1
        if readyThreads == options.threads {
            let now = monotonicMicros()
            if !options.churn && members.values.reduce(0, +) == 0 {
                // Nobody connected: nothing to measure, end at once.
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

    /// True once every expected delivery arrived, or the drain time is over.
    func drained(now: UInt64) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let schedule, now >= schedule.sendEnd else { return false }
        if now >= schedule.sendEnd + Self.drainMicros { return true }
        let expected = sentPerRoom.reduce(0) { $0 + $1.value * (members[$1.key] ?? 0) }
        return received >= expected
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

    public func result() -> (stats: LoadStats, members: [Int: Int], schedule: Schedule?) {
        lock.lock()
        defer { lock.unlock() }
        return (merged, members, schedule)
    }
}
