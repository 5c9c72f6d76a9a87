/// RFC 6455 §5.3 masking. Keys are packed with wire byte i at bits 8·i, so a
/// UInt64 made of two copies XORs 8 payload bytes per step on any endianness.
enum Masking {
    /// The key as it must be applied starting `offset` bytes into the payload.
    @inline(__always)
    static func rotated(_ key: UInt32, by offset: Int) -> UInt32 {
        let shift = UInt32(offset & 3) * 8
        return shift == 0 ? key : (key >> shift) | (key << (32 - shift))
    }

    /// Writes `src[k] ^ key[(offset + k) % 4]` to `dst[k]`; `src == dst` is allowed.
    static func apply(
        key: UInt32, offset: Int,
        from src: UnsafeRawPointer, to dst: UnsafeMutableRawPointer, count: Int
    ) {
        let k = rotated(key, by: offset)
        let word = UInt64(littleEndian: UInt64(k) | UInt64(k) << 32)
        var i = 0
        while i + 8 <= count {
            let v = src.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            dst.storeBytes(of: v ^ word, toByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < count {
            let b = src.load(fromByteOffset: i, as: UInt8.self)
            dst.storeBytes(of: b ^ UInt8(truncatingIfNeeded: k >> (UInt32(i & 3) * 8)), toByteOffset: i, as: UInt8.self)
            i += 1
        }
    }

    /// Packs the wire key given as a big-endian UInt32 (`0x37fa213d` for
    /// bytes 37 fa 21 3d).
    @inline(__always)
    static func packed(wireOrder key: UInt32) -> UInt32 { key.byteSwapped }
}
