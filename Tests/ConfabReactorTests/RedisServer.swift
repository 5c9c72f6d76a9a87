import Foundation
import Glibc
import Logging
import Testing
@testable import ConfabReactor

/// A real `redis-server` for one test: a free 127.0.0.1 port, its own temp directory, no
/// persistence; killed and removed at the end. It can be killed and started again on the
/// same port. A machine without redis-server fails the test (Scripts/setup --test installs it).
final class RedisServer {
    struct Missing: Error, CustomStringConvertible {
        var description: String { "redis-server not found on PATH: run Scripts/setup --test" }
    }

    let port: Int
    let password: String?
    let directory: URL
    private var process: Process?

    init(password: String? = nil) throws {
        port = try freePort()
        self.password = password
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("confab-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Launches redis-server and returns without waiting for it.
    func launch() throws {
        let search = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin", "/usr/sbin"]
        guard let binary = search.map({ $0 + "/redis-server" }).first(where: FileManager.default.isExecutableFile) else {
            throw Missing()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.currentDirectoryURL = directory
        process.arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", directory.path, "--logfile", "redis.log", "--daemonize", "no"]
            + (password.map { ["--requirepass", $0] } ?? [])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
    }

    /// Launches and waits until it answers on its port (any reply: with a password, PING is
    /// refused), or fails after `deadline` seconds.
    func start(deadline: Double = 10) throws {
        try launch()
        let end = Date().addingTimeInterval(deadline)
        while Date() < end {
            if answers() { return }
            usleep(10_000)  // Between connection attempts to a process that is still starting.
        }
        throw RedisTestError("redis-server on port \(port) did not answer within \(deadline) s")
    }

    /// SIGKILL, as a crash: no goodbye to its clients beyond what the kernel does.
    func kill() {
        guard let process else { return }
        self.process = nil
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func signal(_ signal: Int32) {
        if let process { Glibc.kill(process.processIdentifier, signal) }
    }

    /// One PING over a blocking socket with a short timeout.
    private func answers() -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0, send(fd, "PING\r\n", 6, 0) == 6 else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) == 1 && (byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-"))
    }
}

struct RedisTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A port that was free a moment ago (bound to 0, read back, released).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw RedisTestError("socket: errno \(errno)") }
    defer { close(fd) }
    var address = loopback(port: 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let status = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard status else { throw RedisTestError("bind: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}

private func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    return address
}

/// Runs a reactor through named steps: each waits (checked every 5 ms on the loop) until
/// its condition holds, then acts. The run ends after the last step, or fails at the
/// deadline naming the step it was waiting for; either way the loop must close cleanly.
final class LoopScript {
    let reactor: Reactor
    private var steps: [(name: String, ready: () -> Bool, action: () -> Void)] = []
    private(set) var waitingFor: String?

    init() throws {
        reactor = try quietReactor()
    }

    func step(_ name: String, when ready: @escaping () -> Bool, _ action: @escaping () -> Void = {}) {
        steps.append((name, ready, action))
    }

    func run(deadlineMs: UInt64 = 15_000, sourceLocation: SourceLocation = #_sourceLocation) {
        let start = reactor.now
        reactor.every(milliseconds: 5, keepsLoopAlive: true) { [unowned self] in
            while let next = steps.first, next.ready() {
                steps.removeFirst()
                next.action()
            }
            waitingFor = steps.first?.name
            if steps.isEmpty || reactor.now - start > deadlineMs { reactor.stop() }
        }
        reactor.run()
        if let waitingFor { Issue.record("timed out waiting for: \(waitingFor)", sourceLocation: sourceLocation) }
        expectClosedCleanly(reactor, sourceLocation: sourceLocation)
    }
}

func testLogger() -> Logger {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}
