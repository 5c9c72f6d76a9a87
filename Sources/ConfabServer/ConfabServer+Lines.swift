import ConfabChat
import ConfabCodec
import ConfabConfig
import ConfabProtocol
import ConfabReactor
import Logging

/// The line chat: `nc`/`telnet` users in the same rooms as WebSocket users. The bridge asks
/// for a name, then hands each line to the state machine as a typed request (`LineDialect`);
/// what comes back is rendered as text only for messages that reach a line user.
extension ConfabServer {
    func lineOpened(_ connection: ConnectionID) {
        linesNaming.insert(connection)
        sendLine("Welcome to \(config.server.name)! What is your name? (empty line for a random one)", to: connection)
    }

    func lineReceived(_ line: [UInt8], connection: ConnectionID) {
        guard let text = LineDialect.text(line) else {
            sendLine("!! input must be UTF-8 text; line ignored", to: connection)
            return
        }
        if linesNaming.contains(connection) {
            let name = PlainText.trim(text)
            // At a prompt the user can simply be asked again, rather than given a random name.
            if !name.isEmpty, let error = chat.nameError(name) {
                sendLine("!! \(error.message) (\(error.code.rawValue)); another name? (empty line for a random one)", to: connection)
                return
            }
            linesNaming.remove(connection)
            handle(.connected(connection, ConnectRequest(name: name.isEmpty ? nil : name), now: WallClock.unixMillis()))
            return
        }
        if PlainText.trim(text).lowercased() == "/quit" {
            sendLine("-- Bye!", to: connection)
            reactor.close(connection, code: CloseCode.normalClosure, reason: "quit")
            return
        }
        guard let request = LineDialect.request(text) else { return }
        counters.messagesIn += 1
        handle(.received(connection, DecodedRequest(request), now: WallClock.unixMillis()))
    }

    func lineClosed(_ connection: ConnectionID) {
        // A line client cannot resume: its session ends with the connection.
        if linesNaming.remove(connection) == nil {
            handle(.disconnected(connection, .goodbye, now: WallClock.unixMillis()))
        }
    }

    public func lineTooLong(_ connection: ConnectionID, endpoint: Int) {
        sendLine("!! line longer than \(config.line.maxLineBytes) bytes; ignored", to: connection)
    }

    func sendLine(_ text: String, to connection: ConnectionID) {
        reactor.send(OutboundFrame(LineDialect.notice(text)), to: connection)
    }
}
