import Foundation
import Histogram

// `confab load --report-every`: the measured part of a run cut into windows, counted per
// thread, merged once every thread is past a window, and a ledger of which measured messages
// reached every member of their room in time. Pure values except the collector's lock.

/// Cuts a run into report windows: `every` microseconds from `measureStart`, the last one cut
/// short at `sendEnd`; everything from `sendEnd` on (the drain) is one more window.
public struct IntervalClock: Sendable, Equatable {
    public let measureStart: UInt64
    public let sendEnd: UInt64
    public let every: UInt64

    public init(measureStart: UInt64, sendEnd: UInt64, every: UInt64) {
        self.measureStart = measureStart
        self.sendEnd = max(sendEnd, measureStart)
        self.every = max(every, 1)
    }

    init(_ schedule: LoadCoordinator.Schedule, everySeconds: Double) {
        self.init(measureStart: schedule.measureStart, sendEnd: schedule.sendEnd, every: UInt64(everySeconds * 1_000_000))
    }

    /// The index of the drain window; windows 0..<drainWindow are while sending.
    public var drainWindow: Int { sendEnd > measureStart ? Int((sendEnd - measureStart - 1) / every) + 1 : 0 }

    /// The window time `t` falls in (before `measureStart`: the first).
    public func window(at t: UInt64) -> Int {
        if t >= sendEnd { return drainWindow }
        return t > measureStart ? Int((t - measureStart) / every) : 0
    }

    /// Where window `k` starts and ends; the drain window has no end.
    public func bounds(_ k: Int) -> (start: UInt64, end: UInt64) {
        if k >= drainWindow { return (sendEnd, .max) }
        let start = measureStart + UInt64(k) * every
        return (start, min(start + every, sendEnd))
    }
}

/// A measured message: its sender's index and its number from that sender.
public struct MessageID: Hashable, Sendable {
    public var sender: Int
    public var number: Int
    public init(sender: Int, number: Int) {
        self.sender = sender
        self.number = number
    }
}

/// What is known of one message: its room, when it was sent, copies received in time.
public struct MessageRecord: Sendable, Equatable {
    public var room: Int
    public var sentMicros: UInt64
    public var copies: Int
}

/// What one thread (or, merged, every thread) counted in one window.
public struct IntervalSlice: Sendable {
    /// Measured messages sent in the window.
    public var sent = 0
    /// Copies of measured messages received in the window, and their latency.
    public var delivered = 0
    public var latencyMicros = LoadStats.histogram()
    /// Copies received in the window after their message's deadline (sent + drain).
    public var late = 0
    /// Messages sent, or copies received in time, in this window.
    public var messages: [MessageID: MessageRecord] = [:]

    public init() {}

    public mutating func recordSent(_ id: MessageID, room: Int, sentMicros: UInt64) {
        sent += 1
        messages[id, default: MessageRecord(room: room, sentMicros: sentMicros, copies: 0)].sentMicros = sentMicros
    }

    /// A copy received at `receivedMicros`: in time when before `sentMicros + drainMicros`.
    public mutating func recordCopy(_ id: MessageID, room: Int, sentMicros: UInt64, receivedMicros: UInt64, drainMicros: UInt64) {
        delivered += 1
        latencyMicros.record(receivedMicros > sentMicros ? receivedMicros - sentMicros : 0)
        if receivedMicros < sentMicros &+ drainMicros {
            messages[id, default: MessageRecord(room: room, sentMicros: sentMicros, copies: 0)].copies += 1
        } else {
            late += 1
        }
    }

    public mutating func merge(_ other: IntervalSlice) {
        sent += other.sent
        delivered += other.delivered
        latencyMicros.add(other.latencyMicros)
        late += other.late
        for (id, record) in other.messages {
            messages[id, default: MessageRecord(room: record.room, sentMicros: record.sentMicros, copies: 0)].copies += record.copies
        }
    }
}

/// Which measured messages reached every member of their room within the drain. A message is
/// settled once its deadline (sent + drain) is past: complete when as many copies arrived in
/// time as its room had members ready when measuring began, lost otherwise.
public struct MessageLedger: Sendable {
    public let drainMicros: UInt64
    public private(set) var complete = 0
    public private(set) var lost = 0
    private var open: [MessageID: MessageRecord] = [:]

