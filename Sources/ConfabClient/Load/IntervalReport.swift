/// One `--report-every` line: a window's deliveries, lost messages, latency and the server.
public struct IntervalLine: Sendable, Equatable {
    public var window: Int
    /// The window after sending stopped.
    public var drain: Bool
    /// Seconds from the start of measuring.
    public var startSeconds: Double
    public var endSeconds: Double
    public var sent: Int
    public var delivered: Int
    public var late: Int
    public var lost: Int
    public var lostTotal: Int
    public var p50Ms: Double?
    public var p99Ms: Double?
    /// The server's VmRSS at the window's end, and its change since measuring started.
    public var rssKiB: Int?
    public var rssChangePercent: Double?
    /// The server's CPU over the window, % of one core.
    public var serverCPUPercent: Double?

    static let columns: [(String, Int)] = [
        ("window s", 17), ("sent", 7), ("deliveries", 11), ("per s", 8), ("lost", 5), ("(total)", 8), ("late", 5),
        ("p50 ms", 8), ("p99 ms", 8), ("VmRSS MiB", 10), ("vs start", 9), ("CPU %", 6),
    ]

    static func row(_ cells: [String]) -> String {
        zip(cells, columns).map { String(repeating: " ", count: max(0, $1.1 - $0.count)) + $0 }.joined(separator: " ")
    }

    public static var header: String { row(columns.map(\.0)) }

    public var text: String {
        let f = LoadReport.fixed
        let span = endSeconds - startSeconds
        let window = "\(f(startSeconds, 0))–\(f(endSeconds, drain ? 1 : 0))" + (drain ? " drain" : "")
        let sign = (rssChangePercent ?? 0) >= 0 ? "+" : ""
        return Self.row([
            window, "\(sent)", "\(delivered)", !drain && span > 0 ? f(Double(delivered) / span, 0) : "—", "\(lost)", "(\(lostTotal))",
            "\(late)", p50Ms.map { f($0, 2) } ?? "—", p99Ms.map { f($0, 2) } ?? "—",
            rssKiB.map { f(Double($0) / 1024, 1) } ?? "—", rssChangePercent.map { sign + f($0, 1) + " %" } ?? "—",
            serverCPUPercent.map { f($0, 1) } ?? "—",
        ])
    }
}

/// The end of a `--report-every` run: every window, the messages, and whether the server's
/// memory stayed flat.
public struct IntervalSummary: Sendable {
    /// At most this much growth of VmRSS over the baseline is flat.
    public static let rssTolerancePercent = 10.0

    public var lines: [IntervalLine]
    /// Measured messages settled (their deadline passed), and those lost.
    public var messagesSettled: Int
    public var messagesLost: Int
    /// The server's VmRSS when measuring began (after the warm-up), and at every window
    /// boundary after it while sending (the last at the end of sending).
    public var baseline: ProcessSample?
    public var compared: [ProcessSample]

    public init(lines: [IntervalLine], messagesSettled: Int, messagesLost: Int, baseline: ProcessSample?,
                compared: [ProcessSample]) {
        self.lines = lines
        self.messagesSettled = messagesSettled
        self.messagesLost = messagesLost
        self.baseline = baseline
        self.compared = compared
    }

    public var lateCopies: Int { lines.reduce(0) { $0 + $1.late } }

    /// The largest VmRSS of the compared samples over the baseline, in %.
    public var rssGrowthPercent: Double? {
        guard let baseline, baseline.rssKiB > 0, let top = compared.map(\.rssKiB).max() else { return nil }
        return Double(top - baseline.rssKiB) / Double(baseline.rssKiB) * 100
    }

    /// Flat: no compared sample more than `rssTolerancePercent` above the baseline; nil when
    /// the server was not read or there is nothing to compare.
    public var rssFlat: Bool? { rssGrowthPercent.map { $0 <= Self.rssTolerancePercent } }

    var rssLine: String {
        guard let baseline else { return "not read (--server-pid)" }
        let mib = LoadReport.mib
        guard let growth = rssGrowthPercent, let low = compared.map(\.rssKiB).min(), let high = compared.map(\.rssKiB).max() else {
            return "\(mib(baseline.rssKiB)) when measuring began; no later sample to compare"
        }
        let verdict = (rssFlat ?? false) ? "flat" : "NOT flat"
        return "\(verdict): \(mib(baseline.rssKiB)) when measuring began, then \(mib(low))–\(mib(high)) at \(compared.count) "
            + "later boundaries (max \(growth >= 0 ? "+" : "")\(LoadReport.fixed(growth, 1)) %, limit +\(LoadReport.fixed(Self.rssTolerancePercent, 0)) %)"
    }
}

