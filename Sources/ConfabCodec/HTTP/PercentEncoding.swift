public enum PercentEncoding {
    /// Decodes `%XX` escapes (and `+` as space when asked, for query strings).
    /// Returns nil for a malformed escape, a NUL byte (literal or `%00`) or
    /// bytes that are not valid UTF-8: callers answer 400 rather than guess.
    public static func decode(_ string: some StringProtocol, plusAsSpace: Bool = false) -> String? {
        let utf8 = string.utf8
        // Fast path: nothing to decode.
        if !utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) || $0 == 0 }) {
            return String(string)
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var it = utf8.makeIterator()
        while let b = it.next() {
            switch b {
            case UInt8(ascii: "%"):
                guard let h = it.next(), let l = it.next(),
                      let hi = hexValue(h), let lo = hexValue(l) else { return nil }
                let v = hi << 4 | lo
                if v == 0 { return nil }
                out.append(v)
            case UInt8(ascii: "+") where plusAsSpace:
                out.append(UInt8(ascii: " "))
            case 0:
                return nil
            default:
                out.append(b)
            }
        }
        var validator = UTF8Validator()
        let valid = out.withUnsafeBufferPointer { validator.validate($0) } && validator.isComplete
        return valid ? String(decoding: out, as: UTF8.self) : nil
    }

    @inline(__always)
    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