    public init(drainMicros: UInt64) { self.drainMicros = drainMicros }

    public var settled: Int { complete + lost }
    public var openCount: Int { open.count }

    public mutating func add(_ messages: [MessageID: MessageRecord]) {
        for (id, record) in messages {
            open[id, default: MessageRecord(room: record.room, sentMicros: record.sentMicros, copies: 0)].copies += record.copies
        }
    }

    /// Settles every open message whose deadline is at or before `cutoff`; returns how many
    /// of them were lost. Only call it once every copy received before `cutoff` was added.
    public mutating func settle(through cutoff: UInt64, members: [Int: Int]) -> Int {
        var newlyLost = 0
        for (id, record) in open.filter({ $0.value.sentMicros &+ drainMicros <= cutoff }) {
            open[id] = nil
            if record.copies >= members[record.room] ?? 0 { complete += 1 } else { newlyLost += 1 }
        }
        lost += newlyLost
        return newlyLost
    }
}

/// One thread's current window; handing a finished one over is the caller's.
public struct IntervalMeter: Sendable {
    public let clock: IntervalClock
    public private(set) var window = 0
    public var slice = IntervalSlice()

    public init(clock: IntervalClock) { self.clock = clock }

    /// Moves to the window of time `t` (times come in order). When that is a later window,
    /// returns the finished one and its slice; windows in between were empty.
    public mutating func advance(to t: UInt64) -> (window: Int, slice: IntervalSlice)? {
        let next = clock.window(at: t)
        guard next > window else { return nil }
        let finished = (window, slice)
        window = next
        slice = IntervalSlice()
        return finished
    }
}

/// A window every thread is past: the merged slice and the messages it settled.
public struct IntervalWindow: Sendable {
    public var index: Int
    public var start: UInt64
    /// `UInt64.max` for the drain window.
    public var end: UInt64
    public var slice: IntervalSlice
    /// Messages whose deadline fell in this window and that were lost; all lost so far.
    public var lost: Int
    public var lostTotal: Int
}

/// Gathers the threads' slices. Window k is done when every thread has moved past it (each
/// thread's events come in time order), so every copy received before its end is in; then
/// the messages whose deadline is at or before that end are settled.
public final class IntervalCollector: @unchecked Sendable {
    private let lock = NSLock()
    /// Per thread: the window it is in; every earlier one it has handed over.
    private var current: [Int]
    private var pending: [Int: IntervalSlice] = [:]
    private var nextWindow = 0
    private var ledger: MessageLedger

    public init(threads: Int, drainMicros: UInt64) {
        current = Array(repeating: 0, count: max(threads, 1))
        ledger = MessageLedger(drainMicros: drainMicros)
    }

    /// A thread finished `window` with `slice` and is now in window `now` (`Int.max`: ended).
    public func flush(thread: Int, window: Int, slice: IntervalSlice?, now: Int) {
        lock.lock()
        defer { lock.unlock() }
        if let slice { pending[window, default: IntervalSlice()].merge(slice) }
        if current.indices.contains(thread) { current[thread] = max(current[thread], now) }
    }

    /// The thread has ended; nothing more will come from it.
    public func end(thread: Int) {
        flush(thread: thread, window: 0, slice: nil, now: .max)
    }

    /// Windows every thread is past and not taken yet, in order, with their messages settled.
    public func takeDone(clock: IntervalClock, members: [Int: Int]) -> [IntervalWindow] {
        lock.lock()
        defer { lock.unlock() }
        let past = min(current.min() ?? 0, clock.drainWindow + 1)
        var done: [IntervalWindow] = []
        while nextWindow < past {
            let bounds = clock.bounds(nextWindow)
            let slice = pending.removeValue(forKey: nextWindow) ?? IntervalSlice()
            ledger.add(slice.messages)
            let lost = ledger.settle(through: bounds.end, members: members)
            done.append(IntervalWindow(index: nextWindow, start: bounds.start, end: bounds.end, slice: slice,
                                       lost: lost, lostTotal: ledger.lost))
            nextWindow += 1
        }
        return done
    }

    /// Messages settled so far, and how many of them were lost.
    public func messages() -> (settled: Int, lost: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (ledger.settled, ledger.lost)
    }
}
