import CLibUV
import ConfabCodec
import Glibc
import Logging

/// Owns the libuv loop and every handle on it. All of Confab's I/O happens here,
/// on the one thread that calls `run()`; everything else is told what happened
/// through `ReactorDelegate` and answers with decisions.
///
/// Life: `init`, set up (listen, connect, timers, signals), then `run()` once. `run()`
/// returns with every handle closed and the loop closed (`uv_loop_close`); a reactor
/// dropped without running closes them in `deinit`. The objects behind the handles
/// (connections, listeners, timers) point back here unretained: the reactor outlives
/// them because it closes them all before it goes.
public final class Reactor {
    /// Where the loop is in its life; only ever moves forward.
    enum LoopState: Equatable {
        /// Open: handles may be made and the loop run.
        case open
        /// `stop()` has closed every handle; their close callbacks may still be due.
        /// New timers never fire, new connections and listeners are not made.
        case stopping
        /// `uv_loop_close` has been called: nothing may touch the loop again.
        case closed
    }

    let loop: UnsafeMutablePointer<uv_loop_t>
    public private(set) var settings: ReactorSettings
    let logger: Logger
    /// Told of server-side events. Held strongly until the loop is closed at the end of
    /// `run()`, then released: the reactor never calls a delegate that is gone, and a
    /// delegate that owns the reactor makes no cycle once the loop is closed.
    public var delegate: (any ReactorDelegate)?
    /// Told of client-side events (`connect`); held and released like `delegate`.
    public var clientDelegate: (any ClientDelegate)?

    // Connection table: slot index + generation make a ConnectionID, so a lookup on the
    // fan-out path is an array index, not a hash.
    var slots: [Connection?] = []
    var generations: [UInt32] = []
    var freeSlots: [Int] = []
    public internal(set) var connectionCount = 0
    /// Open WebSocket and line sessions (connections past their handshake).
    public internal(set) var sessionCount = 0
    public internal(set) var stats = ReactorStats()
    var lastSweep: UInt64 = 0
    var lastAcceptErrorLog: UInt64 = 0
    /// RLIMIT_NOFILE's soft limit when last read (0: not yet). Re-read only for a descriptor
    /// at or past it, so an accept costs no getrlimit until the table nears full.
    var knownDescriptorLimit: rlim_t = 0

    // Connections with frames queued this loop turn; flushed once each in the check phase.
    var flushQueue: [Connection] = []
    var bufferScratch: [uv_buf_t] = []
    let readSlab: UnsafeMutableRawPointer
    /// Pings carry no payload, so one frame serves every connection.
    let pingFrame = OutboundFrame(FrameEncoder.encode(opcode: .ping, payload: [], fin: true, mask: nil))

    var listeners: [Listener] = []
    let flushCheck: UnsafeMutablePointer<uv_check_t>
    /// Called once per loop turn, before the turn's writes are flushed: what the server
    /// collected during the turn (presence) can still join this turn's writes. Released,
    /// like the delegates, when the loop is closed.
    public var turnEnded: (() -> Void)?
    var timers: [LoopTimer] = []
    var signals: [SignalWatcher] = []
    var inputReaders: [InputReader] = []
    /// Redis clients, held from their init until they are closed (by their owner or `stop()`).
    var redisClients: [RedisClient] = []
    /// Child processes being watched, from `spawn` until their exit (or `stop()`).
    var children: [ChildProcess] = []

    var state = LoopState.open
    private var isRunning = false
    /// What `uv_loop_close` returned (0: closed); nil until the loop is closed.
    private(set) var loopCloseStatus: Int32?
    /// Every libuv request that needs a callback, and the callbacks that came.
    var ledger = LoopLedger()

