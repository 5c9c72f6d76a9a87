import ConfabCodec
import Foundation
import Glibc

/// End-to-end fan-out: starts the real `confab` binary, connects `clients` WebSockets to
/// one room, has one of them send `messages` chat messages as fast as a window of
/// in-flight messages allows, and counts every delivery at every client.
///
/// `swift run -c release ConfabBench fanout` (the release `confab` must be built:
/// `swift build -c release --product confab`). Prints deliveries/s and server RSS per
/// connection. Client and server run in separate processes, one core each.
func runFanoutBenchmark(filter: String?) {
    guard filter.map({ "bench.fanout".contains($0) || $0 == "fanout" }) ?? false else { return }
    let clients = Int(ProcessInfo.processInfo.environment["FANOUT_CLIENTS"] ?? "") ?? 1000
    let messages = Int(ProcessInfo.processInfo.environment["FANOUT_MESSAGES"] ?? "") ?? 2000
    do {
        let result = try Fanout(clients: clients, messages: messages).run()
        print(result)
    } catch {
        print("bench.fanout failed: \(error)")
    }
}

private struct BenchError: Error, CustomStringConvertible {
    let description: String
}

private final class Fanout {
    let clients: Int
    let messages: Int
    var sockets: [Int32] = []
    var parsers: [FrameCounter] = []

    init(clients: Int, messages: Int) {
        self.clients = clients
        self.messages = messages
    }

