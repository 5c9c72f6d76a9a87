/// SHA-1 (RFC 3174), only for the RFC 6455 accept value; not for security.
public enum SHA1 {
    public static func hash(_ message: [UInt8]) -> [UInt8] {
        var state = State()
        message.withUnsafeBufferPointer { state.process($0) }
        return state.finish(totalLength: message.count)
    }

    public static func hash(_ message: some Collection<UInt8>) -> [UInt8] {
        hash(Array(message))
    }

    private struct State {
        var h: (UInt32, UInt32, UInt32, UInt32, UInt32) =
            (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
        /// The unfinished last block (< 64 bytes).
        var tail: [UInt8] = []

        mutating func process(_ input: UnsafeBufferPointer<UInt8>) {
            let whole = input.count / 64 * 64
            var offset = 0
            while offset < whole {
                compress(UnsafeBufferPointer(rebasing: input[offset..<offset + 64]))
                offset += 64
            }
            tail = Array(input[whole...])
        }

        /// Padding: 0x80, zeros, then the bit length as a 64-bit big-endian integer.
        mutating func finish(totalLength: Int) -> [UInt8] {
            var last = tail
            last.append(0x80)
            while last.count % 64 != 56 { last.append(0) }
            let bits = UInt64(totalLength) &* 8
            for shift in stride(from: 56, through: 0, by: -8) {
                last.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift)))
            }
            last.withUnsafeBufferPointer { blocks in
                var offset = 0
                while offset < blocks.count {
                    compress(UnsafeBufferPointer(rebasing: blocks[offset..<offset + 64]))
                    offset += 64
                }
            }
            var digest: [UInt8] = []
            digest.reserveCapacity(20)
            for word in [h.0, h.1, h.2, h.3, h.4] {
                for shift in stride(from: 24, through: 0, by: -8) {
                    digest.append(UInt8(truncatingIfNeeded: word >> UInt32(shift)))
                }
            }
            return digest
        }

        mutating func compress(_ block: UnsafeBufferPointer<UInt8>) {
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 80) { w in
                for t in 0..<16 {
                    w[t] = UInt32(block[4 * t]) << 24 | UInt32(block[4 * t + 1]) << 16
                        | UInt32(block[4 * t + 2]) << 8 | UInt32(block[4 * t + 3])
                }
                for t in 16..<80 {
                    w[t] = (w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]).rotatedLeft(1)
                }
                var (a, b, c, d, e) = h
                for t in 0..<80 {
                    let f: UInt32, k: UInt32
                    switch t {
                    case 0..<20: f = (b & c) | (~b & d); k = 0x5A82_7999
                    case 20..<40: f = b ^ c ^ d; k = 0x6ED9_EBA1
                    case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1B_BCDC
                    default: f = b ^ c ^ d; k = 0xCA62_C1D6
                    }
                    let temp = a.rotatedLeft(5) &+ f &+ e &+ k &+ w[t]
                    e = d; d = c; c = b.rotatedLeft(30); b = a; a = temp
                }
                h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e)
            }
        }
    }
}

extension UInt32 {
    @inline(__always)
    func rotatedLeft(_ n: UInt32) -> UInt32 { (self << n) | (self >> (32 - n)) }
}
