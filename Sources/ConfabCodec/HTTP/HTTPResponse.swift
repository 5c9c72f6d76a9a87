/// A complete response, encoded in one buffer for a single write.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    /// nil uses the standard phrase for `status`.
    public var reason: String?
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, reason: String? = nil, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
    }

    public init(status: Int, reason: String? = nil, headers: HTTPHeaders = [:], text: String) {
        self.init(status: status, reason: reason, headers: headers, body: Array(text.utf8))
    }

    /// Status line, headers, `Content-Length` (unless already given, or the
    /// status forbids a body: 1xx, 204, 304), blank line, body. CR and LF in
    /// names and values become spaces so no caller can split the response.
    public func encode() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + headers.count * 32 + body.count)
        append("HTTP/1.1 \(status) ", to: &out)
        append(reason ?? HTTPStatus.reasonPhrase(status), to: &out)
        out += [.cr, .lf]
        for field in headers {
            append(field.name, to: &out)
            out += [UInt8(ascii: ":"), .sp]
            append(field.value, to: &out)
            out += [.cr, .lf]
        }
        let bodyForbidden = status < 200 || status == 204 || status == 304
        if !bodyForbidden, !headers.contains("Content-Length") {
            append("Content-Length: \(body.count)", to: &out)
            out += [.cr, .lf]
        }
        out += [.cr, .lf]
        if !bodyForbidden { out += body }
        return out
    }

    private func append(_ s: String, to out: inout [UInt8]) {
        for b in s.utf8 { out.append(b == .cr || b == .lf ? .sp : b) }
    }
}

public enum HTTPStatus {
    /// Standard reason phrases (RFC 9110 §15, plus 426/431 from RFC 6585).
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 101: return "Switching Protocols"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 206: return "Partial Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 303: return "See Other"
        case 304: return "Not Modified"
        case 307: return "Temporary Redirect"
        case 308: return "Permanent Redirect"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 406: return "Not Acceptable"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 411: return "Length Required"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 415: return "Unsupported Media Type"
        case 426: return "Upgrade Required"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default:
            switch status / 100 {
            case 1: return "Informational"
            case 2: return "Success"
            case 3: return "Redirection"
            case 4: return "Client Error"
            default: return "Server Error"
            }
        }
    }
}
