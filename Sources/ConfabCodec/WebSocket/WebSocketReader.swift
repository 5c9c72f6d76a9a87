/// Per-connection inbound WebSocket side: frames in, messages out.
///
/// Every byte is looked at once. A header split across reads is kept in the
/// state enum, never re-parsed; all limits are checked on the header, before a
/// payload byte is stored. A frame that arrives whole is unmasked straight from
/// the read buffer into the message array (its one copy). Idle, the reader
/// holds two empty arrays and a few words.
public struct WebSocketReader: Sendable {
    public let limits: WebSocketLimits

    /// The first two header bytes, decoded and checked.
    struct FrameStart: Sendable {
        var fin: Bool
        var opcode: WebSocketOpcode
        var masked: Bool
        var length7: UInt8
    }

    struct FrameHeader: Sendable {
        var fin: Bool
        var opcode: WebSocketOpcode
        var length: Int
        /// Packed as in `Masking`; nil for an unmasked frame.
        var maskKey: UInt32?
    }

    enum State: Sendable {
        case waitingForHeader
        case waitingForSecondByte(first: UInt8)
        case waitingForExtendedLength(FrameStart, missing: Int, value: UInt64)
        case waitingForMask(FrameHeader, missing: Int, key: UInt32)
        case waitingForPayload(FrameHeader, remaining: Int)
        /// A close frame was delivered; nothing after it is read (RFC 6455 §5.5.1).
        case closed
        /// The stream broke a rule: what follows is discarded, frame by frame where the
        /// framing can still be followed, so the peer's close frame is noticed.
        case failed(WebSocketProtocolError, FrameSkipper)
    }

    private var state: State = .waitingForHeader
    /// Opcode of the message being reassembled (text or binary), if any.
    private var messageOpcode: WebSocketOpcode?
    private var fragments = 0
    private var message: [UInt8] = []
    /// A control frame split across reads (at most 125 bytes).
    private var control: [UInt8] = []
    private var utf8 = UTF8Validator()

    /// Growth beyond this comes from appends as bytes really arrive, so a
    /// header claiming 16 MiB does not reserve 16 MiB up front.
    private static let maxReserve = 64 * 1024

    public init(limits: WebSocketLimits = WebSocketLimits()) {
        self.limits = limits
    }

    /// Payload bytes held for unfinished frames and messages (for metrics
    /// and memory accounting).
    public var bufferedBytes: Int { message.count + control.count }

    /// True once a close frame has been delivered.
    public var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// After a violation: whether the peer's close frame has since gone by (it answered
    /// ours), as far as the framing could be followed. Nothing after it is expected.
    public var peerClosedAfterError: Bool {
        if case .failed(_, let skipper) = state { return skipper.peerClosed }
        return false
    }

    /// After a violation: the bytes discarded since (the rest of the read that broke the
    /// rule included), for the caller's budget.
    public var discardedBytes: Int {
        if case .failed(_, let skipper) = state { return skipper.discarded }
        return 0
    }

