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
            connection.input = .none
            connection.enter(.closing, now: now)
            shutdownAfterFlush(connection)
        case .http:
            endSession(connection, cause: .local(code: code, reason: reason))
            closeHandle(of: connection)
        case .closing, .closed:
            break  // Already on its way out; the delegate has been told.
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

    /// Closes every handle (connections at once, queued data or not) and every Redis client
    /// (their unanswered commands get errors now) so `run()` returns;
    /// from now on new timers never fire and nothing new is opened. Safe to call again.
    public func stop() {
        guard state == .open else { return }
        state = .stopping
        stopAccepting()
        abortAll()
        for timer in timers { timer.cancel() }  // cancel() edits `timers`; the loop iterates a copy.
        for signal in signals { signal.cancel() }
        for reader in inputReaders { reader.cancel() }
        for client in redisClients { client.close() }  // close() edits `redisClients`, like cancel().
        for child in children { child.close() }  // Likewise; the children keep running.
        uv_check_stop(flushCheck)
        closeAndFree(flushCheck)
    }

    func sendClose(_ connection: Connection, code: UInt16, reason: String) {
        enqueue(OutboundFrame(closeFrame(code: code, reason: reason, for: connection)), on: connection)
        connection.enter(.closing, now: now)
    }

    /// A last HTTP response: nothing more is read from this peer.
    func respondAndClose(_ connection: Connection, _ response: [UInt8]) {
        enqueue(OutboundFrame(response), on: connection)
        connection.input = .none
        connection.enter(.closing, now: now)
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
            guard let request else { return }
            // Called back (ECANCELED if need be) before the handle's close callback.
            Reactor.of(request.pointee.handle?.pointee.loop)?.ledger.requestsCompleted += 1
            request.deallocate()
        }
        if result < 0 {
            request.deallocate()
            closeHandle(of: connection)
        } else {
            ledger.requestsStarted += 1
        }
    }

    /// Tells the delegate once that the session is over. Server connections that never
    /// opened a session are not reported; clients hear of every end, failed connects and
    /// handshakes included.
    func endSession(_ connection: Connection, cause: CloseCause) {
        switch connection.session {
        case .ended:
            return
        case .pending:
            guard connection.isClient else { return }
            connection.session = .ended
            clientDelegate?.clientClosed(connection.id, cause: cause)
        case .client:
            connection.session = .ended
            sessionCount -= 1
            clientDelegate?.clientClosed(connection.id, cause: cause)
        case .server(let endpoint):
            connection.session = .ended
            sessionCount -= 1
            logger.info("session closed", metadata: ["peer": "\(connection.peer)", "conn": "\(connection.id)", "cause": "\(cause)"])
            delegate?.closed(connection.id, endpoint: endpoint, cause: cause)
        }
    }

    /// Closes the TCP handle; idempotent, and `uv_close` is called exactly once. Queued
    /// frames and the decoder go now; the slot and the memory are released in the close
    /// callback, after libuv has called back every write still pointing at our frames.
    func closeHandle(of connection: Connection) {
        guard connection.phase != .closed else { return }
        connection.enter(.closed, now: now)
        connection.pending.removeAll()
        connection.pendingBytes = 0
        connection.shutdownWhenFlushed = false
        connection.input = .none
        let handle = connection.tcp.cast(to: uv_handle_t.self)
        assert(uv_is_closing(handle) == 0, "closeHandle: connection \(connection.id)'s handle is already closing: closed twice")
        ledger.closesRequested += 1
        uv_close(handle) { handle in
            guard let handle, let connection = context(handle, as: Connection.self) else {
                assertionFailure("close callback for a TCP handle without its connection")
                return
            }
            handle.pointee.data = nil
            connection.reactor.handleClosed(connection)
        }
    }

    /// The close callback: libuv is done with the handle, so its memory and slot go.
    private func handleClosed(_ connection: Connection) {
        ledger.handlesClosed += 1
        assert(connection.phase == .closed, "close callback for connection \(connection.id) in .\(connection.phase)")
        // Each write request holds the connection unretained: one called back after this
        // would touch freed memory. libuv calls them all (ECANCELED) before this callback.
        precondition(connection.writesInFlight == 0,
                     "close callback for connection \(connection.id) with \(connection.writesInFlight) writes not called back")
        releaseSlot(of: connection)
        connection.tcp.deallocate()
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
                break  // No timeouts for line sessions; closed ones wait for their callback.
            }
        }
        flushAll()
    }
}