/// `--report-every` on the runner's thread, polled every ~100 ms: reads the server at each
/// window boundary while sending, and makes a line for each window every thread is past.
final class IntervalReporter {
    let options: LoadOptions
    let collector: IntervalCollector
    private var clock: IntervalClock?
    /// Server samples at the start of window k; at `drainWindow`, the end of sending.
    private var samples: [Int: ProcessSample] = [:]
    private var nextSample = 0
    private var waiting: [IntervalWindow] = []
    private var lines: [IntervalLine] = []
    private var headerShown = false

    init(options: LoadOptions, collector: IntervalCollector) {
        self.options = options
        self.collector = collector
    }

    /// Lines ready now (the header before the first).
    func poll(schedule: LoadCoordinator.Schedule?, members: [Int: Int], now: UInt64) -> [String] {
        guard let schedule, let every = options.reportEvery else { return [] }
        let clock = self.clock ?? IntervalClock(schedule, everySeconds: every)
        self.clock = clock
        // A boundary already followed by the next one (the runner was late) is skipped.
        while nextSample <= clock.drainWindow, now >= clock.bounds(nextSample).start {
            let late = nextSample < clock.drainWindow && now >= clock.bounds(nextSample + 1).start
            if !late, let pid = options.serverPID, let sample = ProcessProbe.sample(pid: pid, now: now) {
                samples[nextSample] = sample
            }
            nextSample += 1
        }
        waiting += collector.takeDone(clock: clock, members: members)
        var ready: [String] = []
        // A window's line waits for the sample at its end (the drain's for the run's end).
        while let window = waiting.first, window.index < clock.drainWindow, nextSample > window.index + 1 {
            waiting.removeFirst()
            ready.append(line(window, clock: clock, end: samples[window.index + 1], endMicros: window.end).text)
        }
        return header(ready)
    }

    /// After every thread ended: the remaining lines and the summary. `drained` is the server
    /// when the deliveries were in (it stands in for the end-of-sending sample if that was missed).
    func finish(schedule: LoadCoordinator.Schedule?, members: [Int: Int], drained: ProcessSample?,
                now: UInt64) -> (lines: [String], summary: IntervalSummary?) {
        guard let schedule, let every = options.reportEvery else { return ([], nil) }
        let clock = self.clock ?? IntervalClock(schedule, everySeconds: every)
        self.clock = clock
        nextSample = clock.drainWindow + 1
        if samples[clock.drainWindow] == nil, let drained { samples[clock.drainWindow] = drained }
        waiting += collector.takeDone(clock: clock, members: members)
        var ready: [String] = []
        for window in waiting {
            let drainWindow = window.index >= clock.drainWindow
            let end = drainWindow ? drained : samples[window.index + 1]
            let endMicros = drainWindow ? max(drained?.atMicros ?? now, clock.sendEnd) : window.end
            ready.append(line(window, clock: clock, end: end, endMicros: endMicros).text)
        }
        waiting = []
        let messages = collector.messages()
        let compared = clock.drainWindow > 0 ? (1...clock.drainWindow).compactMap { samples[$0] } : []
        let summary = IntervalSummary(lines: lines, messagesSettled: messages.settled, messagesLost: messages.lost,
                                      baseline: samples[0], compared: compared)
        return (header(ready), summary)
    }

    private func header(_ ready: [String]) -> [String] {
        guard !ready.isEmpty, !headerShown else { return ready }
        headerShown = true
        return [IntervalLine.header] + ready
    }

    private func line(_ window: IntervalWindow, clock: IntervalClock, end: ProcessSample?, endMicros: UInt64) -> IntervalLine {
        let seconds = { (t: UInt64) in Double(t > clock.measureStart ? t - clock.measureStart : 0) / 1_000_000 }
        let histogram = window.slice.latencyMicros
        let start = samples[window.index]
        var line = IntervalLine(window: window.index, drain: window.index >= clock.drainWindow,
                                startSeconds: seconds(window.start), endSeconds: seconds(endMicros),
                                sent: window.slice.sent, delivered: window.slice.delivered, late: window.slice.late,
                                lost: window.lost, lostTotal: window.lostTotal)
        if histogram.totalCount > 0 {
            line.p50Ms = LoadReport.ms(histogram.valueAtPercentile(50))
            line.p99Ms = LoadReport.ms(histogram.valueAtPercentile(99))
        }
        if let end {
            line.rssKiB = end.rssKiB
            if let baseline = samples[0], baseline.rssKiB > 0 {
                line.rssChangePercent = Double(end.rssKiB - baseline.rssKiB) / Double(baseline.rssKiB) * 100
            }
            if let start, end.atMicros > start.atMicros {
                line.serverCPUPercent = (end.cpuSeconds - start.cpuSeconds) / (Double(end.atMicros - start.atMicros) / 1_000_000) * 100
            }
        }
        lines.append(line)
        return line
    }
}