    /// Decodes every complete frame in `bytes` and delivers messages in order.
    /// Returns the first violation. After it all further input is discarded (the same
    /// error is returned again; see `peerClosedAfterError`, `discardedBytes`); after a
    /// close frame, ignored.
    public mutating func feed(
        _ bytes: UnsafeRawBufferPointer, _ deliver: (WebSocketMessage) -> Void
    ) -> WebSocketProtocolError? {
        let n = bytes.count
        var i = 0
        // Where the framing resumes after a violation found here (see `fail`).
        var resume: FrameSkipper.Step
        var error: WebSocketProtocolError
        decoding: while true {
            switch state {
            case .failed(let error, var skipper):
                skipper.skip(UnsafeRawBufferPointer(rebasing: bytes[i...]))
                state = .failed(error, skipper)
                return error
            case .closed:
                return nil

            case .waitingForHeader:
                guard i < n else { return nil }
                let before = i
                if n - i >= 2, let failure = parseWholeHeader(bytes, &i, deliver) {
                    // Either the header broke a rule (nothing consumed: skip the frame from
                    // its start) or a payload-less frame did (consumed whole).
                    (error, resume) = (failure, .frameStart)
                    break decoding
                }
                if i == before {
                    // The header is cut by the end of this read: go byte-wise.
                    state = .waitingForSecondByte(first: bytes[i])
                    i += 1
                }

            case .waitingForSecondByte(let first):
                guard i < n else { return nil }
                let second = bytes[i]
                i += 1
                switch frameStart(first, second) {
                case .failure(let failure):
                    (error, resume) = (failure, FrameSkipper.after(first: first, second: second))
                    break decoding
                case .success(let start):
                    if start.length7 >= 126 {
                        state = .waitingForExtendedLength(start, missing: start.length7 == 126 ? 2 : 8, value: 0)
                    } else if let failure = lengthKnown(start, UInt64(start.length7), deliver) {
                        (error, resume) = (failure, FrameSkipper.after(first: first, second: second))
                        break decoding
                    }
                }

            case .waitingForExtendedLength(let start, var missing, var value):
                while missing > 0, i < n {
                    value = value << 8 | UInt64(bytes[i])
                    i += 1
                    missing -= 1
                }
                if missing > 0 {
                    state = .waitingForExtendedLength(start, missing: missing, value: value)
                    return nil
                }
                if let failure = lengthKnown(start, value, deliver) {
                    let isClose = start.opcode == .close
                    (error, resume) = (failure, FrameSkipper.body(isClose: isClose, masked: start.masked, length: value))
                    break decoding
                }

            case .waitingForMask(var header, var missing, var key):
                while missing > 0, i < n {
                    key |= UInt32(bytes[i]) << (UInt32(4 - missing) * 8)
                    i += 1
                    missing -= 1
                }
                if missing > 0 {
                    state = .waitingForMask(header, missing: missing, key: key)
                    return nil
                }
                header.maskKey = key
                if let failure = beginPayload(header, deliver) {
                    // Only a payload-less frame fails here, once complete.
                    (error, resume) = (failure, .frameStart)
                    break decoding
                }

            case .waitingForPayload(let header, let remaining):
                guard i < n, let base = bytes.baseAddress else { return nil }
                let take = min(remaining, n - i)
                let src = base + i
                i += take
                if let failure = consumePayload(header, remaining: remaining, src: src, count: take, deliver) {
                    let rest = UInt64(remaining - take)
                    let isClose = header.opcode == .close
                    (error, resume) = (failure, FrameSkipper.body(isClose: isClose, masked: false, length: rest))
                    break decoding
                }
            }
        }
        return fail(error, resume: resume, rest: UnsafeRawBufferPointer(rebasing: bytes[i...]))
    }

    // MARK: - Header

    /// Fast path when at least two header bytes are present: if the whole
    /// header is in `bytes`, decode it at once and advance `i`; otherwise
    /// leave `i` and the state alone.
    @inline(__always)
    private mutating func parseWholeHeader(
        _ bytes: UnsafeRawBufferPointer, _ i: inout Int, _ deliver: (WebSocketMessage) -> Void
    ) -> WebSocketProtocolError? {
        let b0 = bytes[i], b1 = bytes[i + 1]
        let length7 = b1 & 0x7F
        let extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0
        let masked = b1 & 0x80 != 0
        let headerBytes = 2 + extended + (masked ? 4 : 0)
        guard bytes.count - i >= headerBytes else { return nil }
        let start: FrameStart
        switch frameStart(b0, b1) {
        case .failure(let error): return error
        case .success(let s): start = s
        }
        var p = i + 2
        var length = UInt64(length7)
        if extended > 0 {
            length = 0
            for _ in 0..<extended {
                length = length << 8 | UInt64(bytes[p])
                p += 1
            }
        }
        let frameLength: Int
        switch checkLength(start, length) {
        case .failure(let error): return error
        case .success(let l): frameLength = l
        }
        var key: UInt32?
        if masked {
            key = UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
        }
        i += headerBytes
        return beginPayload(FrameHeader(fin: start.fin, opcode: start.opcode, length: frameLength, maskKey: key), deliver)
    }