    func run() throws -> String {
        // FANOUT_PORT aims at a server already running (a baseline to compare with).
        if let port = ProcessInfo.processInfo.environment["FANOUT_PORT"].flatMap(Int.init) {
            return try measure(port: port, serverPID: nil)
        }
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("confab").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw BenchError(description: "\(binary) not found: swift build -c release --product confab")
        }
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("confab-fanout-\(getpid()).yaml")
        // No rate limit and a roomy outbound queue: we measure fan-out, not policy.
        try """
            chat:
              rate: { perSecond: 1000000, burst: 1000000 }
              historySize: 0
              roomCapacity: \(clients + 10)
            server: { maxConnectionsPerIP: \(clients + 10), maxConnections: \(clients + 10) }
            websocket: { maxOutboundBytes: 67108864 }
            log: { level: warning }
            """.write(to: config, atomically: true, encoding: .utf8)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: binary)
        server.arguments = ["serve", "--port", "0", "--config", config.path]
        let stdout = Pipe()
        server.standardOutput = stdout
        try server.run()
        defer { server.terminate(); server.waitUntilExit(); try? FileManager.default.removeItem(at: config) }
        guard let line = readLine(from: stdout.fileHandleForReading),
              let port = line.split(separator: ":").last.flatMap({ Int($0.prefix { $0.isNumber }) })
        else { throw BenchError(description: "no banner from confab") }

        return try measure(port: port, serverPID: server.processIdentifier)
    }

    private func measure(port: Int, serverPID: Int32?) throws -> String {
        let rssBefore = serverPID.map(residentKiB) ?? 0
        for _ in 0..<clients { try connect(port: port) }
        drain(quietFor: 300)
        let rssAfter = serverPID.map(residentKiB) ?? 0

        // The sender keeps `window` messages in flight, paced by its own deliveries.
        let window = 64
        let payload = String(repeating: "x", count: 32)
        let frame = FrameEncoder.encode(opcode: .text, payload: Array(#"{"type":"send","text":"\#(payload)"}"#.utf8), mask: 0x1234_5678)
        for index in parsers.indices { parsers[index].frames = 0 }
        let start = ContinuousClock.now
        var sent = 0
        let deadline = start + .seconds(60)
        while parsers.contains(where: { $0.frames < messages }) && ContinuousClock.now < deadline {
            while sent < messages && sent - parsers[0].frames < window {
                try writeAll(sockets[0], frame)
                sent += 1
            }
            pollOnce(timeoutMs: 50)
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let delivered = parsers.reduce(0) { $0 + $1.frames }
        for socket in sockets { close(socket) }
        let perSecond = Double(delivered) / seconds
        let perConnection = Double(rssAfter - rssBefore) * 1024 / Double(clients)
        let memory = serverPID == nil ? "" : String(format: "; server RSS +%.0f B per connection", perConnection)
        return "bench.fanout  \(clients) clients, \(messages) msgs: \(delivered) deliveries in \(String(format: "%.2f", seconds)) s = "
            + String(format: "%.0f k deliveries/s", perSecond / 1000) + memory
    }

    private func connect(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw BenchError(description: "connect: errno \(errno)") }
        try writeAll(fd, Array("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".utf8))
        // Read the 101 head byte by byte so no frame bytes are swallowed.
        var head: [UInt8] = []
        var byte: UInt8 = 0
        while !(head.count >= 4 && head.suffix(4) == [13, 10, 13, 10]) {
            guard read(fd, &byte, 1) == 1 else { throw BenchError(description: "handshake: connection closed") }
            head.append(byte)
        }
        guard head.starts(with: Array("HTTP/1.1 101".utf8)) else { throw BenchError(description: "handshake refused: \(String(decoding: head, as: UTF8.self))") }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        sockets.append(fd)
        parsers.append(FrameCounter())
        if sockets.count % 100 == 0 { pollOnce(timeoutMs: 0) }
    }

    private func drain(quietFor milliseconds: Int32) {
        while pollOnce(timeoutMs: milliseconds) > 0 {}
    }

    private var buffer = [UInt8](repeating: 0, count: 256 * 1024)
    private var pollSet: [pollfd] = []

    /// Reads whatever is ready on every socket; returns the bytes read.
    @discardableResult
    private func pollOnce(timeoutMs: Int32) -> Int {
        if pollSet.count != sockets.count { pollSet = sockets.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) } }
        guard poll(&pollSet, nfds_t(pollSet.count), timeoutMs) > 0 else { return 0 }
        var total = 0
        for index in pollSet.indices where pollSet[index].revents != 0 {
            while true {
                let count = buffer.withUnsafeMutableBytes { read(pollSet[index].fd, $0.baseAddress, $0.count) }
                guard count > 0 else { break }
                total += count
                buffer.withUnsafeBytes { parsers[index].consume(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            }
        }
        return total
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EAGAIN { pollOnce(timeoutMs: 1); continue }
                throw BenchError(description: "write: errno \(errno)")
            }
            offset += count
        }
    }

    private func readLine(from handle: FileHandle) -> String? {
        var bytes: [UInt8] = []
        while let chunk = try? handle.read(upToCount: 1), let byte = chunk.first {
            if byte == 10 { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
        return nil
    }

    private func residentKiB(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}

/// Counts complete server frames in a byte stream (server frames are never masked).
private struct FrameCounter {
    var frames = 0
    /// Bytes of the current frame's header collected so far, and payload still to skip.
    var header: [UInt8] = []
    var skip = 0

    mutating func consume(_ bytes: UnsafeRawBufferPointer) {
        var index = 0
        while index < bytes.count {
            if skip > 0 {
                let take = min(skip, bytes.count - index)
                skip -= take
                index += take
                if skip == 0 { frames += 1 }
                continue
            }
            header.append(bytes[index])
            index += 1
            guard header.count >= 2 else { continue }
            let short = Int(header[1] & 0x7F)
            let needed = short == 126 ? 4 : short == 127 ? 10 : 2
            guard header.count == needed else { continue }
            var length = short
            if short == 126 { length = Int(header[2]) << 8 | Int(header[3]) }
            if short == 127 { length = header[2...9].reduce(0) { $0 << 8 | Int($1) } }
            header.removeAll(keepingCapacity: true)
            if length == 0 { frames += 1 } else { skip = length }
        }
    }
}
