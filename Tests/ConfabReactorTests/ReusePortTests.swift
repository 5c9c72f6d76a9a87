import CLibUV
import Testing
@testable import ConfabReactor

/// `listen(reusePort:)`: SO_REUSEPORT lets several loops (processes, in production) listen
/// on one port; without it the second bind fails.
@Suite struct ReusePortTests {
    @Test(arguments: ["127.0.0.1", "::1"])
    func twoListenersShareAPortWithReusePort(_ host: String) throws {
        let first = try quietReactor()
        let second = try quietReactor()
        let port = try first.listen(host: host, port: 0, reusePort: true).port
        #expect(throws: Never.self) { try second.listen(host: host, port: port, reusePort: true) }
        for reactor in [first, second] {
            reactor.stop()
            reactor.run()
            expectClosedCleanly(reactor)
        }
    }

    @Test func withoutReusePortTheSecondListenerFails() throws {
        let first = try quietReactor()
        let second = try quietReactor()
        let port = try first.listen(host: "127.0.0.1", port: 0, reusePort: true).port
        let error = try #require(throws: LibuvError.self) { try second.listen(host: "127.0.0.1", port: port) }
        #expect(error.code == Int32(UV_EADDRINUSE.rawValue))
        // Both ways round: a plain listener keeps a reusePort one off its port too.
        let plain = try first.listen(host: "127.0.0.1", port: 0).port
        #expect(throws: LibuvError.self) { try second.listen(host: "127.0.0.1", port: plain, reusePort: true) }
        for reactor in [first, second] {
            reactor.stop()
            reactor.run()
            expectClosedCleanly(reactor)
        }
    }
}
