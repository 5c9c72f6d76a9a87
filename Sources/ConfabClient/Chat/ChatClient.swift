import ConfabProtocol
import ConfabCodec
import ConfabReactor
import Foundation
import Glibc

/// `confab chat`: carries out `ChatSessionState`'s actions on the reactor and the terminal.
/// Everything runs on the loop thread (stdin arrives through `readInput`).
public final class ChatClient: ClientDelegate {
    let reactor: Reactor
    let url: ServerURL
    let address: ServerAddress
    let name: String?
    /// A signed token (JWT) for an account, sent as `Authorization: Bearer` on every connect.
    let token: String?
    var state: ChatSessionState
    var connection: ConnectionID?
    var editor = LineEditor()
    var splitter = LineSplitter()
    var screen: TerminalScreen
    let terminal: RawTerminal?
    var exitStatus: Int32 = 0
    var exitMessage: String?
    /// `--tui`: full-screen layout, when both stdin and stdout are terminals.
    var tui: TUIScreen?
    var scrollback: [ShownLine] = []
    var roster = Roster()
    var serverName = "Confab"
    static let scrollbackLines = 1000
    var exiting = false
    var reconnectTimer: LoopTimer?
    var drainTimer: LoopTimer?

    /// How long exit waits for the close handshake before cutting the connection.
    static let exitLingerMs: UInt64 = 2000

    public init(reactor: Reactor, url: ServerURL, address: ServerAddress, name: String?, room: String?, tui wantsTUI: Bool = false,
                token: String? = nil) {
        self.reactor = reactor
        self.url = url
        self.address = address
        self.name = name
        self.token = token
        state = ChatSessionState(initialRoom: room, serverDescription: "\(url.hostHeader)")
        state.utcOffsetSeconds = TimeZone.current.secondsFromGMT()
        terminal = isTerminal(1) ? RawTerminal(fd: 0) : nil
        screen = TerminalScreen(interactive: terminal != nil,
                                colour: isTerminal(1) && ProcessInfo.processInfo.environment["NO_COLOR"] == nil,
                                columns: terminalColumns())
        if wantsTUI, terminal != nil {
            let size = terminalSize()
            tui = TUIScreen(columns: size.columns, rows: size.rows, colour: screen.colour)
        }
    }

