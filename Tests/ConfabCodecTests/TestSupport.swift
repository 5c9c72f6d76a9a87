@testable import ConfabCodec

/// Bytes from a hex string such as "81 05 48 65".
func hex(_ text: String) -> [UInt8] {
    text.split(separator: " ").compactMap { UInt8($0, radix: 16) }
}

let unmaskedLimits = WebSocketLimits(requireMaskedFrames: false)
let testMask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]

/// A raw frame built byte by byte, independent of FrameEncoder, so tests can
/// also build illegal frames (reserved bits and opcodes, wrong lengths).
func rawFrame(
    opcode: UInt8, payload: [UInt8], fin: Bool = true, rsv: UInt8 = 0,
    mask: [UInt8]? = testMask, lengthOverride: UInt64? = nil
) -> [UInt8] {
    var out: [UInt8] = [(fin ? 0x80 : 0) | rsv << 4 | opcode]
    let maskBit: UInt8 = mask == nil ? 0 : 0x80
    let length = lengthOverride ?? UInt64(payload.count)
    if length < 126 {
        out.append(maskBit | UInt8(length))
    } else if length <= 0xFFFF {
        out.append(maskBit | 126)
        out += [UInt8(length >> 8), UInt8(length & 0xFF)]
    } else {
        out.append(maskBit | 127)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8((length >> UInt64(shift)) & 0xFF)) }
    }
    if let mask {
        out += mask
        out += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
    } else {
        out += payload
    }
    return out
}

func maskedText(_ text: String, fin: Bool = true, continuation: Bool = false) -> [UInt8] {
    rawFrame(opcode: continuation ? 0 : 1, payload: Array(text.utf8), fin: fin)
}

struct Decoded {
    var messages: [WebSocketMessage] = []
    var error: WebSocketProtocolError?
    /// How many feed calls were made before the error (or all of them).
    var feeds = 0
}

/// Feeds `chunks` in order into one reader, stopping at the first error.
func decode(_ chunks: [[UInt8]], limits: WebSocketLimits = WebSocketLimits()) -> Decoded {
    var reader = WebSocketReader(limits: limits)
    var result = Decoded()
    for chunk in chunks {
        result.feeds += 1
        let error = chunk.withUnsafeBytes { reader.feed($0) { result.messages.append($0) } }
        if let error {
            result.error = error
            break
        }
    }
    return result
}

func decode(_ bytes: [UInt8], limits: WebSocketLimits = WebSocketLimits()) -> Decoded {
    decode([bytes], limits: limits)
}

/// Every split of `bytes` into two reads, plus one byte per read.
func allSplits(_ bytes: [UInt8]) -> [[[UInt8]]] {
    var splits = (0...bytes.count).map { [Array(bytes[..<$0]), Array(bytes[$0...])] }
    splits.append(bytes.map { [$0] })
    return splits
}

func parse(_ text: String, maxHeaderBytes: Int = 8192) -> HTTPParseResult {
    var parser = HTTPRequestParser(maxHeaderBytes: maxHeaderBytes)
    return Array(text.utf8).withUnsafeBytes { parser.parse($0) }
}

func request(_ text: String) -> HTTPRequest? {
    if case .request(let r, _) = parse(text) { return r }
    return nil
}

func parseError(_ text: String, maxHeaderBytes: Int = 8192) -> HTTPParseError? {
    if case .failure(let e) = parse(text, maxHeaderBytes: maxHeaderBytes) { return e }
    return nil
}
