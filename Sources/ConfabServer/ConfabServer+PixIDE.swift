import ConfabChat
import ConfabCodec
import ConfabConfig
import ConfabProtocol
import ConfabReactor
import Logging

/// PixIDE clients (`compat.pixidePath`) in the same rooms as everyone else. As the line chat
/// holds its session until the name line, the bridge holds it until the first `join`, whose
/// `userId` becomes the user's name and whose room (default: the userId) the session starts
/// in. The session is single-room, so `switch_room` (a `join`) leaves the old room. What the
/// machine sends back is encoded by `PixIDEDialect`. See docs/PROTOCOL.md, "PixIDE dialect".
extension ConfabServer {
    func pixideOpened(_ connection: ConnectionID) {
        pixideWaiting[connection] = 0
        logger.info("pixide open", metadata: ["peer": "\(reactor.peer(of: connection) ?? "?")", "conn": "\(connection)"])
    }

    func pixideReceived(_ message: [UInt8], binary: Bool, connection: ConnectionID) {
        if binary {
            counters.protocolErrors[CloseCode.unsupportedData, default: 0] += 1
            reactor.close(connection, code: CloseCode.unsupportedData, reason: "binary messages are not supported")
            return
        }
        counters.messagesIn += 1
        let request = PixIDEDialect.decodeRequest(message, maxBytes: chat.config.maxRequestBytes)
        let now = WallClock.unixMillis()
        if let refusals = pixideWaiting[connection] {
            return pixideBeforeJoin(request, connection: connection, refusals: refusals, now: now)
        }
        switch request {
        case .join(_, let room):
            // Once joined, a join is a switch; the connection's user is the one it joined as.
            let target = room ?? pixideNames[connection] ?? ""
            handle(.received(connection, DecodedRequest(.success(.join(target))), now: now))
        case .chat(let decoded):
            handle(.received(connection, decoded, now: now))
        }
    }

    /// No session yet: a `join` with a usable userId starts one; anything else is answered
    /// here (the machine has no session to rate-limit), and enough refusals close with 1008.
    private func pixideBeforeJoin(_ request: PixIDEDialect.Request, connection: ConnectionID, refusals: Int, now: Int64) {
        let error: ChatError
        switch request {
        case .join(let userId, let room):
            if let refused = chat.nameError(userId) {
                error = refused
            } else {
                pixideWaiting.removeValue(forKey: connection)
                let connect = ConnectRequest(name: userId, startRoom: room ?? PlainText.trim(userId), singleRoom: true)
                return handle(.connected(connection, connect, now: now))
            }
        case .chat(let decoded):
            if case .failure(let refused) = decoded.result { error = refused } else { error = PixIDEDialect.joinFirst }
        }
        if let frame = pixideFrame(OutboundMessage(.error(error, retryAfterMs: nil, re: nil)), to: connection) {
            reactor.send(frame, to: connection)
        }
        let limit = config.chat.rate.disconnectAfter
        if refusals + 1 >= limit {
            reactor.close(connection, code: CloseCode.policyViolation, reason: "no valid join")
        } else {
            pixideWaiting[connection] = refusals + 1
        }
    }

    func pixideClosed(_ connection: ConnectionID) {
        pixideNames.removeValue(forKey: connection)
        // A PixIDE client cannot resume (it never sees a token): the session ends with the connection.
        if pixideWaiting.removeValue(forKey: connection) == nil {
            handle(.disconnected(connection, .goodbye, now: WallClock.unixMillis()))
        }
    }

    /// One server message as PixIDE frames (several WebSocket frames in one buffer when it maps
    /// to several PixIDE messages). `connection` is the recipient of a direct send: its welcome
    /// tells the bridge the user's name, which its later `joined` replies repeat as `userId`.
    func pixideFrame(_ message: OutboundMessage, to connection: ConnectionID?) -> OutboundFrame? {
        if let connection, case .welcome(let welcome) = message.message { pixideNames[connection] = welcome.user.name }
        let payloads = PixIDEDialect.encode(message.message, recipient: connection.flatMap { pixideNames[$0] })
        switch payloads.count {
        case 0:
            return nil
        case 1:
            return Self.textFrame(payloads[0])
        default:
            var bytes: [UInt8] = []
            for payload in payloads {
                bytes += FrameEncoder.header(opcode: .text, payloadLength: payload.count)
                bytes += payload
            }
            return OutboundFrame(bytes)
        }
    }
}
