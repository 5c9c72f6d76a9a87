/// An IPv4 or IPv6 address, held as 128 bits: IPv4 as its IPv4-mapped IPv6 form
/// (`::ffff:a.b.c.d`), so a dual-stack listener's `::ffff:10.0.0.1` and a configured
/// `10.0.0.1` are the same address and one comparison serves both families.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (`::` compression, a trailing IPv4
    /// part). No zone ids, no brackets, no ports, no leading zeros in IPv4 octets (they
    /// read as octal to some tools).
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 45 else { return nil }
        if !bytes.contains(UInt8(ascii: ":")) {
            guard let v4 = Self.parseIPv4(bytes[...]) else { return nil }
            (high, low) = (0, 0xFFFF_0000_0000 | UInt64(v4))
        } else {
            guard let words = Self.parseIPv6(bytes) else { return nil }
            (high, low) = Self.pack(words)
        }
    }

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// An IPv4 address (possibly IPv4-mapped).
    public var isIPv4: Bool { high == 0 && low >> 32 == 0xFFFF }

    /// `1.2.3.4` for IPv4 (mapped ones too), else compressed IPv6 (`2001:db8::1`).
    public var description: String {
        if isIPv4 {
            return (0..<4).map { String((low >> (24 - 8 * UInt64($0))) & 0xFF) }.joined(separator: ".")
        }
        let words = (0..<8).map { i -> UInt16 in
            let half = i < 4 ? high : low
            return UInt16(truncatingIfNeeded: half >> (48 - 16 * UInt64(i % 4)))
        }
        // The longest run of two or more zero words becomes "::" (RFC 5952).
        var best: Range<Int>? = nil
        var i = 0
        while i < 8 {
            guard words[i] == 0 else { i += 1; continue }
            var j = i
            while j < 8, words[j] == 0 { j += 1 }
            if j - i >= 2, j - i > (best?.count ?? 0) { best = i..<j }
            i = j
        }
        func hex(_ range: Range<Int>) -> String {
            words[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        guard let best else { return hex(0..<8) }
        return hex(0..<best.lowerBound) + "::" + hex(best.upperBound..<8)
    }

    private static func pack(_ words: [UInt16]) -> (UInt64, UInt64) {
        var high: UInt64 = 0, low: UInt64 = 0
        for (i, word) in words.enumerated() {
            if i < 4 { high = high << 16 | UInt64(word) } else { low = low << 16 | UInt64(word) }
        }
        return (high, low)
    }

    private static func parseIPv4(_ text: ArraySlice<UInt8>) -> UInt32? {
        let parts = text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ (48...57).contains($0) }),
                  part.count == 1 || part.first != UInt8(ascii: "0") else { return nil }
            let octet = part.reduce(0) { $0 * 10 + UInt32($1 - 48) }
            guard octet <= 255 else { return nil }
            value = value << 8 | octet
        }
        return value
    }

    private static func parseIPv6(_ text: [UInt8]) -> [UInt16]? {
        var head: [UInt16] = [], tail: [UInt16] = []
        var sawGap = false
        let colon = UInt8(ascii: ":")
        // A colon at either end must be half of a "::".
        if text.first == colon, text.dropFirst().first != colon { return nil }
        if text.last == colon, text.dropLast().last != colon { return nil }
        // "::" may stand at either end; split on it once.
        var parts = text.split(separator: colon, omittingEmptySubsequences: false)
        if parts.first?.isEmpty == true, parts.count > 1, parts[1].isEmpty { parts.removeFirst() }
        if parts.last?.isEmpty == true, parts.count > 1, parts[parts.count - 2].isEmpty { parts.removeLast() }
        for (index, part) in parts.enumerated() {
            if part.isEmpty {
                guard !sawGap else { return nil }
                sawGap = true
                continue
            }
            if index == parts.count - 1, part.contains(UInt8(ascii: ".")) {
                guard let v4 = parseIPv4(part) else { return nil }
                let words = [UInt16(v4 >> 16), UInt16(v4 & 0xFFFF)]
                if sawGap { tail += words } else { head += words }
                continue
            }
            guard part.count <= 4, part.allSatisfy(isHexDigit),
                  let word = UInt16(String(decoding: part, as: UTF8.self), radix: 16) else { return nil }
            if sawGap { tail.append(word) } else { head.append(word) }
        }
        let count = head.count + tail.count
        if sawGap {
            guard count <= 7 else { return nil }
            return head + Array(repeating: 0, count: 8 - count) + tail
        }
        return count == 8 ? head : nil
    }
}

/// An address or a network in CIDR notation (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1`), as
/// `server.trustedProxies` lists them.
public struct IPNetwork: Sendable, Equatable, CustomStringConvertible {
    public let address: IPAddress
    /// In the 128-bit space (an IPv4 /24 is 96 + 24).
    let prefixLength: Int
    /// As configured, for messages and `--help`.
    public let description: String

    public init?(_ text: String) {
        let pieces = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(pieces[0])) else { return nil }
        let width = address.isIPv4 ? 32 : 128
        var prefix = width
        if pieces.count == 2 {
            guard (1...3).contains(pieces[1].count), pieces[1].allSatisfy({ $0.isASCII && $0.isNumber }),
                  let bits = Int(pieces[1]), (0...width).contains(bits) else { return nil }
            prefix = bits
        }
        self.prefixLength = prefix + (128 - width)
        self.address = Self.masked(address, prefixLength)
        self.description = text
    }

    public func contains(_ candidate: IPAddress) -> Bool {
        Self.masked(candidate, prefixLength) == address
    }

    private static func masked(_ address: IPAddress, _ bits: Int) -> IPAddress {
        func mask(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? .max : ~(UInt64.max >> UInt64(bits)) }
        return IPAddress(high: address.high & mask(bits), low: address.low & mask(bits - 64))
    }
}

private func isHexDigit(_ byte: UInt8) -> Bool {
    (48...57).contains(byte) || (65...70).contains(byte) || (97...102).contains(byte)
}