    public init(settings: ReactorSettings, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
        let status = uv_loop_init(loop)
        guard status == 0 else {
            loop.deallocate()
            throw LibuvError(operation: "uv_loop_init", code: status)
        }
        self.loop = loop
        readSlab = UnsafeMutableRawPointer.allocate(byteCount: settings.readBufferBytes, alignment: 16)
        flushCheck = UnsafeMutablePointer<uv_check_t>.allocate(capacity: 1)
        // Every handle's close callback finds the reactor through its loop.
        loop.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        opened(uv_check_init(loop, flushCheck), "uv_check_init")
        setContext(flushCheck.cast(to: uv_handle_t.self), self)
        uv_check_start(flushCheck) { handle in
            context(handle?.cast(to: uv_handle_t.self), as: Reactor.self)?.finishTurn()
        }
        // The check handle must not keep the loop alive by itself.
        uv_unref(flushCheck.cast(to: uv_handle_t.self))
        lastSweep = uv_hrtime()
        every(milliseconds: Self.sweepIntervalMs, keepsLoopAlive: false) { [unowned self] in self.sweep() }
    }

    /// What the server collected (presence) joins the writes, and the writes go out. After
    /// the poll phase (the check handle), and after each timer callback: timers run before
    /// the poll, which may then block, so their work would otherwise wait for the next event.
    func finishTurn() {
        turnEnded?()
        flushAll()
    }

    deinit {
        if state != .closed {
            // Never run: close what was set up without telling anyone.
            delegate = nil
            clientDelegate = nil
            closeLoop()
        }
        // A loop that would not close still has handles pointing at it: leave its memory.
        if loopCloseStatus == 0 { loop.deallocate() }
        readSlab.deallocate()
    }

    static let sweepIntervalMs: UInt64 = 1000

    /// New limits and timeouts (a config reload), in force from the next read and sweep. The
    /// read buffer was allocated at start and keeps its size.
    public func reconfigure(_ new: ReactorSettings) {
        var next = new
        next.readBufferBytes = settings.readBufferBytes
        settings = next
    }

    /// Milliseconds of loop time (monotonic, cached per loop turn).
    public var now: UInt64 { uv_now(loop) }

    /// Runs the loop until every handle is closed (after `stop()`, or when nothing keeps
    /// it alive any more), then closes what is left and the loop itself. Once per reactor.
    public func run() {
        // Running a closed loop would use what uv_loop_close released.
        precondition(state != .closed, "Reactor.run(): the loop is already closed; a reactor runs once")
        precondition(!isRunning, "Reactor.run() called from inside run()")
        isRunning = true
        uv_run(loop, UV_RUN_DEFAULT)
        isRunning = false
        closeLoop()
    }

    /// Closes every handle still open, lets libuv deliver their callbacks (cancelled
    /// writes, connects and shutdowns first, then the close callbacks that free the
    /// memory), and closes the loop. Afterwards the delegates are released.
    func closeLoop() {
        stop()
        uv_run(loop, UV_RUN_DEFAULT)
        flushQueue.removeAll()
        timers.removeAll()
        signals.removeAll()
        inputReaders.removeAll()
        redisClients.removeAll()
        children.removeAll()
        let status = uv_loop_close(loop)
        loopCloseStatus = status
        state = .closed
        if status != 0 {
            let open = openHandles()
            logger.error("libuv loop not closed", metadata: ["error": "\(uvErrorDescription(status))", "open": "\(open)"])
            assertionFailure("uv_loop_close: \(uvErrorDescription(status)); still open: \(open); \(ledger)")
        }
        assert(connectionCount == 0, "loop closed with \(connectionCount) connections still in the table")
        assert(ledger.isBalanced, "loop closed with libuv requests never called back: \(ledger)")
        delegate = nil
        clientDelegate = nil
        turnEnded = nil
    }

    /// The types of the handles still on the loop, e.g. ["tcp", "timer"], for messages.
    func openHandles() -> [String] {
        var names: [String] = []
        withUnsafeMutablePointer(to: &names) { names in
            uv_walk(loop, { handle, names in
                guard let handle, let names else { return }
                names.assumingMemoryBound(to: [String].self).pointee.append(handleTypeName(handle))
            }, names)
        }
        return names
    }

