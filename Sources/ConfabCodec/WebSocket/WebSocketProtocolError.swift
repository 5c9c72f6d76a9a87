/// The first rule an inbound stream broke; each case maps to one close code.
public enum WebSocketProtocolError: Error, Sendable, Equatable {
    case unmaskedFrame
    case reservedBitsSet
    case reservedOpcode(UInt8)
    case controlFrameTooLong(Int)
    case fragmentedControlFrame
    case continuationWithoutMessage
    case dataFrameInsideMessage
    case invalidLength
    case frameTooBig(length: UInt64, limit: Int)
    case messageTooBig(length: Int, limit: Int)
    /// 1009 rather than 1008: like the byte limits, this bounds the resources
    /// one message may take, so peers see one code for "too big".
    case tooManyFragments(limit: Int)
    case invalidUTF8
    case invalidClosePayload
    case invalidCloseCode(UInt16)
    case invalidCloseReason

    public var closeCode: UInt16 {
        switch self {
        case .frameTooBig, .messageTooBig, .tooManyFragments: return CloseCode.messageTooBig
        case .invalidUTF8, .invalidCloseReason: return CloseCode.invalidPayload
        default: return CloseCode.protocolError
        }
    }

    public var reason: String {
        switch self {
        case .unmaskedFrame: return "client frames must be masked"
        case .reservedBitsSet: return "reserved bits set without an extension"
        case .reservedOpcode(let op): return "reserved opcode \(op)"
        case .controlFrameTooLong(let n): return "control frame payload of \(n) bytes exceeds 125"
        case .fragmentedControlFrame: return "control frames must not be fragmented"
        case .continuationWithoutMessage: return "continuation frame without a message to continue"
        case .dataFrameInsideMessage: return "new data frame inside an unfinished message"
        case .invalidLength: return "64-bit payload length with the top bit set"
        case .frameTooBig(let n, let limit): return "frame of \(n) bytes exceeds \(limit)"
        case .messageTooBig(let n, let limit): return "message of \(n) bytes exceeds \(limit)"
        case .tooManyFragments(let limit): return "message split into more than \(limit) fragments"
        case .invalidUTF8: return "text is not valid UTF-8"
        case .invalidClosePayload: return "close payload of 1 byte"
        case .invalidCloseCode(let code): return "invalid close code \(code)"
        case .invalidCloseReason: return "close reason is not valid UTF-8"
        }
    }
}
