/// Incremental UTF-8 validator (RFC 3629): feed chunks as they arrive; it
/// fails on the first byte that cannot start or continue a valid sequence,
/// so a bad message is refused before its end. Rejects overlong forms,
/// surrogates (U+D800–DFFF) and anything above U+10FFFF.
public struct UTF8Validator: Sendable, Equatable {
    /// Continuation bytes still expected for the current scalar.
    private var pending: UInt8 = 0
    /// Allowed range of the next continuation byte; narrower than 80–BF only
    /// right after E0, ED, F0 and F4, which is how overlongs, surrogates and
    /// > U+10FFFF are excluded.
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    public init() {}

    /// True when no multi-byte sequence is left open: check at message end.
    public var isComplete: Bool { pending == 0 }

    public mutating func validate(_ bytes: UnsafeRawBufferPointer) -> Bool {
        validate(bytes.assumingMemoryBound(to: UInt8.self))
    }

    public mutating func validate(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let n = bytes.count
        var i = 0
        while i < n {
            if pending == 0 {
                // ASCII runs are the common case in chat: 8 bytes per step.
                while i + 8 <= n,
                      UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                    i += 8
                }
                guard i < n else { return true }
                let b = base[i]
                i += 1
                switch b {
                case 0x00...0x7F: continue
                case 0xC2...0xDF: pending = 1
                case 0xE0: pending = 2; lower = 0xA0
                case 0xE1...0xEC, 0xEE...0xEF: pending = 2
                case 0xED: pending = 2; upper = 0x9F
                case 0xF0: pending = 3; lower = 0x90
                case 0xF1...0xF3: pending = 3
                case 0xF4: pending = 3; upper = 0x8F
                default: return false
                }
            } else {
                let b = base[i]
                guard b >= lower, b <= upper else { return false }
                i += 1
                pending -= 1
                lower = 0x80
                upper = 0xBF
            }
        }
        return true
    }

    /// Validates one complete byte sequence.
    public static func isValid(_ bytes: some Collection<UInt8>) -> Bool {
        var v = UTF8Validator()
        let ok = bytes.withContiguousStorageIfAvailable { v.validate($0) } ?? Array(bytes).withUnsafeBufferPointer { v.validate($0) }
        return ok && v.isComplete
    }
}
