import CLibUV
import ConfabCodec
import Logging

/// Owns the libuv loop and every handle on it. All of Confab's I/O happens here,
/// on the one thread that calls `run()`; everything else is told what happened
/// through `ReactorDelegate` and answers with decisions.
public final class Reactor {
    let loop: UnsafeMutablePointer<uv_loop_t>
    let settings: ReactorSettings
    let logger: Logger
    public unowned(unsafe) var delegate: (any ReactorDelegate)?
    public unowned(unsafe) var clientDelegate: (any ClientDelegate)?

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

    // Connections with frames queued this loop turn; flushed once each in the check phase.
    var flushQueue: [Connection] = []
    var bufferScratch: [uv_buf_t] = []
    let readSlab: UnsafeMutableRawPointer
    /// Pings carry no payload, so one frame serves every connection.
    let pingFrame = OutboundFrame(FrameEncoder.encode(opcode: .ping, payload: [], fin: true, mask: nil))

    var listeners: [Listener] = []
    let flushCheck: UnsafeMutablePointer<uv_check_t>
    /// Called once per loop turn, before the turn's writes are flushed: what the server
    /// collected during the turn (presence) can still join this turn's writes.
    public var turnEnded: (() -> Void)?
    var timers: [LoopTimer] = []
    var signals: [SignalWatcher] = []
    var inputReaders: [InputReader] = []
    var isStopping = false

    public init(settings: ReactorSettings, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
        try check(uv_loop_init(loop), "uv_loop_init")
        readSlab = UnsafeMutableRawPointer.allocate(byteCount: settings.readBufferBytes, alignment: 16)
        flushCheck = UnsafeMutablePointer<uv_check_t>.allocate(capacity: 1)
        uv_check_init(loop, flushCheck)
        setContext(flushCheck.cast(to: uv_handle_t.self), self)
        uv_check_start(flushCheck) { handle in
            guard let reactor = context(handle?.cast(to: uv_handle_t.self), as: Reactor.self) else { return }
            reactor.turnEnded?()
            reactor.flushAll()
        }
        // The check handle must not keep the loop alive by itself.
        uv_unref(flushCheck.cast(to: uv_handle_t.self))
        lastSweep = uv_hrtime()
        every(milliseconds: Self.sweepIntervalMs, keepsLoopAlive: false) { [unowned self] in self.sweep() }
    }

    deinit {
        readSlab.deallocate()
    }

    static let sweepIntervalMs: UInt64 = 1000

    /// Milliseconds of loop time (monotonic, cached per loop turn).
    public var now: UInt64 { uv_now(loop) }

    /// Runs the loop until every handle is closed (after `shutdown()`).
    public func run() {
        uv_run(loop, UV_RUN_DEFAULT)
        flushAll()
    }

    // MARK: Connection table

    func connection(_ id: ConnectionID) -> Connection? {
        let slot = Int(truncatingIfNeeded: id & 0xFFFF_FFFF)
        guard slot < slots.count, let connection = slots[slot], connection.id == id else { return nil }
        return connection
    }

    /// A new connection with its TCP handle initialised.
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
        let id = (UInt64(generations[slot]) << 32) | UInt64(slot)
        let connection = Connection(id: id, reactor: self, isClient: isClient, input: input, now: now)
        uv_tcp_init(loop, connection.tcp)
        setContext(connection.tcp.cast(to: uv_handle_t.self), connection)
        slots[slot] = connection
        connectionCount += 1
        return connection
    }

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
}