    /// Rules decidable from the first two bytes (RFC 6455 §5.2, §5.4, §5.5).
    private func frameStart(_ b0: UInt8, _ b1: UInt8) -> Result<FrameStart, WebSocketProtocolError> {
        // No extension is ever negotiated, so RSV1-3 must be zero.
        guard b0 & 0x70 == 0 else { return .failure(.reservedBitsSet) }
        guard let opcode = WebSocketOpcode(rawValue: b0 & 0x0F) else {
            return .failure(.reservedOpcode(b0 & 0x0F))
        }
        let fin = b0 & 0x80 != 0
        let masked = b1 & 0x80 != 0
        let length7 = b1 & 0x7F
        if limits.requireMaskedFrames, !masked { return .failure(.unmaskedFrame) }
        if opcode.isControl {
            guard fin else { return .failure(.fragmentedControlFrame) }
            guard length7 <= 125 else { return .failure(.controlFrameTooLong(Int(length7))) }
        } else if opcode == .continuation {
            guard messageOpcode != nil else { return .failure(.continuationWithoutMessage) }
            guard fragments < limits.maxFragments else { return .failure(.tooManyFragments(limit: limits.maxFragments)) }
        } else {
            guard messageOpcode == nil else { return .failure(.dataFrameInsideMessage) }
        }
        return .success(FrameStart(fin: fin, opcode: opcode, masked: masked, length7: length7))
    }

    /// Size rules, decided before any payload byte is stored.
    private func checkLength(_ start: FrameStart, _ length: UInt64) -> Result<Int, WebSocketProtocolError> {
        guard length & (1 << 63) == 0 else { return .failure(.invalidLength) }
        if start.opcode == .close, length == 1 { return .failure(.invalidClosePayload) }
        guard length <= UInt64(limits.maxFrameBytes) else {
            return .failure(.frameTooBig(length: length, limit: limits.maxFrameBytes))
        }
        let frameLength = Int(length)
        if !start.opcode.isControl {
            let soFar = start.opcode == .continuation ? message.count : 0
            if soFar + frameLength > limits.maxMessageBytes {
                return .failure(.messageTooBig(length: soFar + frameLength, limit: limits.maxMessageBytes))
            }
        }
        return .success(frameLength)
    }

    /// The length is known (byte-wise path): check it, then read the mask or the payload.
    private mutating func lengthKnown(
        _ start: FrameStart, _ length: UInt64, _ deliver: (WebSocketMessage) -> Void
    ) -> WebSocketProtocolError? {
        switch checkLength(start, length) {
        case .failure(let error):
            return error
        case .success(let frameLength):
            let header = FrameHeader(fin: start.fin, opcode: start.opcode, length: frameLength, maskKey: nil)
            if start.masked {
                state = .waitingForMask(header, missing: 4, key: 0)
                return nil
            }
            return beginPayload(header, deliver)
        }
    }

    // MARK: - Payload

    private mutating func beginPayload(
        _ header: FrameHeader, _ deliver: (WebSocketMessage) -> Void
    ) -> WebSocketProtocolError? {
        switch header.opcode {
        case .text, .binary:
            messageOpcode = header.opcode
            fragments = 1
            utf8 = UTF8Validator()
        case .continuation:
            fragments += 1
        default:
            break
        }
        if header.length == 0 {
            state = .waitingForHeader
            return frameComplete(header, deliver)
        }
        state = .waitingForPayload(header, remaining: header.length)
        return nil
    }