    /// Runs until the user leaves or the connection is given up; returns the exit status.
    public func run() -> Int32 {
        reactor.clientDelegate = self
        terminal?.enable()
        defer { terminal?.restore() }
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            reactor.onSignal(signal) { [unowned self] _ in perform(state.quit()) }
        }
        reactor.onSignal(SIGWINCH) { [unowned self] _ in
            let size = terminalSize()
            screen.columns = size.columns
            tui?.columns = size.columns
            tui?.rows = size.rows
            if tui != nil { writeAll("\u{1B}[2J") }
            redraw()
        }
        if tui != nil { writeAll(TUIScreen.enter) }
        reactor.readInput(onData: { [unowned self] bytes in input(bytes) },
                          onEnd: { [unowned self] in inputEnded() })
        perform(state.start())
        reactor.run()
        if tui != nil { writeAll(TUIScreen.leave) } else if screen.interactive { writeAll("\r\n") }
        if let exitMessage { writeAll("confab chat: \(exitMessage)\n", to: 2) }
        return exitStatus
    }

    // MARK: Input

    func input(_ bytes: [UInt8]) {
        guard !exiting else { return }
        if terminal != nil {
            for action in editor.feed(bytes) {
                switch action {
                case .edited: redraw()
                case .submit(let line):
                    redraw()
                    perform(state.line(line))
                case .interrupt, .endOfInput: perform(state.quit())
                case .bell: writeAll("\u{07}")
                }
            }
        } else {
            for line in splitter.feed(bytes) { perform(state.line(line)) }
        }
    }

    func inputEnded() {
        if let last = splitter.finish() { perform(state.line(last)) }
        perform(state.inputEnd())
    }

    // MARK: ClientDelegate

    public func clientOpened(_ id: ConnectionID) {
        guard id == connection else { return }
        perform(state.opened())
    }

    public func clientReceived(_ message: [UInt8], binary: Bool, connection id: ConnectionID) {
        guard id == connection, !binary, let decoded = ProtocolV1.decodeMessage(message) else { return }
        if tui != nil {
            roster.apply(decoded)
            if case .welcome(let welcome) = decoded { serverName = welcome.server }
        }
        perform(state.received(decoded))
    }

    public func clientClosed(_ id: ConnectionID, cause: CloseCause) {
        guard id == connection else { return }
        connection = nil
        let end: ConnectionEnd
        switch cause {
        case .local: end = .local
        case .peerClosed(let code, let reason): end = .server(code: code, reason: reason)
        case .protocolError(let code, let reason): end = .failed("protocol error \(code) \(reason)")
        case .transport(let reason), .timeout(let reason): end = .failed(reason)
        case .refused(let status, let reason): end = .refused(status: status, reason: reason)
        }
        state.jitter = Double.random(in: 0..<1)
        perform(state.closed(end))
    }

    // MARK: Actions

    func perform(_ actions: [ChatAction]) {
        for action in actions {
            switch action {
            case .connect(let resume):
                var extra: [(String, String)] = []
                // The session's name once there is one: a refused resume then keeps it if free.
                if let name = state.name ?? name { extra.append(("name", name)) }
                if let resume { extra.append(("resume", resume)) }
                // A header, not ?token=: it stays out of proxies' access logs.
                let headers: HTTPHeaders = token.map { ["Authorization": "Bearer \($0)"] } ?? [:]
                connection = reactor.connect(to: address, hostHeader: url.hostHeader, path: url.target(adding: extra),
                                             headers: headers, limits: WebSocketLimits())
            case .send(let json):
                if let connection { reactor.sendText(json, to: connection) }
            case .show(let line):
                if tui != nil {
                    scrollback.append(line)
                    if scrollback.count > Self.scrollbackLines { scrollback.removeFirst(scrollback.count - Self.scrollbackLines) }
                    redraw()
                } else {
                    writeAll(screen.print(line, room: state.room, input: editor.text))
                }
            case .prompt:
                redraw()
            case .close(let code, let reason):
                if let connection { reactor.close(connection, code: code, reason: reason) }
            case .startTimer(.reconnect, let ms):
                reconnectTimer?.cancel()
                reconnectTimer = once(after: ms, keepsLoopAlive: true) { [unowned self] in perform(state.reconnectDue()) }
            case .startTimer(.drain, let ms):
                drainTimer?.cancel()
                drainTimer = once(after: ms, keepsLoopAlive: false) { [unowned self] in perform(state.drainDeadline()) }
            case .exit(let status, let message):
                finish(status: status, message: message)
            }
        }
    }

    /// Leaves the loop: the close handshake (if any) finishes, or is cut after a linger.
    func finish(status: Int32, message: String?) {
        guard !exiting else { return }
        exiting = true
        exitStatus = status
        exitMessage = message
        if message != nil, screen.interactive, tui == nil { writeAll(TerminalScreen.clearLine) }
        reconnectTimer?.cancel()
        drainTimer?.cancel()
        if reactor.connectionCount == 0 {
            reactor.stop()
            return
        }
        let deadline = reactor.now + Self.exitLingerMs
        reactor.every(milliseconds: 20, keepsLoopAlive: true) { [unowned self] in
            if reactor.connectionCount == 0 || reactor.now >= deadline { reactor.stop() }
        }
    }

    /// The prompt line, or the whole screen with `--tui`.
    func redraw() {
        if let tui {
            let header = "\(serverName) — [\(state.room ?? "…")] — \(state.name ?? "…")"
            writeAll(tui.render(header: header, lines: scrollback, users: roster.users(in: state.room), online: roster.count(in: state.room),
                                prompt: TerminalScreen.prompt(room: state.room), input: editor.text))
        } else {
            writeAll(screen.redraw(room: state.room, input: editor.text))
        }
    }

    func once(after ms: UInt64, keepsLoopAlive: Bool, _ body: @escaping () -> Void) -> LoopTimer {
        reactor.after(milliseconds: ms, keepsLoopAlive: keepsLoopAlive, body)
    }
}
