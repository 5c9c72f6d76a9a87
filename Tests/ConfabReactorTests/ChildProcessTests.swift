import CLibUV
import Foundation
import Glibc
import Testing
@testable import ConfabReactor

/// `Reactor.spawn`: a child's stdout as lines, its end, signals, its stdin pipe, and a
/// loop that closes cleanly whatever the child did.
@Suite struct ChildProcessTests {
    /// Runs `script` under /bin/sh until it exits (or 10 s); returns its lines and end.
    func run(_ script: String, environment: [String] = [], whenStarted: (ChildProcess) -> Void = { _ in })
        throws -> (lines: [String], exit: ChildExit?) {
        let reactor = try quietReactor()
        var lines: [String] = []
        var end: ChildExit?
        let child = try reactor.spawn("/bin/sh", arguments: ["-c", script], environment: environment,
                                      onLine: { lines.append($0) }, onExit: { end = $0 })
        #expect(child.pid > 0)
        #expect(child.isRunning)
        whenStarted(child)
        reactor.after(milliseconds: 10_000) { reactor.stop() }
        reactor.run()
        expectClosedCleanly(reactor)
        #expect(!child.isRunning)
        return (lines, end)
    }

    @Test func linesThenTheExitStatus() throws {
        let (lines, exit) = try run(#"printf 'one\ntwo\r\n\nthree'; exit 3"#)
        // The unterminated "three" is not a line.
        #expect(lines == ["one", "two", ""])
        #expect(exit == ChildExit(status: 3, signal: 0))
        #expect(exit?.code == 3)
    }

    @Test func aLongLineComesInBoundedPieces() throws {
        let (lines, _) = try run("head -c 5000 /dev/zero | tr '\\0' x; echo")
        #expect(lines.map(\.count) == [ChildProcess.maxLineBytes, 5000 - ChildProcess.maxLineBytes])
    }

    @Test func theEnvironmentIsExactlyTheOneGiven() throws {
        let (lines, _) = try run(#"echo "$GREETING/${HOME:-none}""#, environment: ["GREETING=hi"])
        #expect(lines == ["hi/none"])
    }

    @Test func aSignalEndsItAndIsReportedAs128PlusN() throws {
        let (_, exit) = try run("echo ready; exec sleep 30") { child in
            #expect(child.signal(SIGTERM))
        }
        #expect(exit == ChildExit(status: 0, signal: SIGTERM))
        #expect(exit?.code == 128 + SIGTERM)
    }

    @Test func itRunsInASessionOfItsOwn() throws {
        // Field 6 of /proc/PID/stat is the session id: a session leader's is its pid.
        let (lines, _) = try run(#"echo "$$ $(cut -d' ' -f6 /proc/$$/stat)""#)
        let fields = try #require(lines.first).split(separator: " ")
        #expect(fields.count == 2 && fields[0] == fields[1])
    }

    @Test func itReadsEndOfInputOnceWeStopWatching() throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("confab-child-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: marker) }
        let reactor = try quietReactor()
        _ = try reactor.spawn("/bin/sh", arguments: ["-c", "cat >/dev/null; echo eof > '\(marker.path)'"], environment: [],
                              onLine: { _ in }, onExit: { _ in })
        // Nothing ever written: cat waits until our end of its stdin is closed, here by stop().
        reactor.after(milliseconds: 200) { reactor.stop() }
        reactor.run()
        expectClosedCleanly(reactor)
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: marker.path) && Date() < deadline { usleep(20_000) }
        #expect((try? String(contentsOf: marker, encoding: .utf8)) == "eof\n")
    }

    @Test func aProgramThatCannotStartThrowsAndLeavesNothingOpen() throws {
        let reactor = try quietReactor()
        #expect(throws: LibuvError.self) {
            try reactor.spawn("/nonexistent/confab", arguments: [], environment: [], onLine: { _ in }, onExit: { _ in })
        }
        #expect(reactor.children.isEmpty)
        reactor.run()
        expectClosedCleanly(reactor)
    }

    @Test func theExecutablePathIsThisProgram() throws {
        let path = try #require(Reactor.executablePath())
        #expect(FileManager.default.isExecutableFile(atPath: path))
        #expect(path == (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")))
    }
}

/// `PortReservation`: a free port that SO_REUSEPORT listeners can share, that nobody else can
/// take, and on which no connection waits while nobody listens.
@Suite struct PortReservationTests {
    @Test(arguments: ["127.0.0.1", "::1"])
    func reusePortListenersShareTheReservedPortOthersCannot(_ host: String) throws {
        let reservation = try PortReservation(host: host)
        #expect(reservation.port > 0)
        let reactor = try quietReactor()
        #expect(try reactor.listen(host: host, port: reservation.port, reusePort: true).port == reservation.port)
        let error = try #require(throws: LibuvError.self) { try reactor.listen(host: host, port: reservation.port) }
        #expect(error.code == Int32(UV_EADDRINUSE.rawValue))
        reactor.stop()
        reactor.run()
        expectClosedCleanly(reactor)
    }

    @Test func nothingListensOnTheReservationItself() throws {
        let reservation = try PortReservation(host: "127.0.0.1")
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(reservation.port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(result == -1 && errno == ECONNREFUSED)
    }

    @Test func aHostThatIsNotAnAddressThrows() {
        #expect(throws: LibuvError.self) { try PortReservation(host: "not an address") }
    }
}
