import ConfabCodec
import Testing
@testable import ConfabReactor

#if DEBUG
/// Impossible steps stop the process instead of falling through; the message names the
/// state and the event.
@Suite struct LifecycleTrapTests {
    @Test func aClosedConnectionNeverLeavesClosed() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let reactor = try quietReactor()
            let connection = reactor.makeConnection(isClient: false, input: .none)
            reactor.closeHandle(of: connection)
            connection.enter(.webSocket, now: 0)
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains(".closed -> .webSocket"))
    }

    @Test func aReactorRunsOnce() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let reactor = try quietReactor()
            reactor.stop()
            reactor.run()
            reactor.run()
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("already closed"))
    }

    @Test func aPhaseSkipIsCaught() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let reactor = try quietReactor()
            let connection = reactor.makeConnection(isClient: false, input: .none)
            connection.enter(.lines, now: 0)
            connection.enter(.webSocket, now: 0)
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains(".lines -> .webSocket"))
    }

    @Test func framesForAClosedConnectionAreCaught() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let reactor = try quietReactor()
            let connection = reactor.makeConnection(isClient: false, input: .none)
            reactor.closeHandle(of: connection)
            reactor.enqueue(OutboundFrame([1]), on: connection)
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("in .closed"))
    }
}
#endif
