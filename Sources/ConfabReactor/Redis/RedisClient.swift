import CLibUV
import ConfabCodec
import Logging

/// An asynchronous Redis client on the reactor's own loop, through hiredis and its libuv
/// adapter: no thread, and nothing it does blocks the loop (connects are non-blocking, host
/// names are resolved by libuv off the loop thread). Loop thread only.
///
/// Two connections: one for commands (`send`) and one subscribed to `channels` (none when
/// there are no channels). The client is up once both are logged in (AUTH, SELECT from the
/// endpoint) and every channel's SUBSCRIBE is confirmed. Losing either connection drops both
/// and reconnects both, so after `onUp` the subscription is fresh; what was published while
/// the client was down is not replayed (Redis pub/sub keeps nothing). Attempts retry
/// forever, 50–100 ms after the first failure, doubling up to 2.5–5 s (`ReconnectBackoff`),
/// each given `connectTimeoutMs` to come up.
/// The command connection is PINGed every second while up: that measures `roundTripMs`, and
/// a PING unanswered for `pingTimeoutMs` counts as a lost connection.
///
/// Every reply handler given to `send` is called exactly once, on the loop thread, until
/// `close()`: with Redis's reply; with `.error("not connected")` on a later loop turn (never
/// inside `send`) when the client is not up; with `.error(reason)` when the connection is
/// lost before the reply came (after `onDown`); with `.error("closed")` inside `close()`.
public final class RedisClient {
    public let endpoint: RedisEndpoint
    /// The channels subscribed to, without repeats, as given.
    public let channels: [String]

    /// Both connections ready and every channel subscribed; again after each outage.
    public var onUp: (() -> Void)?
    /// The client was up and lost a connection (the reason says which and why). Once per
    /// outage: failed reconnect attempts are not reported (nor is `close()`).
    public var onDown: ((String) -> Void)?
    /// A pub/sub message, in the order Redis sent them. Can come shortly before `onUp`,
    /// between the subscriber's confirmation and the command connection's.
    public var onMessage: ((_ channel: [UInt8], _ payload: [UInt8]) -> Void)?

    public private(set) var isUp = false
    /// The last PING's round trip in milliseconds; nil while down.
    public private(set) var roundTripMs: Double?
    public private(set) var counters = RedisCounters()

    unowned(unsafe) let reactor: Reactor
    let logger: Logger
    let timing: RedisTiming
    private let channelBytes: [[UInt8]]

    private enum State { case idle, connecting, up, waiting, closed }
    private var state = State.idle
    private var commands: RedisConnection?
    private var subscriber: RedisConnection?
    private var attempts = 0
    private var everUp = false
    /// Set when an outage has been logged, so each is logged once.
    private var outageLogged = false
    private var backoff = ReconnectBackoff(baseMs: 100, maxMs: 5_000)
    /// The attempt's deadline while connecting, the retry delay while waiting.
    private var timer: LoopTimer?
    private var pingTimer: LoopTimer?
    private var pingSentAt: UInt64?
    /// Answers due on the next loop turn, and the timer that delivers them.
    private var deferred: [((RedisReply) -> Void, RedisReply)] = []
    private var deferTimer: LoopTimer?

    public convenience init(reactor: Reactor, endpoint: RedisEndpoint, channels: [String], logger: Logger) {
        self.init(reactor: reactor, endpoint: endpoint, channels: channels, logger: logger, timing: RedisTiming())
    }

    init(reactor: Reactor, endpoint: RedisEndpoint, channels: [String], logger: Logger, timing: RedisTiming) {
        self.reactor = reactor
        self.endpoint = endpoint
        var seen = Set<String>()
        self.channels = channels.filter { seen.insert($0).inserted }
        channelBytes = self.channels.map { Array($0.utf8) }
        self.logger = logger
        self.timing = timing
        // The reactor holds the client until it is closed; its stop() closes every client.
        if reactor.mayOpenHandle("RedisClient") {
            reactor.redisClients.append(self)
        } else {
            state = .closed
        }
    }

