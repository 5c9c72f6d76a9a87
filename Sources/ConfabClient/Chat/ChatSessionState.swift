import ConfabCodec
import ConfabProtocol

/// What the terminal client shows: a rendered server line or a local notice.
public struct ShownLine: Sendable, Equatable {
    public var kind: ChatText.Kind
    public var text: String
    public init(kind: ChatText.Kind, text: String) {
        self.kind = kind
        self.text = text
    }
}

/// How a connection ended, as the session decides on it (mapped from the reactor's cause).
public enum ConnectionEnd: Sendable, Equatable {
    /// We closed it (our 1000 after /quit, Ctrl-C, Ctrl-D, end of input).
    case local
    /// The server sent a close frame with this code.
    case server(code: UInt16?, reason: String)
    /// TCP failed, a protocol error, a timeout.
    case failed(String)
    /// The server answered the handshake with this HTTP status instead of upgrading.
    case refused(status: Int, reason: String)
}

/// The timers the session asks for; each comes back as one event.
public enum ChatTimer: Sendable, Equatable {
    /// Time to reconnect (`reconnectDue`).
    case reconnect
    /// End of input, and the replies we waited for did not all come (`drainDeadline`).
    case drain
}

/// What the driver must do.
public enum ChatAction: Sendable, Equatable {
    /// Open a WebSocket; `resume` is the token to put in `?resume=`.
    case connect(resume: String?)
    /// Send this request (protocol v1 JSON).
    case send([UInt8])
    case show(ShownLine)
    /// The prompt changed (current room).
    case prompt(room: String)
    /// Start the close handshake with this code.
    case close(code: UInt16, reason: String)
    case startTimer(ChatTimer, milliseconds: UInt64)
    /// Restore the terminal and exit with this status (message on stderr when non-nil).
    case exit(status: Int32, message: String?)
}

/// The terminal client's decisions, as a value: events in, actions out. No sockets, no
/// clock, no randomness (the jitter comes in as a parameter). The driver (`ChatClient`)
/// carries the actions out on the reactor.
///
/// - Dedup: a chat message is shown only if its `seq` is above the last one shown for its
///   room, so the `history` replayed on resume (or a reconnect) shows only what was missed;
///   or if it is newer than the last one shown (`ts`): a restarted server counts seqs anew.
/// - Current room: from `welcome.room`, `joined.room`, `left.current`; the rooms we are in
///   from `welcome.rooms`, `joined` and `left`.
/// - Reconnect: an unplanned end (TCP drop, 1001, 1012, protocol error) reconnects with
///   backoff and `?resume=TOKEN`; after 1012 (the server restarts) the first attempt waits
///   a random 0.25–2.5 s, so a restarted server's clients do not all come back at once.
///   Our own 1000, the server's 1008 and 4000 end the client.
/// - A refused resume (the server restarted, or the grace period ran out) gives a fresh
///   session in the home room: the client joins its rooms again, returns to its current
///   room and leaves rooms it had left, before any line typed meanwhile is sent.
/// - End of input: requests are sent with an id; the client says goodbye once every id has
///   its reply, or after `drainMs`, so a script's last lines are not lost.
public struct ChatSessionState: Sendable {
    public enum Phase: Sendable, Equatable {
        case idle
        /// TCP + handshake under way; `welcomed` once the welcome arrived on it.
        case connecting
        case open(welcomed: Bool)
        case waitingToReconnect
        /// We sent close 1000; exit once the connection ends.
        case closing
        case finished
    }

    /// How long end of input waits for outstanding replies.
    public static let drainMs: UInt64 = 3000
    /// Give up after this many failed reconnects in a row (about a minute with the backoff).
    public static let maxReconnectAttempts = 10

