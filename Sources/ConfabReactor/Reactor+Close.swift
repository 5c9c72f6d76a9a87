import CLibUV
import ConfabCodec
import Logging

extension Reactor {
    /// Starts the close handshake from our side: close frame now, TCP once the peer answers
    /// or `closeTimeoutMs` passes. The delegate is told with `.local` (if not told already).
    public func close(_ id: ConnectionID, code: UInt16, reason: String) {
        guard let connection = connection(id) else { return }
        switch connection.phase {
        case .webSocket:
            endSession(connection, cause: .local(code: code, reason: reason))
            sendClose(connection, code: code, reason: reason)
        case .lines:
            endSession(connection, cause: .local(code: code, reason: reason))
            connection.phase = .closing
            connection.phaseStarted = now
            shutdownAfterFlush(connection)
        case .http:
            closeHandle(of: connection)
        case .closing, .closed:
            break
        }
    }

    /// Sends 1001 to every WebSocket and closes plain HTTP connections; used on shutdown.
    public func closeAll(code: UInt16, reason: String) {
        forEachConnection { connection in close(connection.id, code: code, reason: reason) }
    }

    /// Closes every connection at once, queued data or not (shutdown deadline passed).
    public func abortAll() {
        forEachConnection { connection in
            endSession(connection, cause: .transport("server shutting down"))
            closeHandle(of: connection)
        }
    }

    /// Closes the remaining handles so `run()` returns.
    public func stop() {
        guard !isStopping else { return }
        isStopping = true
        stopAccepting()
        abortAll()
        for timer in timers { timer.cancel() }  // cancel() edits `timers`; the loop iterates a copy.
        for signal in signals { signal.cancel() }
        for reader in inputReaders { reader.cancel() }
        uv_check_stop(flushCheck)
        closeAndFree(flushCheck)
    }

    func sendClose(_ connection: Connection, code: UInt16, reason: String) {
        enqueue(OutboundFrame(closeFrame(code: code, reason: reason, for: connection)), on: connection)
        connection.phase = .closing
        connection.phaseStarted = now
    }

    func respondAndClose(_ connection: Connection, _ response: [UInt8]) {
        enqueue(OutboundFrame(response), on: connection)
        connection.phase = .closing
        connection.phaseStarted = now
        shutdownAfterFlush(connection)
    }

    /// Once everything queued is on the wire, send FIN; the handle closes on the peer's EOF
    /// or after the close timeout, so the peer reads our last bytes before any reset.
    func shutdownAfterFlush(_ connection: Connection) {
        connection.shutdownWhenFlushed = true
        if !connection.isQueuedForFlush {
            connection.isQueuedForFlush = true
            flushQueue.append(connection)
        }
    }

    func shutdown(_ connection: Connection) {
        let request = UnsafeMutablePointer<uv_shutdown_t>.allocate(capacity: 1)
        let result = uv_shutdown(request, connection.stream) { request, _ in
            request?.deallocate()
        }
        if result < 0 {
            request.deallocate()
            closeHandle(of: connection)
        }
    }

    /// Tells the delegate once that the WebSocket session is over.
    func endSession(_ connection: Connection, cause: CloseCause) {
        guard !connection.reportedClosed else { return }
        if connection.isClient {
            // Clients hear of every end, failed connects and handshakes included.
            connection.reportedClosed = true
            if connection.endpoint >= 0 { sessionCount -= 1 }
            clientHandshakes[connection.id] = nil
            clientDelegate?.clientClosed(connection.id, cause: cause)
            return
        }
        guard connection.endpoint >= 0 else { return }
        connection.reportedClosed = true
        sessionCount -= 1
        logger.info("session closed", metadata: ["peer": "\(connection.peer)", "conn": "\(connection.id)", "cause": "\(cause)"])
        delegate?.closed(connection.id, endpoint: connection.endpoint, cause: cause)
    }

    /// Closes the TCP handle exactly once. The slot and the memory are released in the
    /// close callback, after libuv has cancelled any write still pointing at our frames.
    func closeHandle(of connection: Connection) {
        guard connection.phase != .closed else { return }
        connection.phase = .closed
        connection.pending.removeAll()
        connection.pendingBytes = 0
        connection.reader = nil
        connection.parser = nil
        lineStates[connection.id] = nil
        uv_close(connection.tcp.cast(to: uv_handle_t.self)) { handle in
            guard let connection = context(handle, as: Connection.self) else { return }
            handle?.pointee.data = nil
            connection.reactor.releaseSlot(of: connection)
            connection.tcp.deallocate()
        }
    }

    /// Once a second: time out slow handshakes, silent peers and unanswered closes; ping the quiet.
    func sweep() {
        let now = self.now
        let clock = uv_hrtime()
        let elapsedMs = (clock &- lastSweep) / 1_000_000
        lastSweep = clock
        stats.loopLagMs = elapsedMs > Self.sweepIntervalMs ? elapsedMs - Self.sweepIntervalMs : 0
        stats.maxLoopLagMs = max(stats.maxLoopLagMs, stats.loopLagMs)
        forEachConnection { connection in
            let inPhase = now &- connection.phaseStarted
            switch connection.phase {
            case .http:
                if inPhase >= settings.handshakeTimeoutMs {
                    endSession(connection, cause: .timeout("no handshake after \(inPhase) ms"))
                    stats.handshakeTimeouts += 1
                    logger.info("handshake timeout", metadata: ["peer": "\(connection.peer)"])
                    closeHandle(of: connection)
                }
            case .webSocket:
                let silent = now &- connection.lastHeard
                if silent >= settings.idleTimeoutMs {
                    stats.idleTimeouts += 1
                    endSession(connection, cause: .timeout("no frame for \(silent) ms"))
                    sendClose(connection, code: CloseCode.goingAway, reason: "idle timeout")
                } else if silent + Self.sweepIntervalMs > settings.pingIntervalMs, !connection.pingOutstanding {
                    // Ping when it would fall due before the next sweep: sent up to one sweep
                    // early rather than late, so the pong has the whole margin to the idle timeout.
                    connection.pingOutstanding = true
                    enqueue(connection.isClient ? OutboundFrame(frame(.ping, [], for: connection)) : pingFrame, on: connection)
                }
            case .closing:
                if inPhase >= settings.closeTimeoutMs { closeHandle(of: connection) }
            case .lines, .closed:
                break
            }
        }
        flushAll()
    }
}
