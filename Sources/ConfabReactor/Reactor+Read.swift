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
        case .closed: assertionFailure("didRead: \(count) bytes for connection \(connection.id) in .closed; uv_close stops reading")
        }
    }

    /// Feeds request bytes to the parser; a complete head goes to the delegate for routing.
    /// The parser is out of the connection meanwhile, and goes back only while the
    /// connection is still reading requests.
    private func readHTTP(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) {
        guard case .request(var parser) = connection.takeInput() else {
            assertionFailure("readHTTP: connection \(connection.id) in .http has no request parser")
            return
        }
        var remaining = bytes
        reading: while !remaining.isEmpty {
            switch parser.parse(remaining) {
            case .needMore:
                break reading
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
                parser = HTTPRequestParser(maxHeaderBytes: settings.maxHeaderBytes)
                guard let delegate else { break reading }
                let route = delegate.route(request, connection: connection.id, peer: connection.peer)
                // Routing may have closed the connection; its answer then goes nowhere.
                guard connection.phase == .http else { return }
                switch route {
                case .respond(let response, let keepAlive):
                    guard keepAlive && request.keepAlive && !request.hasBody else {
                        respondAndClose(connection, response)
                        return
                    }
                    enqueue(OutboundFrame(response), on: connection)
                    connection.phaseStarted = now
                case .upgrade(let accept, let endpoint, let limits):
                    enqueue(OutboundFrame(WebSocketHandshake.switchingProtocolsResponse(accept: accept)), on: connection)
                    connection.input = .frames(WebSocketReader(limits: limits))
                    connection.enter(.webSocket, now: now)
                    connection.session = .server(endpoint: endpoint)
                    sessionCount += 1
                    delegate.opened(connection.id, endpoint: endpoint)
                    // Frames the client sent right behind its request belong to the new
                    // phase, unless the delegate has closed the connection.
                    if !remaining.isEmpty, connection.phase != .closed { readFrames(connection, remaining) }
                    return
                }
            }
        }
        connection.restoreInput(.request(parser))
    }

    /// Feeds frame bytes to the reader. The reader is out of the connection while it runs,
    /// so the message callback (and the delegate behind it) cannot touch it, even by
    /// closing the connection; it goes back unless the connection closed.
    func readFrames(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) {
        guard case .frames(var reader) = connection.takeInput() else {
            // After a last HTTP response or a line session's close nothing more is read.
            assert(connection.phase == .closing, "readFrames: connection \(connection.id) in .\(connection.phase) has no frame reader")
            return
        }
        let error = reader.feed(bytes) { message in self.handle(message, on: connection) }
        connection.restoreInput(.frames(reader))
        guard let error else { return }
        switch connection.phase {
        case .webSocket:
            stats.protocolErrors[error.closeCode, default: 0] += 1
            logger.info("protocol error", metadata: ["peer": "\(connection.peer)", "code": "\(error.closeCode)", "reason": "\(error.reason)"])
            endSession(connection, cause: .protocolError(code: error.closeCode, reason: error.reason))
            sendClose(connection, code: error.closeCode, reason: error.reason)
            drainAfterError(connection, reader)
        case .closing:
            drainAfterError(connection, reader)
        case .closed:
            break  // Closed by a callback during this read.
        case .http, .lines:
            assertionFailure("readFrames: frame error on connection \(connection.id) in .\(connection.phase)")
        }
    }

    /// After a protocol error our close frame is queued, and the reader discards what the
    /// peer still sends. Closing TCP with unread input would make the kernel answer with a
    /// reset that can destroy our close frame before the peer reads it; so reading goes on
    /// until the peer's close frame (then FIN, as after any close handshake), its EOF, the
    /// close timeout (`sweep`) or `closeDrainBytes` discarded.
    private func drainAfterError(_ connection: Connection, _ reader: WebSocketReader) {
        if reader.peerClosedAfterError {
            shutdownAfterFlush(connection)
        } else if reader.discardedBytes > settings.closeDrainBytes {
            logger.info("peer still sending after our close: cut", metadata: ["peer": "\(connection.peer)", "discarded": "\(reader.discardedBytes)"])
            closeHandle(of: connection)
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
        case (.pong, .webSocket), (.pong, .closing):
            connection.pingOutstanding = false
        case (.close(let code, let reason), .webSocket):
            // The peer starts the close handshake: echo its code (RFC 6455 §5.5.1), then end TCP.
            endSession(connection, cause: .peerClosed(code: code, reason: reason))
            enqueue(OutboundFrame(closeFrame(code: code ?? CloseCode.normalClosure, reason: "", for: connection)), on: connection)
            connection.enter(.closing, now: now)
            shutdownAfterFlush(connection)
        case (.close, .closing):
            // The answer to our close: the handshake is complete.
            shutdownAfterFlush(connection)
        case (.text, .closing), (.binary, .closing), (.ping, .closing):
            break  // Data after a close is ignored (RFC 6455 §5.5.1).
        case (_, .closed):
            break  // A callback earlier in this read closed the connection.
        case (_, .http), (_, .lines):
            assertionFailure("handle: a WebSocket message for connection \(connection.id) in .\(connection.phase)")
        }
    }

    private func deliver(_ bytes: [UInt8], binary: Bool, on connection: Connection) {
        switch connection.session {
        case .server(let endpoint):
            delegate?.received(bytes, binary: binary, connection: connection.id, endpoint: endpoint)
        case .client:
            clientDelegate?.clientReceived(bytes, binary: binary, connection: connection.id)
        case .pending, .ended:
            assertionFailure("deliver: message for connection \(connection.id) in .webSocket with session \(connection.session)")
        }
    }
}
