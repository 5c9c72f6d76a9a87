import Histogram

/// What one thread counted; threads' stats are merged at the end. Times in microseconds.
public struct LoadStats: Sendable {
    public var connectAttempts = 0
    public var connected = 0
    public var connectFailed = 0
    /// A few distinct failure reasons, for the report.
    public var failureReasons: [String: Int] = [:]
    /// Connections that ended without us closing them, after they were ready.
    public var dropped = 0
    /// Connect call to `welcome` (TCP + upgrade + welcome), microseconds.
    public var connectMicros = LoadStats.histogram()
    /// Measured messages sent, and per room (for the expected deliveries).
    public var sent = 0
    public var sentPerRoom: [Int: Int] = [:]
    public var warmupSent = 0
    /// Deliveries of measured messages, matched by their stamp.
    public var received = 0
    /// Load-looking messages whose text did not parse (should stay 0).
    public var unmatched = 0
    public var latencyMicros = LoadStats.histogram()
    /// `error` replies (rate_limited, …).
    public var errors: [String: Int] = [:]
    /// Churn: completed connect→welcome→close cycles.
    public var cycles = 0

    public init() {}

    public static func histogram() -> Histogram<UInt64> {
        // 1 µs to 1 hour, 3 significant digits.
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    }

    public mutating func recordFailure(_ reason: String) {
        connectFailed += 1
        if failureReasons[reason] != nil || failureReasons.count < 5 { failureReasons[reason, default: 0] += 1 }
    }

    public mutating func merge(_ other: LoadStats) {
        connectAttempts += other.connectAttempts
        connected += other.connected
        connectFailed += other.connectFailed
        for (reason, count) in other.failureReasons where failureReasons[reason] != nil || failureReasons.count < 5 {
            failureReasons[reason, default: 0] += count
        }
        dropped += other.dropped
        connectMicros.add(other.connectMicros)
        sent += other.sent
        for (room, count) in other.sentPerRoom { sentPerRoom[room, default: 0] += count }
        warmupSent += other.warmupSent
        received += other.received
        unmatched += other.unmatched
        latencyMicros.add(other.latencyMicros)
        for (code, count) in other.errors { errors[code, default: 0] += count }
        cycles += other.cycles
    }
}

/// The final figures, from merged stats: a table for people, one JSON object for scripts.
public struct LoadReport: Sendable {
    public var options: LoadOptions
    public var stats: LoadStats
    /// Clients ready in each room when measuring started (receivers per message).
    public var membersPerRoom: [Int: Int]
    public var measuredSeconds: Double
    public var cpuUserSeconds: Double
    public var cpuSystemSeconds: Double
    public var wallSeconds: Double

    public init(options: LoadOptions, stats: LoadStats, membersPerRoom: [Int: Int], measuredSeconds: Double,
                cpuUserSeconds: Double, cpuSystemSeconds: Double, wallSeconds: Double) {
        self.options = options
        self.stats = stats
        self.membersPerRoom = membersPerRoom
        self.measuredSeconds = measuredSeconds
        self.cpuUserSeconds = cpuUserSeconds
        self.cpuSystemSeconds = cpuSystemSeconds
        self.wallSeconds = wallSeconds
    }

    /// Every measured message should reach every member of its room, the sender included.
    public var expectedDeliveries: Int {
        stats.sentPerRoom.reduce(0) { $0 + $1.value * (membersPerRoom[$1.key] ?? 0) }
    }

    public var lost: Int { max(0, expectedDeliveries - stats.received) }

    func perSecond(_ count: Int) -> Double { measuredSeconds > 0 ? Double(count) / measuredSeconds : 0 }

    public var cpuPercent: Double { wallSeconds > 0 ? (cpuUserSeconds + cpuSystemSeconds) / wallSeconds * 100 : 0 }

    static func ms(_ micros: UInt64) -> Double { Double(micros) / 1000 }

    func percentiles(_ histogram: Histogram<UInt64>) -> [(String, Double)] {
        guard histogram.totalCount > 0 else { return [("p50", 0), ("p90", 0), ("p99", 0), ("p99.9", 0), ("max", 0)] }
        return [("p50", Self.ms(histogram.valueAtPercentile(50))), ("p90", Self.ms(histogram.valueAtPercentile(90))),
                ("p99", Self.ms(histogram.valueAtPercentile(99))), ("p99.9", Self.ms(histogram.valueAtPercentile(99.9))),
                ("max", Self.ms(histogram.max))]
    }

