import Foundation
import Logging

/// One line per record on stderr, as `text` (for people: time, level, message, key=value)
/// or `json` (for machines: one object per line).
public struct ConfabLogHandler: LogHandler {
    public enum Format: String, Sendable { case text, json }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let format: Format

    public init(label: String, level: Logger.Level, format: Format) {
        self.label = label
        self.logLevel = level
        self.format = format
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
        switch format {
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
