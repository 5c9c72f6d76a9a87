/// Builds outbound frames. A server frame is header + payload in one
/// exactly-sized array, so a broadcast encodes once and shares the bytes.
public enum FrameEncoder {
    /// Bytes of header for a payload of `payloadLength` (2, 4 or 10, plus 4 when masked).
    public static func headerLength(payloadLength: Int, masked: Bool = false) -> Int {
        let base = payloadLength < 126 ? 2 : payloadLength <= 0xFFFF ? 4 : 10
        return masked ? base + 4 : base
    }

    /// Just the header of an unmasked frame: the reactor copies it and the shared payload
    /// into one buffer per broadcast (`OutboundFrame`), encoded once for every recipient.
    public static func header(opcode: WebSocketOpcode, payloadLength: Int, fin: Bool = true) -> [UInt8] {
        withUnsafeTemporaryAllocation(byteCount: 14, alignment: 1) { header in
            guard let base = header.baseAddress else { return [] }
            let n = writeHeader(base, opcode: opcode, fin: fin, length: payloadLength, mask: nil)
            return [UInt8](UnsafeRawBufferPointer(start: base, count: n))
        }
    }

    /// A complete frame. `mask` is the masking key in wire order as a
    /// big-endian UInt32 (`0x37fa213d` for bytes 37 fa 21 3d); clients must
    /// mask, servers must not.
    public static func encode(
        opcode: WebSocketOpcode, payload: [UInt8], fin: Bool = true, mask: UInt32? = nil
    ) -> [UInt8] {
        let headerBytes = headerLength(payloadLength: payload.count, masked: mask != nil)
        // reserve + append measured faster than Array(unsafeUninitializedCapacity:)
        // for small frames (no generic metadata lookup per call).
        var out: [UInt8] = []
        out.reserveCapacity(headerBytes + payload.count)
        withUnsafeTemporaryAllocation(byteCount: 14, alignment: 1) { header in
            guard let base = header.baseAddress else { return }
            let n = writeHeader(base, opcode: opcode, fin: fin, length: payload.count, mask: mask)
            out.append(contentsOf: UnsafeRawBufferPointer(start: base, count: n))
        }
        out.append(contentsOf: payload)
        if let mask {
            out.withUnsafeMutableBytes { p in
                guard let base = p.baseAddress else { return }
                Masking.apply(key: Masking.packed(wireOrder: mask), offset: 0,
                              from: UnsafeRawPointer(base + headerBytes), to: base + headerBytes, count: payload.count)
            }
        }
        return out
    }

    /// The broadcast fast path: one unmasked final text frame.
    @inline(__always)
    public static func serverText(_ payload: [UInt8]) -> [UInt8] {
        encode(opcode: .text, payload: payload)
    }

    /// A close frame; nil `code` sends an empty payload. The reason is cut to
    /// 123 bytes on a scalar boundary so the frame stays a legal control frame.
    public static func closeFrame(code: UInt16?, reason: String = "", mask: UInt32? = nil) -> [UInt8] {
        guard let code else { return encode(opcode: .close, payload: [], mask: mask) }
        var payload: [UInt8] = [UInt8(truncatingIfNeeded: code >> 8), UInt8(truncatingIfNeeded: code)]
        for scalar in reason.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if payload.count + bytes.count > 125 { break }
            payload += bytes
        }
        return encode(opcode: .close, payload: payload, mask: mask)
    }

    /// Control payloads are capped at 125 bytes (RFC 6455 §5.5); longer input is cut.
    public static func ping(payload: [UInt8] = [], mask: UInt32? = nil) -> [UInt8] {
        encode(opcode: .ping, payload: Array(payload.prefix(125)), mask: mask)
    }

    public static func pong(payload: [UInt8] = [], mask: UInt32? = nil) -> [UInt8] {
        encode(opcode: .pong, payload: Array(payload.prefix(125)), mask: mask)
    }

    /// Returns the header length written.
    @inline(__always)
    static func writeHeader(
        _ p: UnsafeMutableRawPointer, opcode: WebSocketOpcode, fin: Bool, length: Int, mask: UInt32?
    ) -> Int {
        p.storeBytes(of: (fin ? 0x80 : 0) | opcode.rawValue, as: UInt8.self)
        let maskBit: UInt8 = mask == nil ? 0 : 0x80
        var n: Int
        if length < 126 {
            p.storeBytes(of: maskBit | UInt8(length), toByteOffset: 1, as: UInt8.self)
            n = 2
        } else if length <= 0xFFFF {
            p.storeBytes(of: maskBit | 126, toByteOffset: 1, as: UInt8.self)
            p.storeBytes(of: UInt16(length).bigEndian, toByteOffset: 2, as: UInt16.self)
            n = 4
        } else {
            p.storeBytes(of: maskBit | 127, toByteOffset: 1, as: UInt8.self)
            p.storeBytes(of: UInt64(length).bigEndian, toByteOffset: 2, as: UInt64.self)
            n = 10
        }
        if let mask {
            p.storeBytes(of: mask.bigEndian, toByteOffset: n, as: UInt32.self)
            n += 4
        }
        return n
    }
}
