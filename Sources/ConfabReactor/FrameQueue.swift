/// A connection's frames waiting for the next flush, in order. The usual turn queues one
/// frame (one broadcast), kept inline: that costs no allocation on the fan-out path, and an
/// idle connection holds no buffer at all. More frames in one turn spill into an array that
/// is freed when they are written.
struct FrameQueue: RandomAccessCollection {
    private var head: OutboundFrame?
    private var tail: [OutboundFrame] = []

    var startIndex: Int { 0 }
    var endIndex: Int { head == nil ? 0 : 1 + tail.count }

    subscript(position: Int) -> OutboundFrame {
        // Indices are 0..<count, and `head` is set whenever count > 0.
        position == 0 ? head.unsafelyUnwrapped : tail[position - 1]
    }

    mutating func append(_ frame: OutboundFrame) {
        if head == nil { head = frame } else { tail.append(frame) }
    }

    mutating func removeAll() {
        head = nil
        tail = []
    }
}
