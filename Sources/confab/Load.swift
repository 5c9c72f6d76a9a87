import ArgumentParser
import ConfabClient
import ConfabReactor
import Foundation

struct Load: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load-test a server: many WebSocket clients, latency percentiles.",
        discussion: """
            Clients connect (at --ramp per second), clients 0..<senders send messages to their
            room, every delivery is matched to its message by the id and send time in its text.
            Several URLs (a cluster's nodes): client i connects to URL (i / --rooms) mod N,
            round robin so that every room spans them all; the report adds the clients
            per server and the latency on the sender's server and on another.
            The report gives connections made/failed and connect time, messages/s, deliveries/s,
            expected vs received deliveries (loss) and delivery latency p50/p90/p99/p99.9/max,
            and this process's own CPU use. --json prints one JSON object instead of the table.

            The server must allow the load: its default rate limit (chat.rate.perSecond 5,
            burst 20) refuses faster senders, so run it with a config such as
              chat: {rate: {perSecond: 100000, burst: 100000}, maxRooms: 10000}
            --crowd: every client in the one home room (no join), connected at --ramp per second;
            once all are connected client 0 sends ONE message and the run waits up to --drain
            seconds for it to reach every client. A pass needs every client connected, none
            dropped by the server and the broadcast delivered to all; --server-pid PID adds the
            server's CPU and VmRSS per phase (same machine). --relay aims at a bare relay that
            has no welcome or rooms (e.g. shared/peers/uwebsockets).
            --report-every S: a line per S seconds of measuring (messages sent, deliveries and
            their p50/p99, lost messages, copies late; the server's VmRSS and CPU with
            --server-pid), then a verdict: a message is lost when, --drain seconds after it was
            sent, not every member of its room (those ready when measuring began) has it; the
            server's VmRSS is flat when no sample at a window boundary is more than 10 % above
            the one when measuring began (after --warmup). A pass needs every client connected
            and kept, no message lost and VmRSS flat.
            Scenarios that start such a server: Scripts/load/{fanout,rooms,idle,churn,crowd,soak}.
            Exit codes: 0 done, 1 no connection could be made, 3 crowd or --report-every run not
            a pass, 64 usage.
            """)

    @Argument(help: "Server WebSocket URL(s), e.g. ws://127.0.0.1:8080/ws; clients are spread over several round robin.")
    var urls: [String] = []

    @Option(name: .long, help: "Number of WebSocket clients.")
    var clients = 10

    @Option(name: .long, help: "Rooms the clients are spread over (1: the home room).")
    var rooms = 1

    @Option(name: .long, help: "How many of the clients send.")
    var senders = 1

    @Option(name: .long, help: "Messages per second per sender.")
    var rate = 1.0

    @Flag(name: .customLong("closed-loop"), help: "Each sender sends its next message when the previous one comes back.")
    var closedLoop = false

    @Option(name: .long, help: "Bytes of message text.")
    var size = 64

    @Option(name: .long, help: "Seconds measured.")
    var duration = 5.0

    @Option(name: .long, help: "Seconds of sending before measuring.")
    var warmup = 1.0

    @Option(name: .long, help: "New connections per second (0: as fast as possible, 256 in flight per thread).")
    var ramp = 0.0

    @Option(name: .long, help: "Threads, each with its own event loop.")
    var threads = 1

    @Flag(name: .long, help: "Connect/upgrade/close cycles instead of messages (--clients in parallel).")
    var churn = false

    @Flag(name: .long, help: "One room, one broadcast once all clients are connected, wait --drain s for it (implies 1 sender, no warm-up).")
    var crowd = false

    @Option(name: .long, help: "Seconds to wait for the last deliveries once sending stops (default 3; 30 with --crowd).")
    var drain: Double?

    @Option(name: .customLong("connect-window"), help: "Seconds the connect phase may take; what is not connected by then fails.")
    var connectWindow = 60.0

    @Flag(name: .long, help: "The server is a bare relay: no welcome, no rooms; the upgrade is the welcome.")
    var relay = false

    @Option(name: .customLong("server-pid"), help: "Read this server process's CPU and VmRSS at each phase (same machine).")
    var serverPID: Int32?

    @Option(name: .customLong("report-every"), help: "Print a line every this many seconds of measuring (deliveries, lost messages, p50/p99, the server's VmRSS and CPU with --server-pid) and judge the run at the end.")
    var reportEvery: Double?

    @Flag(name: .long, help: "Print one JSON object instead of the table.")
    var json = false

    func run() throws {
        var options = LoadOptions()
        options.clients = clients
        options.rooms = rooms
        options.senders = churn ? 0 : crowd ? 1 : senders
        options.rate = rate
        options.closedLoop = closedLoop
        options.size = size
        options.duration = duration
        options.warmup = churn || crowd ? 0 : warmup
        options.ramp = ramp
        options.threads = min(threads, clients)
        options.churn = churn
        options.crowd = crowd
        options.drain = drain ?? (crowd ? 30 : 3)
        options.connectWindow = connectWindow
        options.relay = relay
        options.serverPID = serverPID
        options.servers = urls.count
        guard !urls.isEmpty else { throw ValidationError("give at least one server URL") }
        options.reportEvery = reportEvery
        if let problem = options.validate() { throw ValidationError(problem) }
        var targets: [LoadTarget] = []
        for url in urls {
            let parsed: ServerURL
            do { parsed = try ServerURL(parsing: url) } catch { throw ValidationError("\(error)") }
            do { targets.append(LoadTarget(url: parsed, address: try ServerAddress(host: parsed.host, port: parsed.port))) } catch {
                FileHandle.standardError.write(Data("confab load: cannot resolve \(parsed.host)\n".utf8))
                throw ExitCode(1)
            }
        }
        raiseDescriptorLimit()
        let report = try LoadRunner.run(options: options, targets: targets, linesTo: json ? 2 : 1,
                                        makeReactor: { try makeClientReactor() })
        writeAll(json ? report.json() + "\n" : report.table())
        if report.stats.connected == 0 {
            let reasons = report.stats.failureReasons.keys.sorted().joined(separator: "; ")
            FileHandle.standardError.write(Data("confab load: no connection could be made: \(reasons)\n".utf8))
            throw ExitCode(1)
        }
        if crowd && !report.crowdProblems.isEmpty { throw ExitCode(3) }
        if !report.intervalProblems.isEmpty { throw ExitCode(3) }
    }
}
