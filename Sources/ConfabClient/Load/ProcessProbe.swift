import Glibc

/// Another process's CPU time and resident memory at one moment, from Linux /proc (the
/// server, when the load runs on the same machine).
public struct ProcessSample: Sendable, Equatable {
    /// VmRSS, KiB.
    public var rssKiB: Int
    /// User + system CPU so far, seconds.
    public var cpuSeconds: Double
    /// When it was read, microseconds of the monotonic clock.
    public var atMicros: UInt64

    public init(rssKiB: Int, cpuSeconds: Double, atMicros: UInt64) {
        self.rssKiB = rssKiB
        self.cpuSeconds = cpuSeconds
        self.atMicros = atMicros
    }
}

public enum ProcessProbe {
    /// nil when the process is gone or /proc cannot be read.
    public static func sample(pid: Int32, now: UInt64 = monotonicMicros()) -> ProcessSample? {
        guard let status = readSmallFile("/proc/\(pid)/status"), let rss = rssKiB(status: status),
              let stat = readSmallFile("/proc/\(pid)/stat"), let ticks = cpuTicks(stat: stat) else { return nil }
        let hz = max(1, sysconf(Int32(_SC_CLK_TCK)))
        return ProcessSample(rssKiB: rss, cpuSeconds: Double(ticks) / Double(hz), atMicros: now)
    }

    /// The `VmRSS:\t    1234 kB` line of /proc/PID/status.
    static func rssKiB(status: String) -> Int? {
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) }
        }
        return nil
    }

    /// utime + stime (fields 14 and 15) of /proc/PID/stat, in clock ticks. The command name
    /// (field 2) is in parentheses and may hold spaces, so fields are counted after the last `)`.
    static func cpuTicks(stat: String) -> Int? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state): utime is field 14, stime field 15.
        guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        return user + system
    }

    /// /proc files report size 0, so read until end of file.
    static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The server's figures over a load run, when `--server-pid` was given.
public struct ServerFigures: Sendable, Equatable {
    public var pid: Int32
    public var start: ProcessSample
    /// When every client was connected (or given up).
    public var connected: ProcessSample?
    /// When the deliveries were all in, or the drain wait was over.
    public var drained: ProcessSample?
    /// Highest VmRSS seen (sampled every 100 ms and at each phase).
    public var peakRSSKiB: Int

    public init(pid: Int32, start: ProcessSample, connected: ProcessSample? = nil, drained: ProcessSample? = nil,
                peakRSSKiB: Int? = nil) {
        self.pid = pid
        self.start = start
        self.connected = connected
        self.drained = drained
        self.peakRSSKiB = max(peakRSSKiB ?? 0, start.rssKiB, connected?.rssKiB ?? 0, drained?.rssKiB ?? 0)
    }

    /// (VmRSS when connected − before) / connections, KiB.
    public func rssGrowthPerConnectionKiB(connections: Int) -> Double? {
        guard let connected, connections > 0 else { return nil }
        return Double(connected.rssKiB - start.rssKiB) / Double(connections)
    }
}