    /// Connects, and keeps reconnecting until `close()`. Once only; does nothing on a client
    /// made while the reactor was stopping.
    public func start() {
        guard state == .idle else { return }
        attempt()
    }

    /// Sends one command, its arguments as bytes (binary-safe). `reply` runs on the loop
    /// thread, exactly once (see the type's notes). Commands that would change what the
    /// command connection is (SUBSCRIBE and the like, MONITOR, SELECT, AUTH, HELLO, QUIT,
    /// RESET, CLIENT REPLY) or block it (BLPOP and the other blocking pops, XREAD BLOCK, WAIT)
    /// get an error reply instead. After `close()` nothing is sent and `reply` is never called.
    public func send(_ arguments: [[UInt8]], reply: ((RedisReply) -> Void)?) {
        guard state != .closed else { return }
        if let refusal = Self.refusal(arguments) { return later(reply, .error(refusal)) }
        guard state == .up, let commands, commands.command(arguments, reply: reply) else {
            return later(reply, .error("not connected"))
        }
        counters.commandsSent += 1
    }

    /// Ends both connections and every timer: unanswered commands get `.error("closed")`
    /// before this returns, and nothing is called afterwards. The handles go with the loop's
    /// next turn, so `run()` still ends with the loop closed. Safe to call again.
    public func close() {
        guard state != .closed else { return }
        state = .closed
        isUp = false
        roundTripMs = nil
        for timer in [timer, pingTimer, deferTimer] { timer?.cancel() }
        deferTimer = nil  // Its body holds the client.
        let unanswered = (commands?.close() ?? []) + (subscriber?.close() ?? [])
        commands = nil
        subscriber = nil
        reactor.redisClients.removeAll { $0 === self }
        let due = deferred
        deferred.removeAll()
        onUp = nil
        onDown = nil
        onMessage = nil
        for (handler, value) in due { handler(value) }
        for handler in unanswered { handler(.error("closed")) }
    }

    // MARK: Connections

    private func attempt() {
        state = .connecting
        attempts += 1
        let commands = RedisConnection(reactor: reactor, endpoint: endpoint, channels: [], attempt: attempts)
        let subscriber = channelBytes.isEmpty ? nil
            : RedisConnection(reactor: reactor, endpoint: endpoint, channels: channelBytes, attempt: attempts)
        commands.client = self
        subscriber?.client = self
        self.commands = commands
        self.subscriber = subscriber
        timer = reactor.after(milliseconds: timing.connectTimeoutMs, keepsLoopAlive: true) { [unowned self] in
            drop("not connected within \(timing.connectTimeoutMs) ms")
        }
        commands.start()
        subscriber?.start()  // A no-op if the command connection already failed and dropped it.
    }

    func connectionReady(_ connection: RedisConnection) {
        guard state == .connecting, commands?.phase == .ready, subscriber.map({ $0.phase == .ready }) ?? true else { return }
        state = .up
        isUp = true
        timer?.cancel()
        timer = nil
        backoff.reset()
        logger.info(everUp ? "redis reconnected" : "redis connected", metadata: ["redis": "\(endpoint)", "attempts": "\(attempts)"])
        if everUp { counters.reconnects += 1 }
        everUp = true
        outageLogged = false
        pingSentAt = nil
        pingTimer = reactor.every(milliseconds: timing.pingIntervalMs) { [unowned self] in ping() }
        onUp?()
    }

    func connectionEnded(_ connection: RedisConnection, reason: String) {
        guard connection === commands || connection === subscriber else { return }
        drop(reason)
    }

    func received(channel: [UInt8], payload: [UInt8]) {
        guard state == .connecting || state == .up else { return }
        counters.messagesReceived += 1
        onMessage?(channel, payload)
    }

