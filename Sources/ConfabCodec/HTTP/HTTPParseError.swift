/// Why a request head was refused; each case maps to one response status.
public enum HTTPParseError: Error, Sendable, Equatable {
    case headerTooLarge(limit: Int)
    case malformedRequestLine
    case malformedHeader
    case invalidTarget
    case unsupportedVersion(HTTPVersion)
    case invalidContentLength
    case missingHost
    case duplicateHost

    public var status: Int {
        switch self {
        case .headerTooLarge: return 431
        case .unsupportedVersion: return 505
        default: return 400
        }
    }

    public var reason: String {
        switch self {
        case .headerTooLarge(let limit): return "request head exceeds \(limit) bytes"
        case .malformedRequestLine: return "malformed request line"
        case .malformedHeader: return "malformed header field"
        case .invalidTarget: return "invalid request target"
        case .unsupportedVersion(let v): return "\(v) is not supported"
        case .invalidContentLength: return "invalid Content-Length"
        case .missingHost: return "HTTP/1.1 request without Host"
        case .duplicateHost: return "more than one Host header"
        }
    }
}