    /// The reactor whose loop this is (set in `init`).
    static func of(_ loop: UnsafeMutablePointer<uv_loop_t>?) -> Reactor? {
        guard let data = loop?.pointee.data else { return nil }
        return Unmanaged<Reactor>.fromOpaque(data).takeUnretainedValue()
    }

    // MARK: Handle lifecycle

    /// Records a handle `function` (a `uv_*_init`) set up, which must now be closed once.
    /// Callers check the inits that can fail; the others fail only on a bad argument.
    func opened(_ result: Int32, _ function: StaticString) {
        assert(result == 0, "\(function): \(uvErrorDescription(result))")
        ledger.handlesOpened += 1
    }

    /// Closes a handle whose owner has no more use for it; its memory is freed in the
    /// close callback, the only safe moment (libuv handle.rst). Each owner tracks whether
    /// it has closed its handle and calls this exactly once.
    func closeAndFree<Handle>(_ handle: UnsafeMutablePointer<Handle>) {
        let base = handle.cast(to: uv_handle_t.self)
        assert(uv_is_closing(base) == 0, "uv_close on a \(handleTypeName(base)) handle that is already closing: closed twice")
        base.pointee.data = nil
        ledger.closesRequested += 1
        uv_close(base) { closed in
            guard let closed else { return }
            Reactor.of(closed.pointee.loop)?.ledger.handlesClosed += 1
            closed.deallocate()
        }
    }

    /// Before making a handle: true while the loop is open. Making one on a closed loop
    /// would use what `uv_loop_close` released; while stopping it would keep the loop
    /// from ever closing, so the caller makes nothing.
    func mayOpenHandle(_ operation: String) -> Bool {
        precondition(state != .closed, "\(operation): the loop is closed")
        return state == .open
    }

    // MARK: Connection table

    func connection(_ id: ConnectionID) -> Connection? {
        let slot = Int(truncatingIfNeeded: id & 0xFFFF_FFFF)
        guard slot < slots.count, let connection = slots[slot], connection.id == id else { return nil }
        return connection
    }

    /// A new connection with its TCP handle initialised (and counted in the ledger).
    func makeConnection(isClient: Bool, input: Connection.Input) -> Connection {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
        } else {
            slot = slots.count
            slots.append(nil)
            generations.append(0)
        }
        generations[slot] &+= 1
        if generations[slot] == 0 { generations[slot] = 1 }  // Generation 0 is never issued.
        let id = (UInt64(generations[slot]) << 32) | UInt64(slot)
        let connection = Connection(id: id, reactor: self, isClient: isClient, input: input, now: now)
        opened(uv_tcp_init(loop, connection.tcp), "uv_tcp_init")
        setContext(connection.tcp.cast(to: uv_handle_t.self), connection)
        slots[slot] = connection
        connectionCount += 1
        return connection
    }

    /// An id that never names a connection (generation 0 is never issued).
    static let noConnection: ConnectionID = 0

    func releaseSlot(of connection: Connection) {
        let slot = Int(truncatingIfNeeded: connection.id & 0xFFFF_FFFF)
        guard slot < slots.count, slots[slot] === connection else {
            assertionFailure("releaseSlot: connection \(connection.id) is not in its slot")
            return
        }
        slots[slot] = nil
        freeSlots.append(slot)
        connectionCount -= 1
    }

    /// Every live connection; for sweeps and shutdown, not for the fan-out path.
    func forEachConnection(_ body: (Connection) -> Void) {
        for case let connection? in slots { body(connection) }
    }

    /// The peer address of a connection, for logs.
    public func peer(of id: ConnectionID) -> String? { connection(id)?.peer }

    /// How the logs name a connection from now on, e.g. a proxied client as
    /// "203.0.113.7 via 127.0.0.1:50312".
    public func describePeer(_ id: ConnectionID, as description: String) { connection(id)?.peer = description }
}
