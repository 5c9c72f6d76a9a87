/// What a `WebSocketReader` does with input after a protocol error: it discards it, but
/// still follows the frame structure where it can, so it notices the peer's close frame
/// (the answer to ours) and the closing side knows when the handshake is complete.
///
/// Only lengths are read: no rule is checked, no payload is stored or unmasked. When the
/// structure is lost (a 64-bit length with its top bit set), everything is discarded
/// until the end of the stream.
struct FrameSkipper: Sendable, Equatable {
    enum Step: Sendable, Equatable {
        /// At a frame boundary: the next byte starts a header.
        case frameStart
        case secondByte(first: UInt8)
        /// Reading a 16- or 64-bit length; the mask key (if any) follows.
        case extendedLength(isClose: Bool, masked: Bool, missing: UInt8, value: UInt64)
        /// Mask key and payload bytes still to skip.
        case body(isClose: Bool, remaining: UInt64)
        /// The peer's close frame has gone by: nothing more is expected from it.
        case peerClosed
        /// The framing cannot be followed any more.
        case lost
    }

    private(set) var step: Step
    /// Every byte handed to `skip` so far.
    private(set) var discarded = 0

    init(_ step: Step) {
        self.step = step
    }

    /// The state after reading a frame's first two bytes.
    static func after(first: UInt8, second: UInt8) -> Step {
        let isClose = first & 0x0F == WebSocketOpcode.close.rawValue
        let masked = second & 0x80 != 0
        switch second & 0x7F {
        case 126: return .extendedLength(isClose: isClose, masked: masked, missing: 2, value: 0)
        case 127: return .extendedLength(isClose: isClose, masked: masked, missing: 8, value: 0)
        case let length7: return body(isClose: isClose, masked: masked, length: UInt64(length7))
        }
    }

    /// The state once a frame's length is known, with its mask key (if any) not yet read.
    static func body(isClose: Bool, masked: Bool, length: UInt64) -> Step {
        guard length & (1 << 63) == 0 else { return .lost }
        let remaining = length + (masked ? 4 : 0)
        if remaining == 0 { return isClose ? .peerClosed : .frameStart }
        return .body(isClose: isClose, remaining: remaining)
    }

    var peerClosed: Bool { step == .peerClosed }

    /// Discards `bytes`, following frame boundaries.
    mutating func skip(_ bytes: UnsafeRawBufferPointer) {
        discarded += bytes.count
        var i = 0
        let n = bytes.count
        while i < n {
            switch step {
            case .peerClosed, .lost:
                return
            case .frameStart:
                step = .secondByte(first: bytes[i])
                i += 1
            case .secondByte(let first):
                step = Self.after(first: first, second: bytes[i])
                i += 1
            case .extendedLength(let isClose, let masked, var missing, var value):
                while missing > 0, i < n {
                    value = value << 8 | UInt64(bytes[i])
                    i += 1
                    missing -= 1
                }
                step = missing > 0
                    ? .extendedLength(isClose: isClose, masked: masked, missing: missing, value: value)
                    : Self.body(isClose: isClose, masked: masked, length: value)
            case .body(let isClose, let remaining):
                let take = min(remaining, UInt64(n - i))
                i += Int(take)
                if take < remaining {
                    step = .body(isClose: isClose, remaining: remaining - take)
                } else {
                    step = isClose ? .peerClosed : .frameStart
                }
            }
        }
    }
}
