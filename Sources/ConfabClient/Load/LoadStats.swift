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
    /// A few distinct reasons they ended for (e.g. `server closed (1008) slow consumer`).
    public var dropReasons: [String: Int] = [:]
    /// Every message the clients read, of any type (presence, member lists…), and its bytes.
    public var framesReceived = 0
    public var bytesReceived = 0
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
    /// Several servers: the same deliveries, by whether the receiver is on its sender's server
    /// (a cluster's local fan-out) or on another (the hop between servers, e.g. through Redis).
    public var latencySameServerMicros = LoadStats.histogram()
    public var latencyOtherServerMicros = LoadStats.histogram()
    /// Clients that became ready (churn: welcomed), per server.
    public var connectedPerServer: [Int: Int] = [:]
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

    public mutating func recordDrop(_ reason: String) {
        dropped += 1
        if dropReasons[reason] != nil || dropReasons.count < 5 { dropReasons[reason, default: 0] += 1 }
    }

    public mutating func merge(_ other: LoadStats) {
        connectAttempts += other.connectAttempts
        connected += other.connected
        connectFailed += other.connectFailed
        for (reason, count) in other.failureReasons where failureReasons[reason] != nil || failureReasons.count < 5 {
            failureReasons[reason, default: 0] += count
        }
        dropped += other.dropped
        for (reason, count) in other.dropReasons where dropReasons[reason] != nil || dropReasons.count < 5 {
            dropReasons[reason, default: 0] += count
        }
        framesReceived += other.framesReceived
        bytesReceived += other.bytesReceived
        connectMicros.add(other.connectMicros)
        sent += other.sent
        for (room, count) in other.sentPerRoom { sentPerRoom[room, default: 0] += count }
        warmupSent += other.warmupSent
        received += other.received
        unmatched += other.unmatched
        latencyMicros.add(other.latencyMicros)
        latencySameServerMicros.add(other.latencySameServerMicros)
        latencyOtherServerMicros.add(other.latencyOtherServerMicros)
        for (server, count) in other.connectedPerServer { connectedPerServer[server, default: 0] += count }
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
    /// Start to every client connected (or given up); nil if that never happened.
    public var connectSeconds: Double?
    /// Every client connected to the deliveries all in (or the drain wait over).
    public var deliverySeconds: Double?
    /// The server's CPU and memory (`--server-pid`).
    public var server: ServerFigures?
    /// `--report-every`: the windows, lost messages and the server's memory over the run.
    public var intervals: IntervalSummary?

    public init(options: LoadOptions, stats: LoadStats, membersPerRoom: [Int: Int], measuredSeconds: Double,
                cpuUserSeconds: Double, cpuSystemSeconds: Double, wallSeconds: Double,
                connectSeconds: Double? = nil, deliverySeconds: Double? = nil, server: ServerFigures? = nil,
                intervals: IntervalSummary? = nil) {
        self.options = options
        self.stats = stats
        self.membersPerRoom = membersPerRoom
        self.measuredSeconds = measuredSeconds
        self.cpuUserSeconds = cpuUserSeconds
        self.cpuSystemSeconds = cpuSystemSeconds
        self.wallSeconds = wallSeconds
        self.connectSeconds = connectSeconds
        self.deliverySeconds = deliverySeconds
        self.server = server
        self.intervals = intervals
    }

    var mode: String {
        options.churn ? "churn" : options.crowd ? "crowd" : options.senders == 0 ? "idle"
            : options.closedLoop ? "closed-loop" : "rate"
    }

    /// Crowd: why the run is not a pass (empty: a pass). Every client must connect, none may be
    /// dropped by the server, and the one broadcast must reach every client within the wait.
    public var crowdProblems: [String] {
        guard options.crowd else { return [] }
        var problems: [String] = []
        if stats.connectFailed > 0 { problems.append("\(stats.connectFailed) of \(options.clients) clients never connected") }
        if stats.dropped > 0 {
            let reasons = stats.dropReasons.sorted { $0.value > $1.value }.map { "\($0.value)× \($0.key)" }.joined(separator: ", ")
            problems.append("\(stats.dropped) dropped by the server (\(reasons))")
        }
        if stats.sent == 0 {
            problems.append("no broadcast: the sender (client 0) was not connected")
        } else if stats.received < expectedDeliveries {
            problems.append("the broadcast reached \(stats.received) of \(expectedDeliveries) clients within the \(Self.fixed(options.drain, 0)) s wait")
        }
        return problems
    }

    /// `--report-every`: why the run is not a pass (empty: a pass). Every client must connect
    /// and stay connected, no measured message may be lost, and the server's VmRSS must stay
    /// flat (when it was read).
    public var intervalProblems: [String] {
        guard let intervals else { return [] }
        var problems: [String] = []
        if stats.connectFailed > 0 { problems.append("\(stats.connectFailed) of \(options.clients) clients never connected") }
        if stats.dropped > 0 { problems.append("\(stats.dropped) dropped by the server") }
        if stats.sent == 0 { problems.append("no measured message was sent") }
        if intervals.messagesLost > 0 {
            problems.append("\(intervals.messagesLost) of \(intervals.messagesSettled) messages lost")
        }
        if intervals.rssFlat == false, let growth = intervals.rssGrowthPercent {
            problems.append("server VmRSS grew \(Self.fixed(growth, 1)) % (limit \(Self.fixed(IntervalSummary.rssTolerancePercent, 0)) %)")
        }
        return problems
    }

    /// `--report-every` rows of the table.
    var intervalRows: [(String, String)] {
        guard let intervals else { return [] }
        let drain = Self.fixed(options.drain, 0)
        let problems = intervalProblems
        return [
            ("messages lost", "\(intervals.messagesLost) of \(intervals.messagesSettled) (not at every member of their room within \(drain) s of being sent); "
                + "\(intervals.lateCopies) copies late"),
            ("server VmRSS", intervals.rssLine),
            ("verdict", problems.isEmpty ? "PASS" : "FAIL: " + problems.joined(separator: "; ")),
        ]
    }

    /// Crowd: the one broadcast's story, e.g. `reached 10000 of 10000 clients; the last after 42.00 ms`.
    var broadcastLine: String {
        if stats.sent == 0 { return "not sent: the sender (client 0) was not connected" }
        let expected = expectedDeliveries
        let last = Self.ms(stats.latencyMicros.max)
        let median = stats.latencyMicros.totalCount > 0 ? Self.ms(stats.latencyMicros.valueAtPercentile(50)) : 0
        if stats.received >= expected {
            return "reached \(stats.received) of \(expected) clients; the last after \(Self.fixed(last)) ms (p50 \(Self.fixed(median)) ms)"
        }
        return "NOT delivered to every client: \(stats.received) of \(expected) within the \(Self.fixed(options.drain, 0)) s wait"
            + (stats.received > 0 ? " (the latest after \(Self.fixed(last)) ms)" : "")
    }

    static func mib(_ kib: Int) -> String { fixed(Double(kib) / 1024, 1) + " MiB" }

    static func bytes(_ count: Int) -> String {
        let value = Double(count)
        if value >= 1_073_741_824 { return fixed(value / 1_073_741_824, 2) + " GiB" }
        if value >= 1_048_576 { return fixed(value / 1_048_576, 1) + " MiB" }
        if value >= 1024 { return fixed(value / 1024, 1) + " KiB" }
        return "\(count) B"
    }

    /// When this process was near a full core (each thread has one loop), its own limits may be
    /// what was measured. Opening ~14,000+ connections from one address is such a limit: the
    /// kernel's search for a free ephemeral port makes each connect() slow (system time).
    var loadBoundNote: String? {
        let perThread = cpuPercent / Double(max(options.threads, 1))
        guard perThread >= 80 else { return nil }
        return "the load was busy \(Self.fixed(perThread, 0))% of the time per thread: the figures may be its limits, not the server's"
    }

    /// `server memory` and `server CPU` rows.
    var serverRows: [(String, String)] {
        guard let server else { return [] }
        var rows: [(String, String)] = []
        var memory = "VmRSS \(Self.mib(server.start.rssKiB)) before"
        if let connected = server.connected {
            memory += ", \(Self.mib(connected.rssKiB)) all connected"
            if let growth = server.rssGrowthPerConnectionKiB(connections: stats.connected) {
                memory += ": \(Self.fixed(growth, 2)) KiB per connection"
            }
        }
        memory += "; peak \(Self.mib(server.peakRSSKiB))"
        rows.append(("server memory", memory))
        var cpu: [String] = []
        if let connected = server.connected {
            let wall = Double(connected.atMicros - server.start.atMicros) / 1_000_000
            cpu.append("\(Self.fixed(connected.cpuSeconds - server.start.cpuSeconds)) s connecting (over \(Self.fixed(wall, 1)) s)")
            if let drained = server.drained {
                let wall = Double(drained.atMicros - connected.atMicros) / 1_000_000
                cpu.append("\(Self.fixed(drained.cpuSeconds - connected.cpuSeconds)) s until the deliveries were in (over \(Self.fixed(wall, 1)) s)")
            }
        }
        rows.append(("server CPU", cpu.isEmpty ? "—" : cpu.joined(separator: ", ")))
        return rows
    }

    /// Clients connected to each server, in the order of the URLs.
    public var connectedPerServer: [Int] { (0..<options.servers).map { stats.connectedPerServer[$0] ?? 0 } }

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
        let modeText = options.crowd ? "crowd: one broadcast once all are connected"
            : mode == "rate" ? "\(Self.fixed(options.rate, 1)) msg/s per sender" : mode
        rows.append(("scenario", "\(options.clients) clients, \(options.rooms) rooms, \(options.senders) senders, \(modeText), \(options.size) B, \(options.threads) thread(s)"
            + (options.relay ? ", relay server" : "")))
        rows.append(("connections", "\(stats.connected) made, \(stats.connectFailed) failed, \(stats.dropped) dropped"))
        if options.servers > 1 {
            rows.append(("  per server", connectedPerServer.map(String.init).joined(separator: " / ")))
        }
        for (reason, count) in stats.failureReasons.sorted(by: { $0.value > $1.value }) {
            rows.append(("  failure", "\(count)× \(reason)"))
        }
        for (reason, count) in stats.dropReasons.sorted(by: { $0.value > $1.value }) {
            rows.append(("  dropped", "\(count)× \(reason)"))
        }
        rows.append(("connect time ms", percentiles(stats.connectMicros).map { "\($0.0) \(Self.fixed($0.1))" }.joined(separator: "  ")))
        if !options.churn, let connectSeconds {
            let rate = connectSeconds > 0 ? " (\(Self.fixed(Double(stats.connected) / connectSeconds, 0)) connections/s)" : ""
            rows.append(("all connected", "after \(Self.fixed(connectSeconds)) s\(rate)"))
        }
        if options.churn {
            rows.append(("churn cycles", "\(stats.cycles) (\(Self.fixed(perSecond(stats.cycles), 1))/s)"))
        }
        if options.crowd {
            rows.append(("broadcast", broadcastLine))
        } else {
            rows.append(("measured", "\(Self.fixed(measuredSeconds)) s"))
            rows.append(("messages sent", "\(stats.sent) (\(Self.fixed(perSecond(stats.sent), 1))/s), \(stats.warmupSent) in warm-up"))
            rows.append(("deliveries", "\(stats.received) of \(expectedDeliveries) expected (\(Self.fixed(perSecond(stats.received), 1))/s), lost \(lost)"))
        }
        if stats.unmatched > 0 { rows.append(("unmatched", "\(stats.unmatched)")) }
        rows.append(("latency ms", percentiles(stats.latencyMicros).map { "\($0.0) \(Self.fixed($0.1))" }.joined(separator: "  ")))
        if options.servers > 1 {
            for (label, histogram) in [("  same server", stats.latencySameServerMicros), ("  other server", stats.latencyOtherServerMicros)] {
                let figures = percentiles(histogram).map { "\($0.0) \(Self.fixed($0.1))" }.joined(separator: "  ")
                rows.append((label, "\(figures)  (\(histogram.totalCount) deliveries)"))
            }
        }
        if !stats.errors.isEmpty {
            rows.append(("server errors", stats.errors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
        }
        rows.append(("received", "\(stats.framesReceived) messages, \(Self.bytes(stats.bytesReceived)) (all types, every client)"))
        rows.append(("load CPU", "\(Self.fixed(cpuUserSeconds)) s user, \(Self.fixed(cpuSystemSeconds)) s sys, \(Self.fixed(cpuPercent, 1))% of one core over \(Self.fixed(wallSeconds, 1)) s"))
        if let note = loadBoundNote { rows.append(("  note", note)) }
        rows += serverRows
        rows += intervalRows
        if options.crowd {
            let problems = crowdProblems
            rows.append(("verdict", problems.isEmpty ? "PASS" : "FAIL: " + problems.joined(separator: "; ")))
        }
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
        func counts(_ reasons: [String: Int]) -> String {
            object(reasons.sorted { $0.key < $1.key }.map { (quoted($0.key).dropFirst().dropLast().description, "\($0.value)") })
        }
        func optional(_ value: Double?) -> String { value.map(number) ?? "null" }
        func sample(_ sample: ProcessSample?) -> String {
            guard let sample, let server else { return "null" }
            return object([("rss_kib", "\(sample.rssKiB)"), ("cpu_s", number(sample.cpuSeconds - server.start.cpuSeconds)),
                           ("at_s", number(Double(sample.atMicros - server.start.atMicros) / 1_000_000))])
        }
        let failures = counts(stats.failureReasons)
        var serverJSON = "null"
        if let server {
            serverJSON = object([
                ("pid", "\(server.pid)"), ("start", sample(server.start)), ("connected", sample(server.connected)),
                ("drained", sample(server.drained)), ("peak_rss_kib", "\(server.peakRSSKiB)"),
                ("rss_kib_per_connection", optional(server.rssGrowthPerConnectionKiB(connections: stats.connected))),
            ])
        }
        let problems = crowdProblems
        var intervalsJSON = "null"
        if let intervals {
            func int(_ value: Int?) -> String { value.map { "\($0)" } ?? "null" }
            let windows = intervals.lines.map { line in
                object([("start_s", number(line.startSeconds)), ("end_s", number(line.endSeconds)), ("drain", "\(line.drain)"),
                        ("sent", "\(line.sent)"), ("delivered", "\(line.delivered)"), ("late", "\(line.late)"),
                        ("lost", "\(line.lost)"), ("p50_ms", optional(line.p50Ms)), ("p99_ms", optional(line.p99Ms)),
                        ("rss_kib", int(line.rssKiB)), ("server_cpu_percent", optional(line.serverCPUPercent))])
            }
            let intervalProblems = self.intervalProblems
            intervalsJSON = object([
                ("every_s", number(options.reportEvery ?? 0)), ("windows", "[" + windows.joined(separator: ",") + "]"),
                ("messages_settled", "\(intervals.messagesSettled)"), ("messages_lost", "\(intervals.messagesLost)"),
                ("late_copies", "\(intervals.lateCopies)"), ("rss_baseline_kib", int(intervals.baseline?.rssKiB)),
                ("rss_compared_kib", "[" + intervals.compared.map { "\($0.rssKiB)" }.joined(separator: ",") + "]"),
                ("rss_growth_percent", optional(intervals.rssGrowthPercent)),
                ("rss_flat", intervals.rssFlat.map { "\($0)" } ?? "null"),
                ("pass", "\(intervalProblems.isEmpty)"),
                ("problems", "[" + intervalProblems.map(quoted).joined(separator: ",") + "]"),
            ])
        }
        return object([
            ("mode", quoted(mode)), ("relay", options.relay ? "true" : "false"),
            ("clients", "\(options.clients)"), ("rooms", "\(options.rooms)"), ("senders", "\(options.senders)"),
            ("rate", number(options.rate)), ("size", "\(options.size)"), ("threads", "\(options.threads)"),
            ("duration_s", number(options.duration)), ("warmup_s", number(options.warmup)),
            ("measured_s", number(measuredSeconds)),
            ("connections", object([("attempted", "\(stats.connectAttempts)"), ("made", "\(stats.connected)"),
                                    ("failed", "\(stats.connectFailed)"), ("dropped", "\(stats.dropped)"),
                                    ("failures", failures), ("drops", counts(stats.dropReasons)),
                                    ("connect_ms", object(connect)), ("all_connected_s", optional(connectSeconds))])),
            ("churn", object([("cycles", "\(stats.cycles)"), ("per_s", number(perSecond(stats.cycles)))])),
            ("messages", object([("sent", "\(stats.sent)"), ("warmup", "\(stats.warmupSent)"),
                                 ("per_s", number(perSecond(stats.sent)))])),
            ("deliveries", object([("expected", "\(expectedDeliveries)"), ("received", "\(stats.received)"),
                                   ("lost", "\(lost)"), ("unmatched", "\(stats.unmatched)"),
                                   ("per_s", number(perSecond(stats.received)))])),
            ("latency_ms", object(latency)),
            ("servers", object([
                ("count", "\(options.servers)"),
                ("connected", "[" + connectedPerServer.map(String.init).joined(separator: ",") + "]"),
                ("latency_same_ms", options.servers > 1 ? object(percentiles(stats.latencySameServerMicros).map { ($0.0, number($0.1)) }) : "null"),
                ("latency_other_ms", options.servers > 1 ? object(percentiles(stats.latencyOtherServerMicros).map { ($0.0, number($0.1)) }) : "null"),
            ])),
            ("received", object([("messages", "\(stats.framesReceived)"), ("bytes", "\(stats.bytesReceived)")])),
            ("delivery_s", optional(deliverySeconds)),
            ("server", serverJSON),
            ("verdict", options.crowd ? object([("pass", problems.isEmpty ? "true" : "false"),
                                                ("problems", "[" + problems.map(quoted).joined(separator: ",") + "]")]) : "null"),
            ("intervals", intervalsJSON),
            ("errors", object(stats.errors.sorted { $0.key < $1.key }.map { (quoted($0.key).dropFirst().dropLast().description, "\($0.value)") })),
            ("cpu", object([("user_s", number(cpuUserSeconds)), ("system_s", number(cpuSystemSeconds)),
                            ("percent", number(cpuPercent)), ("wall_s", number(wallSeconds))])),
        ])
    }
}
