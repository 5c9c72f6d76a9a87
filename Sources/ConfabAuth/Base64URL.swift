import ConfabCodec

/// Base64url without padding (RFC 7515 §2, RFC 4648 §5), as JWT segments are written.
enum Base64URL {
    /// Strict: only the URL-safe alphabet, no `=`, and canonical (the unused low bits of the
    /// last character zero), so one byte string has exactly one spelling. nil otherwise.
    static func decode(_ text: Substring) -> [UInt8]? {
        var standard: [UInt8] = []
        standard.reserveCapacity(text.utf8.count + 3)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"):
                standard.append(byte)
            case UInt8(ascii: "-"): standard.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_"): standard.append(UInt8(ascii: "/"))
            default: return nil
            }
        }
        let remainder = standard.count % 4
        guard remainder != 1 else { return nil }
        if remainder > 0 { standard += Array(repeating: UInt8(ascii: "="), count: 4 - remainder) }
        let padded = String(decoding: standard, as: UTF8.self)
        guard let bytes = Base64.decode(padded), Base64.encode(bytes) == padded else { return nil }
        return bytes
    }
}
