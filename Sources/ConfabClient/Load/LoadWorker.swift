import ConfabProtocol
import ConfabCodec
import ConfabReactor
import Foundation
import Histogram

/// One thread's share of the clients, on its own reactor. Created and run on that thread.
public final class LoadWorker: ClientDelegate {
    enum Phase { case pending, connecting, joining, leavingHome, ready, closing, done }

    struct Client {
        let index: Int
        let room: Int
        let sender: Int?
        var connection: ConnectionID?
        var phase = Phase.pending
        var connectStarted: UInt64 = 0
        var sent = 0
        /// Closed loop: our message is out; the next goes when it comes back.
        var awaitingEcho = false
        var homeRoom = "lobby"
    }

    /// A connection not welcomed within this long counts as failed.
    static let connectTimeoutMicros: UInt64 = 10_000_000
    /// Connections in flight (TCP + upgrade) per thread, so a burst does not overflow the
    /// server's accept backlog.
    static let maxInFlight = 256
    static let tickMs: UInt64 = 10
    /// Clients read everything they are sent: a member list of a 19,000-user room is ~1 MiB.
    static let limits = WebSocketLimits(maxFrameBytes: 16 << 20, maxMessageBytes: 16 << 20)

    let reactor: Reactor
    let options: LoadOptions
    let coordinator: LoadCoordinator
    /// The servers, in the order of the URLs; a client's is `options.server(ofClient:)`.
    let targets: [LoadTarget]
    let threadIndex: Int
    var clients: [Client] = []
    var byConnection: [ConnectionID: Int] = [:]
    var senders: [Int] = []
    var stats = LoadStats()
    var inFlight = 0
    var nextToStart = 0
    var reportedReady = false
    var closingAll = false
    var closeStarted: UInt64 = 0
    var started: UInt64 = 0
    /// The connect window is over: nothing more is started, what is in flight has failed.
    var connectWindowOver = false
    /// Crowd: this thread's message is out (or it had no ready sender), and that is reported.
    var crowdSent = false
    /// Reported to the coordinator once: this thread sends nothing more.
    var doneSending = false
    // Deltas for the coordinator since the last tick.
    var sentDelta: [Int: Int] = [:]
    var receivedDelta = 0
    var connectedDelta = 0
    var failedDelta = 0
    /// `--report-every`: this thread's current window, once the schedule is known.
    var meter: IntervalMeter?

    public init(reactor: Reactor, options: LoadOptions, coordinator: LoadCoordinator, targets: [LoadTarget], threadIndex: Int) {
        precondition(targets.count == options.servers, "one target per server")
        self.reactor = reactor
        self.options = options
        self.coordinator = coordinator
        self.targets = targets
        self.threadIndex = threadIndex
        for index in stride(from: threadIndex, to: options.clients, by: options.threads) {
            let sender = index < options.senders ? index : nil
            if sender != nil { senders.append(clients.count) }
            clients.append(Client(index: index, room: options.room(ofClient: index), sender: sender))
        }
    }

    public func run() -> LoadStats {
        reactor.clientDelegate = self
        started = monotonicMicros()
        if options.churn || clients.isEmpty {
            reportedReady = true
            coordinator.threadReady(members: [:])
        }
        reactor.every(milliseconds: Self.tickMs, keepsLoopAlive: true) { [unowned self] in tick() }
        reactor.run()
        if let meter { coordinator.intervals?.flush(thread: threadIndex, window: meter.window, slice: meter.slice, now: .max) }
        coordinator.intervals?.end(thread: threadIndex)
        return stats
    }

    // MARK: Ticks