    public private(set) var phase: Phase = .idle
    public private(set) var token: String?
    public private(set) var room: String?
    public private(set) var name: String?
    /// The rooms we are in, in join order.
    public private(set) var rooms: [String] = []
    /// Per room (lowercased), the seq of the last chat message shown, in this session's
    /// numbering (forgotten when a refused resume starts a new one), and the latest time shown.
    public private(set) var lastSeq: [String: Int] = [:]
    private var lastTimestamp: [String: Int64] = [:]
    /// The connection under way was asked to resume a session.
    private var resuming = false
    /// Ids of requests sent and not yet answered.
    public private(set) var pending: Set<RequestID> = []
    /// Lines typed before the welcome; sent once welcomed.
    public private(set) var outbox: [String] = []
    /// End of input or `/quit`: leave once what was sent is answered.
    public private(set) var leaving = false
    /// `/quit` was processed: later lines are not sent.
    private var quitTyped = false
    public private(set) var everWelcomed = false
    public var backoff = ReconnectBackoff()
    let initialRoom: String?
    let serverDescription: String
    private var nextId = 1
    private var failedAttempts = 0

    public init(initialRoom: String? = nil, serverDescription: String = "server") {
        self.initialRoom = initialRoom
        self.serverDescription = serverDescription
    }

    public mutating func start() -> [ChatAction] {
        precondition(phase == .idle, "ChatSessionState.start in phase \(phase)")
        phase = .connecting
        return [.connect(resume: nil)]
    }

    public mutating func opened() -> [ChatAction] {
        guard phase == .connecting else { return [] }
        phase = .open(welcomed: false)
        return []
    }

    /// One message from the server, parsed once by the driver.
    public mutating func received(_ message: ServerMessage) -> [ChatAction] {
        var actions: [ChatAction] = []
        var re: RequestID?
        switch message {
        case .welcome(let welcome):
            let before = (rooms: rooms, room: room)
            let refused = resuming && !welcome.resumed
            resuming = false
            token = welcome.token
            name = welcome.user.name
            room = welcome.room
            rooms = welcome.rooms
            let firstWelcome = !everWelcomed
            everWelcomed = true
            failedAttempts = 0
            backoff.reset()
            if phase != .closing { phase = .open(welcomed: true) }
            actions += show(message)
            if let room { actions.append(.prompt(room: room)) }
            if firstWelcome, let initialRoom, !welcome.resumed {
                actions += sendLine("/join \(initialRoom)")
            }
            if refused {
                lastSeq.removeAll()  // a new session: its seqs may start over (a restarted server)
                actions += rejoin(rooms: before.rooms, current: before.room, welcome: welcome)
            }
            let queued = outbox
            outbox.removeAll()
            for line in queued { actions += self.line(line) }
            actions += endIfDrained()
            return actions
        case .joined(let joined, let id):
            re = id
            room = joined
            if !rooms.contains(where: { Self.key($0) == Self.key(joined) }) { rooms.append(joined) }
            actions.append(.prompt(room: joined))
        case .left(let left, let current, let id):
            re = id
            lastSeq[Self.key(left)] = nil
            lastTimestamp[Self.key(left)] = nil
            rooms.removeAll { Self.key($0) == Self.key(left) }
            room = current
            actions.append(.prompt(room: current))
        case .renamed(let user, _, let id):
            re = id
            name = user.name
        case .users(_, let id), .rooms(_, let id), .system(_, let id), .error(_, _, let id):
            re = id
        case .ack(let id, _, _):
            re = id
        case .history, .message, .presence, .occupancy, .roomsChanged:
            break
        }
        actions.insert(contentsOf: show(message), at: 0)
        if let re, pending.remove(re) != nil {
            actions += endIfDrained()
        }
        return actions
    }

