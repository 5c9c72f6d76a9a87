import ConfabCodec
import Glibc
import Testing
@testable import ConfabReactor

/// libuv's lifecycle rules (STYLE.md §3), checked on a real loop: the loop is closed after
/// `run()`, each handle is closed once, each write is called back, and callbacks that
/// close a connection cannot reach the decoder that is calling them.
@Suite struct LoopLifecycleTests {
    @Test func runClosesTheLoopAndEveryHandle() throws {
        let reactor = try quietReactor()
        _ = try reactor.listen(host: "127.0.0.1", port: 0)
        reactor.onSignal(SIGUSR2) { _ in }
        reactor.readInput(fd: -1, onData: { _ in }, onEnd: {})
        reactor.every(milliseconds: 1000) {}
        reactor.after(milliseconds: 1, keepsLoopAlive: true) { reactor.stop() }
        reactor.run()
        expectClosedCleanly(reactor)
        // Listener, signal, async, sweep timer, timer, one-shot timer, flush check.
        #expect(reactor.ledger.handlesOpened == 7)
    }

    /// `uv_run` also returns when only unreferenced handles are left (signals, the sweep,
    /// the flush check): they must still be closed before the loop is.
    @Test func runClosesTheLoopWhenItRanOutOfWorkWithoutStop() throws {
        let reactor = try quietReactor()
        reactor.onSignal(SIGUSR2) { _ in }
        reactor.every(milliseconds: 1000, keepsLoopAlive: false) {}
        var fired = false
        reactor.after(milliseconds: 1, keepsLoopAlive: true) { fired = true }
        reactor.run()
        #expect(fired)
        expectClosedCleanly(reactor)
    }

    /// A reactor dropped without running closes its handles: its listening socket is gone,
    /// so the port can be bound again.
    @Test func aReactorThatNeverRanReleasesItsSocketWhenDropped() throws {
        var port = 0
        do {
            let reactor = try quietReactor()
            port = try reactor.listen(host: "127.0.0.1", port: 0).port
        }
        let again = try quietReactor()
        #expect(throws: Never.self) { try again.listen(host: "127.0.0.1", port: port) }
        again.stop()
        again.run()
        expectClosedCleanly(again)
    }

    @Test func timersMadeAfterStopNeverFire() throws {
        let reactor = try quietReactor()
        var fired = false
        reactor.after(milliseconds: 1, keepsLoopAlive: true) {
            reactor.stop()
            let late = reactor.after(milliseconds: 0, keepsLoopAlive: true) { fired = true }
            #expect(!late.isActive)
        }
        reactor.run()
        #expect(!fired)
        expectClosedCleanly(reactor)
    }

    @Test func aTimerCancelledAgainAndAgainIsClosedOnce() throws {
        let reactor = try quietReactor()
        var oneShot: LoopTimer?
        oneShot = reactor.after(milliseconds: 1, keepsLoopAlive: true) {
            oneShot?.cancel()  // Already closed by the reactor before its body runs.
            oneShot?.cancel()
            reactor.stop()
            reactor.stop()
        }
        let repeating = reactor.every(milliseconds: 1000) {}
        repeating.cancel()
        repeating.cancel()
        reactor.run()
        repeating.cancel()
        #expect(oneShot?.isActive == false)
        oneShot = nil
        expectClosedCleanly(reactor)
    }

    @Test func connectAfterStopOpensNothing() throws {
        let reactor = try quietReactor()
        let address = try ServerAddress(host: "127.0.0.1", port: 9)
        reactor.stop()
        let id = reactor.connect(to: address, hostHeader: "x", path: "/", limits: WebSocketLimits())
        #expect(reactor.connection(id) == nil)
        #expect(reactor.connectionCount == 0)
        #expect(throws: (any Error).self) { try reactor.listen(host: "127.0.0.1", port: 0) }
        reactor.run()
        expectClosedCleanly(reactor)
    }

    /// The reactor keeps its delegates alive while the loop runs, and lets them go once it
    /// is closed: no callback can reach a freed delegate, and no cycle outlives the loop.
    @Test func delegatesAreHeldWhileRunningAndReleasedAfter() throws {
        final class Probe: ClientDelegate {
            var closed: [CloseCause] = []
            var onClosed: () -> Void = {}
            func clientOpened(_ connection: ConnectionID) {}
            func clientReceived(_ message: [UInt8], binary: Bool, connection: ConnectionID) {}
            func clientClosed(_ connection: ConnectionID, cause: CloseCause) {
                closed.append(cause)
                onClosed()
            }
        }
        let reactor = try quietReactor()
        weak var probe: Probe?
        do {
            let delegate = Probe()
            delegate.onClosed = { reactor.stop() }
            probe = delegate
            reactor.clientDelegate = delegate
            reactor.turnEnded = { _ = delegate }
        }
        #expect(probe != nil)
        // A listener that is closed at once: the connect fails and reaches the delegate.
        let port = try reactor.listen(host: "127.0.0.1", port: 0).port
        reactor.stopAccepting()
        _ = reactor.connect(to: try ServerAddress(host: "127.0.0.1", port: port), hostHeader: "x", path: "/", limits: WebSocketLimits())
        reactor.run()
        #expect(probe == nil)
        #expect(reactor.turnEnded == nil)
        expectClosedCleanly(reactor)
    }

    /// A delegate that owns its reactor (the server, the chat client, the tests) makes a
    /// cycle only while the loop runs: afterwards the reactor, and with it the loop's
    /// memory, is freed.
    @Test func aReactorOwnedByItsDelegateIsFreedAfterRun() throws {
        weak var reactor: Reactor?
        do {
            let loop = try Loopback()
            reactor = loop.reactor
            #expect(loop.reactor.delegate === loop)
            loop.reactor.after(milliseconds: 1, keepsLoopAlive: true) { loop.finish() }
            loop.run()
        }
        #expect(reactor == nil)
    }
}