    func tick() {
        let now = monotonicMicros()
        let schedule = coordinator.currentSchedule()
        if schedule != nil { advanceMeter(to: now) }
        if !closingAll {
            if !options.churn, !reportedReady, !connectWindowOver, now - started > UInt64(options.connectWindow * 1_000_000) {
                endConnectWindow()
            }
            if !options.churn || (schedule.map { now < $0.sendEnd } ?? false) { startConnections(now: now) }
            expireConnects(now: now)
        }
        if !reportedReady, nextToStart == clients.count, inFlight == 0 {
            reportedReady = true
            var members: [Int: Int] = [:]
            for client in clients where client.phase == .ready { members[client.room, default: 0] += 1 }
            coordinator.threadReady(members: members)
        }
        var crowdSentNow = false
        if let schedule, !closingAll {
            if options.crowd {
                if !crowdSent {
                    // The one message, from every ready sender on this thread (client 0).
                    for slot in senders where clients[slot].phase == .ready { send(slot, now: now, schedule: schedule) }
                    crowdSent = true
                    crowdSentNow = true
                }
            } else if now < schedule.sendEnd {
                if !options.closedLoop { sendDue(now: now, schedule: schedule) } else { startClosedLoop(now: now, schedule: schedule) }
            }
        }
        coordinator.report(sent: sentDelta, received: receivedDelta, connected: connectedDelta, failed: failedDelta)
        sentDelta.removeAll(keepingCapacity: true)
        receivedDelta = 0
        connectedDelta = 0
        failedDelta = 0
        // After the report, so whoever sees this thread done also sees what it sent. Past
        // `sendEnd` no callback sends either, so nothing comes after this report.
        if !doneSending, let schedule, options.crowd ? crowdSentNow : now >= schedule.sendEnd {
            doneSending = true
            coordinator.threadDoneSending()
        }
        if let schedule, !closingAll, now >= schedule.sendEnd, coordinator.drained(now: now) || options.senders == 0 {
            closeAll(now: now)
        }
        if closingAll, reactor.connectionCount == 0 || now - closeStarted > 3_000_000 {
            reactor.stop()
        }
    }

    func startConnections(now: UInt64) {
        let rampPerThread = options.ramp / Double(options.threads)
        var allowed = Self.maxInFlight - inFlight
        if rampPerThread > 0 {
            let budget = Int(Double(now - started) / 1_000_000 * rampPerThread) + 1 - stats.connectAttempts
            allowed = min(allowed, budget)
        }
        guard allowed > 0 else { return }
        if options.churn {
            // Churn: every client not in flight starts its next cycle.
            for slot in clients.indices where allowed > 0 && (clients[slot].phase == .pending || clients[slot].phase == .done) {
                connect(slot, now: now)
                allowed -= 1
            }
            nextToStart = clients.count
            return
        }
        while allowed > 0, nextToStart < clients.count, !connectWindowOver {
            connect(nextToStart, now: now)
            nextToStart += 1
            allowed -= 1
        }
    }

    func connect(_ slot: Int, now: UInt64) {
        clients[slot].phase = .connecting
        clients[slot].connectStarted = now
        inFlight += 1
        stats.connectAttempts += 1
        let target = targets[options.server(ofClient: clients[slot].index)]
        let id = reactor.connect(to: target.address, hostHeader: target.url.hostHeader, path: target.url.target(), limits: Self.limits)
        clients[slot].connection = id
        byConnection[id] = slot
    }

    /// The connect window is over: clients in flight fail, those not started are given up.
    func endConnectWindow() {
        connectWindowOver = true
        let window = LoadReport.fixed(options.connectWindow, 0)
        for slot in clients.indices {
            switch clients[slot].phase {
            case .connecting, .joining, .leavingHome:
                let id = clients[slot].connection
                fail(slot, reason: "not connected within the \(window) s connect window")
                if let id { reactor.close(id, code: CloseCode.normalClosure, reason: "connect window over") }
            case .pending:
                clients[slot].phase = .done
                stats.recordFailure("not started within the \(window) s connect window")
                failedDelta += 1
            default:
                break
            }
        }
        nextToStart = clients.count
    }

    func expireConnects(now: UInt64) {
        guard inFlight > 0, now % 500_000 < Self.tickMs * 1000 else { return }
        for slot in clients.indices {
            let client = clients[slot]
            guard client.phase == .connecting || client.phase == .joining || client.phase == .leavingHome,
                  now - client.connectStarted > Self.connectTimeoutMicros, let id = client.connection else { continue }
            fail(slot, reason: "no welcome within \(Self.connectTimeoutMicros / 1_000_000) s")
            reactor.close(id, code: CloseCode.normalClosure, reason: "timeout")
        }
    }

    func fail(_ slot: Int, reason: String) {
        if let id = clients[slot].connection { byConnection[id] = nil }
        clients[slot].connection = nil
        clients[slot].phase = options.churn ? .done : .closing
        inFlight -= 1
        stats.recordFailure(reason)
        failedDelta += 1
    }

