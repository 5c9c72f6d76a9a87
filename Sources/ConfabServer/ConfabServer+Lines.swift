import ConfabChat
import ConfabCodec
import ConfabReactor

/// The line chat: `nc`/`telnet` users in the same rooms as WebSocket users. The bridge
/// asks for a name, turns each line into a `send` request (commands included) and renders
/// what the state machine sends back with `ChatText`, one line per event.
extension ConfabServer {
    enum LineSession {
        /// Connected, waiting for the first line: the name.
        case naming
        /// In the chat.
        case chatting
    }

    func lineOpened(_ connection: ConnectionID) {
        lineSessions[connection] = .naming
        sendLine("Welcome to \(config.server.name)! What is your name? (empty line for a random one)", to: connection)
    }

    func lineReceived(_ line: [UInt8], connection: ConnectionID) {
        guard UTF8Validator.isValid(line) else {
            sendLine("!! input must be UTF-8 text; line ignored", to: connection)
            return
        }
        let text = String(decoding: line, as: UTF8.self)
        switch lineSessions[connection] {
        case .naming:
            lineSessions[connection] = .chatting
            let name = text.trimmingCharacters(in: .whitespaces)
            handle(.connected(connection, ConnectRequest(name: name.isEmpty ? nil : name), now: WallClock.unixMillis()))
        case .chatting:
            if text.trimmingCharacters(in: .whitespaces).lowercased() == "/quit" {
                sendLine("-- Bye!", to: connection)
                reactor.close(connection, code: CloseCode.normalClosure, reason: "quit")
                return
            }
            guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { return }
            counters.messagesIn += 1
            handle(.received(connection, text: ClientRequest.send(text), now: WallClock.unixMillis()))
        case nil:
            break
        }
    }

    func lineClosed(_ connection: ConnectionID) {
        // A line client cannot resume: its session ends with the connection.
        if lineSessions.removeValue(forKey: connection) == .chatting {
            handle(.disconnected(connection, .goodbye, now: WallClock.unixMillis()))
        }
    }

    public func lineTooLong(_ connection: ConnectionID, endpoint: Int) {
        sendLine("!! line longer than \(config.line.maxLineBytes) bytes; ignored", to: connection)
    }

    func sendLine(_ text: String, to connection: ConnectionID) {
        reactor.send(OutboundFrame(Array((text + "\r\n").utf8)), to: connection)
    }

    /// What a line user sees of a server message, or nil when it shows nothing (`ack`).
    func lineText(_ message: OutboundMessage) -> OutboundFrame? {
        let lines = ChatText.render(message.json, utcOffsetSeconds: WallClock.utcOffsetSeconds())
        guard !lines.isEmpty else { return nil }
        let text = lines.map { $0.text.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n" }.joined()
        return OutboundFrame(Array(text.utf8))
    }
}