    /// The connection ended (or failed to open).
    public mutating func closed(_ end: ConnectionEnd) -> [ChatAction] {
        pending.removeAll()
        switch phase {
        case .closing, .finished:
            phase = .finished
            return [.exit(status: 0, message: nil)]
        case .idle, .waitingToReconnect:
            return []
        case .connecting, .open:
            break
        }
        if !everWelcomed {
            phase = .finished
            return [.exit(status: 1, message: "cannot connect to \(serverDescription): \(Self.describe(end))")]
        }
        // The token was refused (expired, say): trying it again cannot help.
        if case .refused(let status, _) = end, status == 401 || status == 403 {
            phase = .finished
            return [.exit(status: 1, message: "the server refused the token: \(Self.describe(end))")]
        }
        if case .server(let code?, _) = end, code == 1008 || code == 4000 || code == 1000 {
            phase = .finished
            let why = code == 4000 ? "session resumed elsewhere" : code == 1008 ? "policy violation" : "closed"
            return [.exit(status: 1, message: "the server closed the connection: \(why) (\(code))")]
        }
        if leaving && outbox.isEmpty {
            phase = .finished
            return [.show(Self.notice("connection lost: \(Self.describe(end))")), .exit(status: 0, message: nil)]
        }
        failedAttempts += 1
        if failedAttempts > Self.maxReconnectAttempts {
            phase = .finished
            return [.exit(status: 1, message: "gave up reconnecting to \(serverDescription): \(Self.describe(end))")]
        }
        return scheduleReconnect(after: end)
    }

    /// The first wait after a close 1012 (service restart) is drawn from this range: long
    /// enough for a new process to start listening, spread so its clients arrive over
    /// seconds rather than in one burst.
    public static let restartDelayMs: ClosedRange<UInt64> = 250...2500

    private mutating func scheduleReconnect(after end: ConnectionEnd) -> [ChatAction] {
        phase = .waitingToReconnect
        // The unit comes from the driver through `jitter`.
        let delay: UInt64
        if case .server(code: 1012?, _) = end {
            let range = Self.restartDelayMs
            delay = range.lowerBound + UInt64(Double(range.upperBound - range.lowerBound) * min(max(jitter, 0), 1))
        } else {
            delay = backoff.nextDelay(unit: jitter)
        }
        let seconds = Double(delay) / 1000
        let shown = (seconds * 10).rounded() / 10
        return [.show(Self.notice("connection lost (\(Self.describe(end))); reconnecting in \(shown) s")),
                .startTimer(.reconnect, milliseconds: delay)]
    }

    /// Random number in [0, 1) for the next backoff; set by the driver before `closed`.
    public var jitter: Double = 0.5

    public mutating func reconnectDue() -> [ChatAction] {
        guard phase == .waitingToReconnect else { return [] }
        phase = .connecting
        resuming = token != nil
        return [.connect(resume: token)]
    }

    /// After a refused resume: back into the rooms of the old session, in their order,
    /// back to its current room, out of rooms it had left (the home room, say).
    private mutating func rejoin(rooms old: [String], current: String?, welcome: Welcome) -> [ChatAction] {
        let now = Set(welcome.rooms.map(Self.key)), was = Set(old.map(Self.key))
        let missing = old.filter { !now.contains(Self.key($0)) }
        var actions: [ChatAction] = [.show(Self.notice(
            "new session (the server restarted or the old one expired)" + (old.isEmpty ? "" : "; back to \(old.joined(separator: ", "))")))]
        for room in missing { actions += sendRequest(.join(room)) }
        // Each join makes its room current; joining a room one is in only does that.
        if let current, Self.key(current) != Self.key(missing.last ?? welcome.room) {
            actions += sendRequest(.join(current))
        }
        for room in welcome.rooms where !was.contains(Self.key(room)) && !old.isEmpty { actions += sendRequest(.leave(room)) }
        return actions
    }

    /// One line of input (without its newline).
    public mutating func line(_ raw: String) -> [ChatAction] {
        var text = raw
        if text.hasSuffix("\r") { text.removeLast() }
        guard !PlainText.trim(text).isEmpty else { return [] }
        switch phase {
        case .open(welcomed: true):
            guard !quitTyped else { return [] }
            if PlainText.trim(text).lowercased() == "/quit" {
                quitTyped = true
                return leave()
            }
            return sendLine(text)
        case .connecting, .open(welcomed: false), .waitingToReconnect:
            outbox.append(text)
            return []
        case .idle, .closing, .finished:
            return []
        }
    }

