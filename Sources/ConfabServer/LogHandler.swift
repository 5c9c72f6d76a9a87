import Foundation
import Logging

/// The level and format every `ConfabLogHandler` of the process logs with, changed in one
/// place when the configuration is reloaded (SIGHUP). Read on every log call, from any
/// thread, hence the lock.
public final class LogControl: @unchecked Sendable {
    private let lock = NSLock()
    private var current: (level: Logger.Level, format: ConfabLogHandler.Format)

    public init(level: Logger.Level, format: ConfabLogHandler.Format) {
        current = (level, format)
    }

    public var level: Logger.Level {
        get { lock.withLock { current.level } }
        set { lock.withLock { current.level = newValue } }
    }

    public var format: ConfabLogHandler.Format {
        get { lock.withLock { current.format } }
        set { lock.withLock { current.format = newValue } }
    }
}

/// One line per record on stderr, as `text` (for people: time, level, message, key=value)
/// or `json` (for machines: one object per line).
public struct ConfabLogHandler: LogHandler {
    public enum Format: String, Sendable { case text, json }

    public var metadata: Logger.Metadata = [:]
    /// From the shared `LogControl`: setting it sets every handler's.
    public var logLevel: Logger.Level {
        get { control.level }
        set { control.level = newValue }
    }
    let label: String
    let control: LogControl

    public init(label: String, control: LogControl) {
        self.label = label
        self.control = control
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level, message = event.message
        var fields = self.metadata
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        if let error = event.error { fields["error"] = "\(error)" }
        let time = Self.timestamp()
        var out: String
        switch control.format {
        case .text:
            out = "\(time) \(level.rawValue.uppercased().padding(toLength: 7, withPad: " ", startingAt: 0)) \(message)"
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
                let text = "\(value)"
                out += " \(key)=" + (text.contains(" ") || text.isEmpty ? Self.quoted(text) : text)
            }
        case .json:
            out = "{\"ts\":\"\(time)\",\"level\":\"\(level.rawValue)\",\"logger\":\(Self.quoted(label)),\"msg\":\(Self.quoted("\(message)"))"
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
                out += ",\(Self.quoted(key)):\(Self.quoted("\(value)"))"
            }
            out += "}"
        }
        out += "\n"
        FileHandle.standardError.write(Data(out.utf8))
    }

    static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func timestamp() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var time = tm()
        var seconds = spec.tv_sec
        gmtime_r(&seconds, &time)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", time.tm_year + 1900, time.tm_mon + 1, time.tm_mday,
                      time.tm_hour, time.tm_min, time.tm_sec, Int(spec.tv_nsec / 1_000_000))
    }
}
