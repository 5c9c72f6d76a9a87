/// What `confab load` was asked to do. Plain values; `confab load` fills them from flags.
public struct LoadOptions: Sendable, Equatable {
    public var clients = 10
    /// Clients are spread round-robin over this many rooms (`load-0`…; one room is the home room).
    public var rooms = 1
    /// Clients 0..<senders send; they land in rooms round-robin too.
    public var senders = 1
    /// Messages per second per sender (ignored with `closedLoop`).
    public var rate = 1.0
    /// Each sender sends its next message when its previous one comes back.
    public var closedLoop = false
    /// Bytes of message text (at least the header the matcher needs).
    public var size = 64
    /// Seconds measured.
    public var duration = 5.0
    /// Seconds of sending before measuring starts (not counted).
    public var warmup = 1.0
    /// New connections per second over all threads; 0: as fast as the in-flight cap allows.
    public var ramp = 0.0
    public var threads = 1
    /// Connect/upgrade/close cycles instead of messages: each client loops until the end.
    public var churn = false
    /// Crowd: every client in the one room (the home room: no join), then, once all are
    /// connected, client 0 sends ONE measured message and the run waits up to `drain` seconds
    /// for it to reach every client. No warm-up, no rate; `duration` is unused.
    public var crowd = false
    /// Seconds to wait, once sending has stopped, for the last deliveries.
    public var drain = 3.0
    /// Seconds the whole connect phase may take (not churn): connections still in flight then
    /// fail, those not started are given up, and the run goes on with the clients it has.
    public var connectWindow = 60.0
    /// The server is a bare relay (no welcome, rooms or presence; every text goes to every
    /// client, e.g. shared/peers/uwebsockets): a client is ready once upgraded, and the copies
    /// it receives are its own send requests verbatim.
    public var relay = false
    /// Servers the clients are spread over (the URLs `confab load` was given).
    public var servers = 1
    /// A process on this machine (the server) whose CPU time and VmRSS are read at the start,
    /// when all are connected and when the deliveries are in (Linux /proc).
    public var serverPID: Int32?
    /// Seconds per interval line while measuring (deliveries, lost messages, latency, the
    /// server's VmRSS and CPU), and a verdict at the end; nil: only the final report.
    public var reportEvery: Double?

    public init() {}

    /// The room a client is in.
    public func room(ofClient index: Int) -> Int { index % max(rooms, 1) }

    /// The server a client connects to: round robin within each room (`room(ofClient:)` takes
    /// the other factor), so every room has members on every server when it has enough clients.
    public func server(ofClient index: Int) -> Int { (index / max(rooms, 1)) % max(servers, 1) }

    /// The thread a client lives on.
    public func thread(ofClient index: Int) -> Int { index % max(threads, 1) }

    /// Room names: the home room alone, or `load-N` (each client leaves the home room).
    public func roomName(_ room: Int) -> String? { rooms <= 1 ? nil : "load-\(room)" }

    public func validate() -> String? {
        if clients < 1 { return "--clients must be at least 1" }
        if rooms < 1 { return "--rooms must be at least 1" }
        if rooms > clients { return "--rooms cannot exceed --clients" }
        if senders < 0 || senders > clients { return "--senders must be between 0 and --clients" }
        if !closedLoop && !(rate > 0) && senders > 0 { return "--rate must be positive" }
        if size < 1 || size > 1_000_000 { return "--size must be between 1 and 1000000" }
        if !(duration > 0) || duration > 3600 { return "--duration must be in (0, 3600] seconds" }
        if warmup < 0 { return "--warmup cannot be negative" }
        if ramp < 0 { return "--ramp cannot be negative" }
        if threads < 1 || threads > 64 { return "--threads must be between 1 and 64" }
        if !(drain >= 0) || drain > 3600 { return "--drain must be in [0, 3600] seconds" }
        if !(connectWindow > 0) || connectWindow > 3600 { return "--connect-window must be in (0, 3600] seconds" }
        if crowd {
            if churn { return "--crowd and --churn exclude each other" }
            if closedLoop { return "--crowd and --closed-loop exclude each other" }
            if rooms != 1 { return "--crowd puts every client in the one home room: --rooms must be 1" }
            if senders != 1 { return "--crowd has exactly one sender" }
        }
        if relay && rooms != 1 { return "--relay: a relay has no rooms, --rooms must be 1" }
        if servers < 1 || servers > 64 { return "between 1 and 64 server URLs" }
        if let serverPID, serverPID <= 0 { return "--server-pid must be a process id" }
        if let reportEvery {
            if !(reportEvery >= 1) || reportEvery > 3600 { return "--report-every must be in [1, 3600] seconds" }
            if crowd || churn || senders == 0 { return "--report-every needs senders (not --crowd or --churn)" }
        }
        return nil
    }
}