    /// Drops both connections and schedules the next attempt; then tells `onDown` (if the
    /// client was up) and fails the commands that will get no reply.
    private func drop(_ reason: String) {
        guard state == .connecting || state == .up else { return }
        let wasUp = state == .up
        state = .waiting
        isUp = false
        roundTripMs = nil
        pingTimer?.cancel()
        timer?.cancel()
        let unanswered = (commands?.close() ?? []) + (subscriber?.close() ?? [])
        commands = nil
        subscriber = nil
        if !wasUp { counters.failedAttempts += 1 }
        let metadata: Logger.Metadata = ["redis": "\(endpoint)", "reason": "\(reason)"]
        if outageLogged {
            logger.debug("redis connection attempt failed", metadata: metadata)
        } else {
            outageLogged = true
            logger.warning(wasUp ? "redis connection lost; reconnecting" : "redis unreachable; retrying", metadata: metadata)
        }
        let delay = backoff.nextDelay(unit: Double.random(in: 0..<1))
        timer = reactor.after(milliseconds: delay, keepsLoopAlive: true) { [unowned self] in attempt() }
        if wasUp { onDown?(reason) }
        for handler in unanswered { handler(.error(reason)) }
    }

    private func ping() {
        guard state == .up, let commands else { return }
        if let sentAt = pingSentAt {
            let waitedMs = (uv_hrtime() &- sentAt) / 1_000_000
            if waitedMs >= timing.pingTimeoutMs { drop("no answer to PING for \(waitedMs) ms") }
            return
        }
        let sentAt = uv_hrtime()
        pingSentAt = sentAt
        commands.command([Array("PING".utf8)]) { [weak self] reply in
            guard let self, pingSentAt == sentAt, case .status = reply else { return }
            roundTripMs = Double(uv_hrtime() &- sentAt) / 1_000_000
            pingSentAt = nil
        }
    }

    // MARK: Replies

    /// Answers `reply` on the loop's next turn (or in `close()`, if the loop is stopping).
    private func later(_ reply: ((RedisReply) -> Void)?, _ value: RedisReply) {
        guard let reply else { return }
        deferred.append((reply, value))
        guard deferTimer?.isActive != true else { return }
        // Holds the client until it fires, so the answers come even if its owner let go.
        deferTimer = reactor.after(milliseconds: 0, keepsLoopAlive: true) { [self] in
            deferTimer = nil
            let due = deferred
            deferred.removeAll()
            for (handler, value) in due { handler(value) }
        }
    }

    /// Why a command may not go on the command connection, or nil: it would change what the
    /// connection is (its replies would no longer match its commands), or block it (every
    /// command behind it, PINGs included, would wait).
    static func refusal(_ arguments: [[UInt8]]) -> String? {
        guard let first = arguments.first else { return "ERR empty command" }
        let name = String(decoding: first, as: UTF8.self).uppercased()
        let options = arguments.dropFirst().lazy.map { String(decoding: $0, as: UTF8.self).uppercased() }
        if stateChanging.contains(name) || (name == "CLIENT" && options.first == "REPLY") {
            return "ERR \(name) would change the command connection"
        }
        if blocking.contains(name) || (name.hasPrefix("XREAD") && options.prefix { $0 != "STREAMS" }.contains("BLOCK")) {
            return "ERR \(name) would block the command connection"
        }
        return nil
    }

    private static let stateChanging: Set<String> = [
        "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE",
        "MONITOR", "SELECT", "AUTH", "HELLO", "QUIT", "RESET",
    ]

    private static let blocking: Set<String> = [
        "BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP", "WAIT", "WAITAOF",
    ]
}

/// What a `RedisClient` has done, for metrics; read on the loop thread.
public struct RedisCounters: Sendable, Equatable {
    /// Times the client came up again after being down (the first connection is not one).
    public var reconnects = 0
    /// Connection attempts that failed: refused, timed out, login refused.
    public var failedAttempts = 0
    /// Commands handed to Redis by `send` (not the client's own logins and PINGs).
    public var commandsSent = 0
    /// Pub/sub messages delivered to `onMessage`.
    public var messagesReceived = 0
}

/// The client's timeouts, in milliseconds; tests shorten them.
struct RedisTiming {
    /// Connect and log in (both connections) within this, or the attempt fails.
    var connectTimeoutMs: UInt64 = 5_000
    var pingIntervalMs: UInt64 = 1_000
    /// A PING unanswered this long means the connection is gone even if TCP says nothing.
    var pingTimeoutMs: UInt64 = 5_000
}
