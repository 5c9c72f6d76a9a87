/// The text of a load message: `ld1 M SENDUS SENDER N xxxx…`: whether it is measured (1) or
/// warm-up (0), its send time in microseconds of the monotonic clock, the sender's global
/// index and its per-sender number (sender + number is the unique id), padded to `size`.
/// Plain ASCII, so it travels unescaped in JSON and is found again with a byte scan.
public enum LoadMessage {
    public struct Stamp: Sendable, Equatable {
        public var measured: Bool
        public var sentMicros: UInt64
        public var sender: Int
        public var number: Int
        public init(measured: Bool, sentMicros: UInt64, sender: Int, number: Int) {
            self.measured = measured
            self.sentMicros = sentMicros
            self.sender = sender
            self.number = number
        }
    }

    public static func text(_ stamp: Stamp, size: Int) -> String {
        var text = "ld1 \(stamp.measured ? 1 : 0) \(stamp.sentMicros) \(stamp.sender) \(stamp.number) "
        if text.utf8.count < size { text += String(repeating: "x", count: size - text.utf8.count) }
        return text
    }

    static let textKey = Array("\"text\":\"ld1 ".utf8)
    static let messagePrefix = Array("{\"type\":\"message\"".utf8)
    /// A bare relay (`--relay`) hands back the client's own `send` request as it was sent.
    static let relayedPrefix = Array("{\"type\":\"send\"".utf8)

    /// The stamp of a server `message` frame (or a relayed `send` request) carrying a load
    /// text; nil for anything else.
    public static func stamp(inMessageFrame json: [UInt8]) -> Stamp? {
        json.withUnsafeBufferPointer { bytes -> Stamp? in
            func starts(with prefix: [UInt8]) -> Bool {
                guard bytes.count > prefix.count else { return false }
                for index in 0..<prefix.count where bytes[index] != prefix[index] { return false }
                return true
            }
            let headerEnd: Int
            if starts(with: messagePrefix) { headerEnd = messagePrefix.count }
            else if starts(with: relayedPrefix) { headerEnd = relayedPrefix.count }
            else { return nil }
            guard let start = find(textKey, in: bytes, from: headerEnd) else { return nil }
            var position = start + textKey.count
            func number() -> UInt64? {
                var value: UInt64 = 0
                var digits = 0
                while position < bytes.count, bytes[position] >= 48, bytes[position] <= 57 {
                    value = value &* 10 &+ UInt64(bytes[position] - 48)
                    position += 1
                    digits += 1
                }
                guard digits > 0, digits < 20 else { return nil }
                if position < bytes.count, bytes[position] == 32 { position += 1 }
                return value
            }
            guard let measured = number(), let sent = number(), let sender = number(), let n = number() else { return nil }
            return Stamp(measured: measured == 1, sentMicros: sent, sender: Int(sender), number: Int(n))
        }
    }

    static func find(_ needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        let first = needle[0]
        var index = from
        let last = bytes.count - needle.count
        outer: while index <= last {
            if bytes[index] == first {
                for offset in 1..<needle.count where bytes[index + offset] != needle[offset] {
                    index += 1
                    continue outer
                }
                return index
            }
            index += 1
        }
        return nil
    }
}