    func sendDue(now: UInt64, schedule: LoadCoordinator.Schedule) {
        let elapsed = Double(now - schedule.sendStart) / 1_000_000
        for slot in senders where clients[slot].phase == .ready {
            let offset = Double(clients[slot].sender ?? 0) / Double(max(options.senders, 1))
            let due = Int(elapsed * options.rate + offset) - clients[slot].sent
            for _ in 0..<min(due, 1000) { send(slot, now: now, schedule: schedule) }
        }
    }

    func startClosedLoop(now: UInt64, schedule: LoadCoordinator.Schedule) {
        for slot in senders where clients[slot].phase == .ready && !clients[slot].awaitingEcho {
            send(slot, now: now, schedule: schedule)
        }
    }

    func send(_ slot: Int, now: UInt64, schedule: LoadCoordinator.Schedule) {
        guard let id = clients[slot].connection, let sender = clients[slot].sender else { return }
        let measured = now >= schedule.measureStart
        let stamp = LoadMessage.Stamp(measured: measured, sentMicros: monotonicMicros(), sender: sender, number: clients[slot].sent)
        let text = LoadMessage.text(stamp, size: options.size)
        reactor.sendText(ProtocolV1.encodeRequest(.send(text: text, room: options.roomName(clients[slot].room), action: false)), to: id)
        clients[slot].sent += 1
        clients[slot].awaitingEcho = true
        if measured {
            advanceMeter(to: stamp.sentMicros)
            meter?.slice.recordSent(MessageID(sender: sender, number: stamp.number), room: clients[slot].room, sentMicros: stamp.sentMicros)
            stats.sent += 1
            stats.sentPerRoom[clients[slot].room, default: 0] += 1
            sentDelta[clients[slot].room, default: 0] += 1
        } else {
            stats.warmupSent += 1
        }
    }

    /// `--report-every`: moves this thread's window to time `t` (times come in order on a
    /// thread), handing a finished window to the collector.
    func advanceMeter(to t: UInt64) {
        guard let intervals = coordinator.intervals else { return }
        if meter == nil, let schedule = coordinator.currentSchedule(), let every = options.reportEvery {
            meter = IntervalMeter(clock: IntervalClock(schedule, everySeconds: every))
        }
        guard let finished = meter?.advance(to: t), let meter else { return }
        intervals.flush(thread: threadIndex, window: finished.window, slice: finished.slice, now: meter.window)
    }

    func closeAll(now: UInt64) {
        closingAll = true
        closeStarted = now
        for slot in clients.indices {
            if let id = clients[slot].connection {
                clients[slot].phase = .closing
                reactor.close(id, code: CloseCode.normalClosure, reason: "load done")
            }
        }
    }

    // MARK: ClientDelegate

    public func clientOpened(_ connection: ConnectionID) {
        // A relay says nothing on its own: the upgrade is the welcome.
        guard options.relay, let slot = byConnection[connection] else { return }
        welcomed(slot, connection: connection, homeRoom: "lobby")
    }

    static let presencePrefix = Array("{\"type\":\"presence\"".utf8)
    static let usersPrefix = Array("{\"type\":\"users\"".utf8)
    static let historyPrefix = Array("{\"type\":\"history\"".utf8)
    static let ackPrefix = Array("{\"type\":\"ack\"".utf8)
    static let occupancyPrefix = Array("{\"type\":\"occupancy\"".utf8)

    static func hasPrefix(_ bytes: [UInt8], _ prefix: [UInt8]) -> Bool {
        bytes.count >= prefix.count && bytes.withUnsafeBufferPointer { buffer in
            for index in 0..<prefix.count where buffer[index] != prefix[index] { return false }
            return true
        }
    }

