/// Bytes handed to `uv_write`, encoded once and shared by every recipient.
///
/// libuv copies the `uv_buf_t` array but not the bytes, so they must stay at a
/// stable address until the write callback: the frame owns raw memory that never
/// moves, and each queued write keeps a reference to the frame.
public final class OutboundFrame {
    public let base: UnsafeMutableRawPointer
    public let count: Int

    public convenience init(_ bytes: [UInt8]) {
        self.init(header: [], payload: bytes)
    }

    /// A frame header and its payload in one buffer, copied once, so a broadcast needs
    /// no intermediate array.
    public init(header: [UInt8], payload: [UInt8]) {
        count = header.count + payload.count
        base = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 16)
        header.withUnsafeBytes { source in
            if let address = source.baseAddress { base.copyMemory(from: address, byteCount: header.count) }
        }
        payload.withUnsafeBytes { source in
            if let address = source.baseAddress { (base + header.count).copyMemory(from: address, byteCount: payload.count) }
        }
    }

    deinit { base.deallocate() }
}
