import CLibUV
import ConfabCodec
import Logging

extension Reactor {
    func didRead(_ connection: Connection, count: Int) {
        if count == 0 { return }  // EAGAIN: libuv's "try again", not end of stream.
        if count < 0 {
            let reason = count == Int(UV_EOF.rawValue) ? "peer closed the connection" : uvErrorDescription(Int32(count))
            endSession(connection, cause: .transport(reason))
            closeHandle(of: connection)
            return
        }
        connection.lastHeard = now
        stats.bytesIn += count
        let bytes = UnsafeRawBufferPointer(start: readSlab, count: count)
        switch connection.phase {
        case .http where connection.isClient: readUpgradeResponse(connection, bytes)
        case .http: readHTTP(connection, bytes)
        case .webSocket, .closing: readFrames(connection, bytes)
        case .lines: readLines(connection, bytes)
        case .closed: break
        }
    }

    /// Feeds request bytes to the parser; a complete head goes to the delegate for routing.
    private func readHTTP(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) {
        var remaining = bytes
        while connection.phase == .http, !remaining.isEmpty {
            guard let result = connection.parser?.parse(remaining) else { return }
            switch result {
            case .needMore:
                return
            case .failure(let error):
                logger.info("bad request", metadata: ["peer": "\(connection.peer)", "status": "\(error.status)", "reason": "\(error.reason)"])
                let response = HTTPResponse(status: error.status, headers: ["Content-Type": "text/plain; charset=utf-8", "Connection": "close"],
                                            text: error.reason + "\n")
                respondAndClose(connection, response.encode())
                return
            case .request(let request, let consumed):
                remaining = UnsafeRawBufferPointer(rebasing: remaining[consumed...])
                // A client pipelining requests without reading the answers must not make us
                // buffer responses without bound.
                guard connection.queuedBytes <= settings.maxOutboundBytes else {
                    stats.slowConsumersDropped += 1
                    logger.warning("pipelining client not reading: closed", metadata: ["peer": "\(connection.peer)", "queued": "\(connection.queuedBytes)"])
                    closeHandle(of: connection)
                    return
                }
                connection.parser = HTTPRequestParser(maxHeaderBytes: settings.maxHeaderBytes)
                guard let delegate else { return }
                switch delegate.route(request, connection: connection.id, peer: connection.peer) {
                case .respond(let response, let keepAlive):
                    guard keepAlive && request.keepAlive && !request.hasBody else {
                        respondAndClose(connection, response)
                        return
                    }
                    enqueue(OutboundFrame(response), on: connection)
                    connection.phaseStarted = now
                case .upgrade(let accept, let endpoint, let limits):
                    enqueue(OutboundFrame(WebSocketHandshake.switchingProtocolsResponse(accept: accept)), on: connection)
                    connection.parser = nil
                    connection.reader = WebSocketReader(limits: limits)
                    connection.phase = .webSocket
                    connection.endpoint = endpoint
                    connection.phaseStarted = now
                    sessionCount += 1
                    delegate.opened(connection.id, endpoint: endpoint)
                    // Frames the client sent right behind its request belong to the new phase.
                    if !remaining.isEmpty { readFrames(connection, remaining) }
                    return
                }
            }
        }
    }

    func readFrames(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) {
        // The callback may change `phase` (a close arrives, the delegate closes us) but
        // never touches `reader`, which is being mutated in place.
        guard let error = connection.reader?.feed(bytes, { message in self.handle(message, on: connection) }) else { return }
        switch connection.phase {
        case .webSocket:
            stats.protocolErrors[error.closeCode, default: 0] += 1
            logger.info("protocol error", metadata: ["peer": "\(connection.peer)", "code": "\(error.closeCode)", "reason": "\(error.reason)"])
            endSession(connection, cause: .protocolError(code: error.closeCode, reason: error.reason))
            sendClose(connection, code: error.closeCode, reason: error.reason)
        case .closing:
            // Still breaking the protocol after our close: stop waiting for its answer.
            closeHandle(of: connection)
        case .http, .lines, .closed:
            break
        }
    }

    /// One decoded message or control frame.
    private func handle(_ message: WebSocketMessage, on connection: Connection) {
        switch (message, connection.phase) {
        case (.text(let bytes), .webSocket):
            deliver(bytes, binary: false, on: connection)
        case (.binary(let bytes), .webSocket):
            deliver(bytes, binary: true, on: connection)
        case (.ping(let payload), .webSocket):
            enqueue(OutboundFrame(frame(.pong, payload, for: connection)), on: connection)
        case (.pong, _):
            connection.pingOutstanding = false
        case (.close(let code, let reason), .webSocket):
            // The peer starts the close handshake: echo its code (RFC 6455 §5.5.1), then end TCP.
            endSession(connection, cause: .peerClosed(code: code, reason: reason))
            enqueue(OutboundFrame(closeFrame(code: code ?? CloseCode.normalClosure, reason: "", for: connection)), on: connection)
            connection.phase = .closing
            connection.phaseStarted = now
            shutdownAfterFlush(connection)
        case (.close, .closing):
            // The answer to our close: the handshake is complete.
            shutdownAfterFlush(connection)
        default:
            break  // Data after a close is ignored (RFC 6455 §5.5.1).
        }
    }

    private func deliver(_ bytes: [UInt8], binary: Bool, on connection: Connection) {
        if connection.isClient {
            clientDelegate?.clientReceived(bytes, binary: binary, connection: connection.id)
        } else {
            delegate?.received(bytes, binary: binary, connection: connection.id, endpoint: connection.endpoint)
        }
    }
}
