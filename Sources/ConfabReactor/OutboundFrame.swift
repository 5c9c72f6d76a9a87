/// Bytes handed to `uv_write`, encoded once and shared by every recipient.
///
/// libuv copies the `uv_buf_t` array but not the bytes, so they must stay at a
/// stable address until the write callback: the frame owns raw memory that never
/// moves, and each queued write keeps a reference to the frame.
public final class OutboundFrame {
    public let base: UnsafeMutableRawPointer
    public let count: Int

    public init(_ bytes: [UInt8]) {
        count = bytes.count
        base = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 16)
        bytes.withUnsafeBytes { source in
            if let address = source.baseAddress { base.copyMemory(from: address, byteCount: count) }
        }
    }

    deinit { base.deallocate() }
}