    public func clientReceived(_ message: [UInt8], binary: Bool, connection: ConnectionID) {
        guard let slot = byConnection[connection] else { return }
        stats.framesReceived += 1
        stats.bytesReceived += message.count
        if let stamp = LoadMessage.stamp(inMessageFrame: message) {
            if stamp.measured {
                let now = monotonicMicros()
                stats.received += 1
                receivedDelta += 1
                let latency = now > stamp.sentMicros ? now - stamp.sentMicros : 0
                stats.latencyMicros.record(latency)
                if options.servers > 1 {
                    if options.server(ofClient: stamp.sender) == options.server(ofClient: clients[slot].index) {
                        stats.latencySameServerMicros.record(latency)
                    } else {
                        stats.latencyOtherServerMicros.record(latency)
                    }
                }
                if coordinator.intervals != nil {
                    advanceMeter(to: now)
                    meter?.slice.recordCopy(MessageID(sender: stamp.sender, number: stamp.number), room: options.room(ofClient: stamp.sender),
                                            sentMicros: stamp.sentMicros, receivedMicros: now, drainMicros: coordinator.drainMicros)
                }
            }
            if options.closedLoop, stamp.sender == clients[slot].sender {
                clients[slot].awaitingEcho = false
                if let schedule = coordinator.currentSchedule(), !closingAll {
                    let now = monotonicMicros()
                    if now < schedule.sendEnd { send(slot, now: now, schedule: schedule) }
                }
            }
            return
        }
        if Self.hasPrefix(message, LoadMessage.messagePrefix) {
            // A chat message that is not one of ours, or whose stamp does not parse.
            stats.unmatched += 1
            return
        }
        if Self.hasPrefix(message, Self.presencePrefix) || Self.hasPrefix(message, Self.usersPrefix)
            || Self.hasPrefix(message, Self.historyPrefix) || Self.hasPrefix(message, Self.ackPrefix)
            || Self.hasPrefix(message, Self.occupancyPrefix) { return }
        guard let decoded = ProtocolV1.decodeMessage(message) else { return }
        switch decoded {
        case .welcome(let welcome):
            guard !options.relay else { return }
            welcomed(slot, connection: connection, homeRoom: welcome.room)
        case .joined:
            guard clients[slot].phase == .joining else { return }
            clients[slot].phase = .leavingHome
            reactor.sendText(ProtocolV1.encodeRequest(.leave(clients[slot].homeRoom)), to: connection)
        case .left:
            guard clients[slot].phase == .leavingHome else { return }
            becomeReady(slot)
        case .error(let error, _, _):
            stats.errors[error.code.rawValue, default: 0] += 1
            if [.joining, .leavingHome].contains(clients[slot].phase) {
                fail(slot, reason: "server refused: \(error.code.rawValue)")
                reactor.close(connection, code: CloseCode.normalClosure, reason: "failed")
            }
        default:
            break
        }
    }

    /// The server's `welcome` (a relay's 101): connected; churn closes, others join their room.
    func welcomed(_ slot: Int, connection: ConnectionID, homeRoom: String) {
        guard clients[slot].phase == .connecting else { return }
        let now = monotonicMicros()
        stats.connectMicros.record(now - clients[slot].connectStarted)
        clients[slot].homeRoom = homeRoom
        if options.churn {
            if let schedule = coordinator.currentSchedule(), now >= schedule.measureStart, now < schedule.sendEnd {
                stats.cycles += 1
            }
            stats.connected += 1
            stats.connectedPerServer[options.server(ofClient: clients[slot].index), default: 0] += 1
            inFlight -= 1
            clients[slot].phase = .closing
            reactor.close(connection, code: CloseCode.normalClosure, reason: "churn")
            return
        }
        if let room = options.roomName(clients[slot].room) {
            clients[slot].phase = .joining
            reactor.sendText(ProtocolV1.encodeRequest(.join(room)), to: connection)
        } else {
            becomeReady(slot)
        }
    }

    func becomeReady(_ slot: Int) {
        clients[slot].phase = .ready
        inFlight -= 1
        stats.connected += 1
        stats.connectedPerServer[options.server(ofClient: clients[slot].index), default: 0] += 1
        connectedDelta += 1
    }

    public func clientClosed(_ connection: ConnectionID, cause: CloseCause) {
        guard let slot = byConnection.removeValue(forKey: connection) else { return }
        clients[slot].connection = nil
        switch clients[slot].phase {
        case .connecting, .joining, .leavingHome:
            clients[slot].connection = connection
            fail(slot, reason: Self.describe(cause))
        case .ready:
            stats.recordDrop(Self.describe(cause))
            clients[slot].phase = .done
        case .closing:
            // Churn: the next cycle of this client starts on the next tick (in-flight cap permitting).
            clients[slot].phase = .done
        case .pending, .done:
            break
        }
    }

    static func describe(_ cause: CloseCause) -> String {
        switch cause {
        case .peerClosed(let code, let reason): return "server closed (\(code.map(String.init) ?? "-")) \(reason)"
        case .protocolError(let code, let reason): return "protocol error \(code) \(reason)"
        case .local(let code, let reason): return "closed locally \(code) \(reason)"
        case .transport(let reason): return reason
        case .timeout(let reason): return "timeout: \(reason)"
        case .refused: return "\(cause)"
        }
    }
}