    /// `/quit`, Ctrl-C, Ctrl-D on an empty line: goodbye with 1000.
    public mutating func quit() -> [ChatAction] {
        switch phase {
        case .connecting, .open:
            phase = .closing
            return [.close(code: 1000, reason: "bye")]
        case .idle, .waitingToReconnect:
            phase = .finished
            return [.exit(status: 0, message: nil)]
        case .closing, .finished:
            return []
        }
    }

    /// End of standard input: leave once what was sent is answered, or after `drainMs`.
    public mutating func inputEnd() -> [ChatAction] {
        if case .waitingToReconnect = phase, outbox.isEmpty { return quit() }
        return leave()
    }

    /// `/quit` or end of input: like `quit`, but only once every request sent so far has
    /// its reply (bounded by `drainMs`), so the last lines of a script are not lost and the
    /// replies to them are shown.
    mutating func leave() -> [ChatAction] {
        guard !leaving else { return [] }
        leaving = true
        let done = endIfDrained()
        return done.isEmpty ? [.startTimer(.drain, milliseconds: Self.drainMs)] : done
    }

    public mutating func drainDeadline() -> [ChatAction] {
        quit()
    }

    private mutating func endIfDrained() -> [ChatAction] {
        guard leaving, pending.isEmpty, outbox.isEmpty, phase == .open(welcomed: true) else { return [] }
        return quit()
    }

    private mutating func sendLine(_ text: String) -> [ChatAction] {
        sendRequest(.send(text: text, room: nil, action: false))
    }

    private mutating func sendRequest(_ request: ChatRequest) -> [ChatAction] {
        let id = "c\(nextId)"
        nextId += 1
        pending.insert(RequestID(string: id))
        return [.send(ProtocolV1.encodeRequest(request, id: id))]
    }

    /// Rendered lines, minus chat messages already shown: one no newer than the last shown
    /// in its room, and not above its seq either, is a repeat (a restarted server numbers
    /// from 1 again, but later). A `history` says first how many messages after the last
    /// one shown it no longer holds, if any.
    private mutating func show(_ message: ServerMessage) -> [ChatAction] {
        var actions: [ChatAction] = []
        if case .history(let room, let messages, let last) = message, let seen = lastSeq[Self.key(room)] {
            let firstKept = messages.first.map { Int(clamping: $0.seq) } ?? Int(clamping: last) + 1
            if firstKept > seen + 1 {
                let gone = firstKept - seen - 1
                actions.append(.show(Self.notice("\(gone) message\(gone == 1 ? "" : "s") you missed in \(room) \(gone == 1 ? "is" : "are") no longer available")))
            }
        }
        for line in ChatText.render(message, utcOffsetSeconds: utcOffsetSeconds) {
            if let room = line.room, let seq = line.seq {
                let key = Self.key(room), timestamp = line.timestamp ?? .min
                if let shownAt = lastTimestamp[key], timestamp <= shownAt, lastSeq[key].map({ seq <= $0 }) ?? true { continue }
                lastSeq[key] = seq
                lastTimestamp[key] = max(lastTimestamp[key] ?? timestamp, timestamp)
            }
            actions.append(.show(ShownLine(kind: line.kind, text: line.text)))
        }
        if case .history(let room, _, let last) = message {
            // Everything up to the room's latest seq is now shown, or gone.
            lastSeq[Self.key(room)] = max(lastSeq[Self.key(room)] ?? 0, Int(clamping: last))
        }
        return actions
    }

    /// The reader's offset from UTC, for clock times; set by the driver.
    public var utcOffsetSeconds = 0

    static func key(_ room: String) -> String { room.lowercased() }

    static func notice(_ text: String) -> ShownLine { ShownLine(kind: .system, text: "-- " + text) }

    static func describe(_ end: ConnectionEnd) -> String {
        switch end {
        case .local: return "closed by us"
        case .server(let code, let reason):
            let codeText = code.map(String.init) ?? "no code"
            return reason.isEmpty ? "server closed (\(codeText))" : "server closed (\(codeText) \(reason))"
        case .failed(let reason): return reason
        case .refused(let status, let reason): return "handshake refused (\(status)): \(reason)"
        }
    }
}