    private mutating func consumePayload(
        _ header: FrameHeader, remaining: Int, src: UnsafeRawPointer, count: Int,
        _ deliver: (WebSocketMessage) -> Void
    ) -> WebSocketProtocolError? {
        let offset = header.length - remaining
        let startsMessage = header.opcode != .continuation
        // Whole payload here and nothing to join it to: one copy, straight into the message.
        if count == header.length, header.fin, startsMessage {
            // Array(UnsafeRawBufferPointer) allocates faster than
            // Array(unsafeUninitializedCapacity:), which looks up generic
            // metadata on every call; unmasking in place right after is cache-hot.
            var payload = [UInt8](UnsafeRawBufferPointer(start: src, count: count))
            if let key = header.maskKey {
                payload.withUnsafeMutableBytes { p in
                    guard let base = p.baseAddress else { return }
                    Masking.apply(key: key, offset: 0, from: UnsafeRawPointer(base), to: base, count: count)
                }
            }
            state = .waitingForHeader
            return deliverFrame(header, payload, deliver)
        }

        if header.opcode.isControl {
            if control.isEmpty { control.reserveCapacity(header.length) }
            append(header, offset: offset, from: src, count: count, to: &control)
        } else {
            if message.isEmpty { message.reserveCapacity(min(header.length, Self.maxReserve)) }
            let before = message.count
            append(header, offset: offset, from: src, count: count, to: &message)
            if messageOpcode == .text {
                // Fail on the first bad byte, not at the end of the message.
                let valid = message.withUnsafeBufferPointer {
                    utf8.validate(UnsafeBufferPointer(rebasing: $0[before...]))
                }
                if !valid { return .invalidUTF8 }
            }
        }
        if count < remaining {
            state = .waitingForPayload(header, remaining: remaining - count)
            return nil
        }
        state = .waitingForHeader
        return frameComplete(header, deliver)
    }

    /// All payload bytes of a frame that went through the buffers are in.
    private mutating func frameComplete(
        _ header: FrameHeader, _ deliver: (WebSocketMessage) -> Void
    ) -> WebSocketProtocolError? {
        if header.opcode.isControl {
            let payload = control
            control = []
            return deliverFrame(header, payload, deliver)
        }
        guard header.fin else { return nil }
        if messageOpcode == .text, !utf8.isComplete { return .invalidUTF8 }
        let payload = message
        message = []
        return deliverFrame(FrameHeader(fin: true, opcode: messageOpcode ?? .binary, length: payload.count, maskKey: nil),
                            payload, deliver, validated: true)
    }

    /// Delivers a finished message or control frame. `validated` is true when
    /// text was already checked chunk by chunk.
    private mutating func deliverFrame(
        _ header: FrameHeader, _ payload: [UInt8], _ deliver: (WebSocketMessage) -> Void,
        validated: Bool = false
    ) -> WebSocketProtocolError? {
        switch header.opcode {
        case .text, .continuation:
            if !validated, !UTF8Validator.isValid(payload) { return .invalidUTF8 }
            endMessage()
            deliver(.text(payload))
        case .binary:
            endMessage()
            deliver(.binary(payload))
        case .ping:
            deliver(.ping(payload))
        case .pong:
            deliver(.pong(payload))
        case .close:
            guard payload.count >= 2 else {
                state = .closed
                deliver(.close(code: nil, reason: ""))
                return nil
            }
            let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
            guard CloseCode.isValidReceived(code) || (limits.acceptsRegisteredCloseCodes && (1012...1014).contains(code)) else {
                return .invalidCloseCode(code)
            }
            let reasonBytes = payload[2...]
            guard UTF8Validator.isValid(reasonBytes) else { return .invalidCloseReason }
            state = .closed
            deliver(.close(code: code, reason: String(decoding: reasonBytes, as: UTF8.self)))
        }
        return nil
    }

    private mutating func endMessage() {
        messageOpcode = nil
        fragments = 0
    }

    /// Appends `count` payload bytes, unmasking them in place after the append.
    private func append(
        _ header: FrameHeader, offset: Int, from src: UnsafeRawPointer, count: Int, to buffer: inout [UInt8]
    ) {
        let before = buffer.count
        buffer.append(contentsOf: UnsafeRawBufferPointer(start: src, count: count))
        guard let key = header.maskKey else { return }
        buffer.withUnsafeMutableBytes { all in
            guard let base = all.baseAddress else { return }
            let p = base + before
            Masking.apply(key: key, offset: offset, from: UnsafeRawPointer(p), to: p, count: count)
        }
    }

    /// Enters `.failed`: the buffers go, and the rest of this read is already discarded,
    /// skipping from `resume` (where the framing stands after the bytes before `rest`).
    private mutating func fail(
        _ error: WebSocketProtocolError, resume: FrameSkipper.Step, rest: UnsafeRawBufferPointer
    ) -> WebSocketProtocolError {
        var skipper = FrameSkipper(resume)
        skipper.skip(rest)
        state = .failed(error, skipper)
        message = []
        control = []
        return error
    }
}