    static func fixed(_ value: Double, _ digits: Int = 2) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        var text = "\(rounded)"
        if text.contains("e") { return text }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        if digits == 0 { return String(parts[0]) }
        text = String(parts[0]) + "." + fraction + String(repeating: "0", count: max(0, digits - fraction.count))
        return text
    }

    public func table() -> String {
        var rows: [(String, String)] = []
        let mode = options.churn ? "churn" : options.senders == 0 ? "idle" : options.closedLoop ? "closed-loop" : "\(Self.fixed(options.rate, 1)) msg/s per sender"
        rows.append(("scenario", "\(options.clients) clients, \(options.rooms) rooms, \(options.senders) senders, \(mode), \(options.size) B, \(options.threads) thread(s)"))
        rows.append(("connections", "\(stats.connected) made, \(stats.connectFailed) failed, \(stats.dropped) dropped"))
        for (reason, count) in stats.failureReasons.sorted(by: { $0.value > $1.value }) {
            rows.append(("  failure", "\(count)× \(reason)"))
        }
        rows.append(("connect time ms", percentiles(stats.connectMicros).map { "\($0.0) \(Self.fixed($0.1))" }.joined(separator: "  ")))
        if options.churn {
            rows.append(("churn cycles", "\(stats.cycles) (\(Self.fixed(perSecond(stats.cycles), 1))/s)"))
        }
        rows.append(("measured", "\(Self.fixed(measuredSeconds)) s"))
        rows.append(("messages sent", "\(stats.sent) (\(Self.fixed(perSecond(stats.sent), 1))/s), \(stats.warmupSent) in warm-up"))
        rows.append(("deliveries", "\(stats.received) of \(expectedDeliveries) expected (\(Self.fixed(perSecond(stats.received), 1))/s), lost \(lost)"))
        if stats.unmatched > 0 { rows.append(("unmatched", "\(stats.unmatched)")) }
        rows.append(("latency ms", percentiles(stats.latencyMicros).map { "\($0.0) \(Self.fixed($0.1))" }.joined(separator: "  ")))
        if !stats.errors.isEmpty {
            rows.append(("server errors", stats.errors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
        }
        rows.append(("load CPU", "\(Self.fixed(cpuUserSeconds)) s user, \(Self.fixed(cpuSystemSeconds)) s sys, \(Self.fixed(cpuPercent, 1))% of one core over \(Self.fixed(wallSeconds, 1)) s"))
        let width = rows.map { $0.0.count }.max() ?? 0
        return rows.map { $0.0 + String(repeating: " ", count: width - $0.0.count) + "  " + $0.1 }.joined(separator: "\n") + "\n"
    }

    public func json() -> String {
        func object(_ pairs: [(String, String)]) -> String {
            "{" + pairs.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
        }
        func number(_ value: Double) -> String { Self.fixed(value, 3) }
        func quoted(_ text: String) -> String {
            var out = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case _ where scalar.value < 0x20: out += "\\u00" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
        let latency = percentiles(stats.latencyMicros).map { ($0.0, number($0.1)) }
        let connect = percentiles(stats.connectMicros).map { ($0.0, number($0.1)) }
        let failures = object(stats.failureReasons.sorted { $0.key < $1.key }.map { (quoted($0.key).dropFirst().dropLast().description, "\($0.value)") })
        return object([
            ("mode", quoted(options.churn ? "churn" : options.senders == 0 ? "idle" : options.closedLoop ? "closed-loop" : "rate")),
            ("clients", "\(options.clients)"), ("rooms", "\(options.rooms)"), ("senders", "\(options.senders)"),
            ("rate", number(options.rate)), ("size", "\(options.size)"), ("threads", "\(options.threads)"),
            ("duration_s", number(options.duration)), ("warmup_s", number(options.warmup)),
            ("measured_s", number(measuredSeconds)),
            ("connections", object([("attempted", "\(stats.connectAttempts)"), ("made", "\(stats.connected)"),
                                    ("failed", "\(stats.connectFailed)"), ("dropped", "\(stats.dropped)"),
                                    ("failures", failures), ("connect_ms", object(connect))])),
            ("churn", object([("cycles", "\(stats.cycles)"), ("per_s", number(perSecond(stats.cycles)))])),
            ("messages", object([("sent", "\(stats.sent)"), ("warmup", "\(stats.warmupSent)"),
                                 ("per_s", number(perSecond(stats.sent)))])),
            ("deliveries", object([("expected", "\(expectedDeliveries)"), ("received", "\(stats.received)"),
                                   ("lost", "\(lost)"), ("unmatched", "\(stats.unmatched)"),
                                   ("per_s", number(perSecond(stats.received)))])),
            ("latency_ms", object(latency)),
            ("errors", object(stats.errors.sorted { $0.key < $1.key }.map { (quoted($0.key).dropFirst().dropLast().description, "\($0.value)") })),
            ("cpu", object([("user_s", number(cpuUserSeconds)), ("system_s", number(cpuSystemSeconds)),
                            ("percent", number(cpuPercent)), ("wall_s", number(wallSeconds))])),
        ])
    }
}
