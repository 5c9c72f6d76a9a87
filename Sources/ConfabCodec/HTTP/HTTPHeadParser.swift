/// Parses one complete request head (request line, fields, empty line).
enum HTTPHeadParser {
    static func parse(_ head: UnsafeBufferPointer<UInt8>) -> Result<HTTPRequest, HTTPParseError> {
        var lines = LineIterator(head)
        guard let requestLine = lines.next() else { return .failure(.malformedRequestLine) }
        guard let line = requestLine, let (method, target, version) = parseRequestLine(line) else {
            return .failure(.malformedRequestLine)
        }
        guard version.major == 1 else { return .failure(.unsupportedVersion(version)) }

        var headers = HTTPHeaders()
        while let next = lines.next() {
            guard let fieldLine = next else { return .failure(.malformedHeader) }
            if fieldLine.isEmpty { break }
            guard let (name, value) = parseField(fieldLine) else { return .failure(.malformedHeader) }
            headers.add(name: name, value: value)
        }

        let hosts = headers.values("Host")
        if hosts.count > 1 { return .failure(.duplicateHost) }
        if hosts.isEmpty, version >= .http1_1 { return .failure(.missingHost) }

        var contentLength: Int?
        for value in headers.values("Content-Length") {
            guard let n = parseContentLength(value), contentLength == nil || contentLength == n else {
                return .failure(.invalidContentLength)
            }
            contentLength = n
        }
        let hasBody = (contentLength ?? 0) > 0 || headers.contains("Transfer-Encoding")

        guard let (rawPath, path, query) = parseTarget(target) else { return .failure(.invalidTarget) }

        let keepAlive = version >= .http1_1
            ? !headers.hasToken("Connection", "close")
            : headers.hasToken("Connection", "keep-alive")

        return .success(HTTPRequest(
            method: method, target: target, rawPath: rawPath, path: path, query: query,
            version: version, headers: headers, keepAlive: keepAlive,
            hasBody: hasBody, contentLength: contentLength
        ))
    }

    /// Yields each line without its LF (and a CR right before it); nil inside
    /// the optional when a line holds a stray CR, which we refuse.
    struct LineIterator {
        let buffer: UnsafeBufferPointer<UInt8>
        var position = 0

        init(_ buffer: UnsafeBufferPointer<UInt8>) { self.buffer = buffer }

        mutating func next() -> UnsafeBufferPointer<UInt8>?? {
            guard position < buffer.count else { return nil }
            var end = position
            while end < buffer.count, buffer[end] != .lf { end += 1 }
            let start = position
            position = end + 1
            var lineEnd = end
            if lineEnd > start, buffer[lineEnd - 1] == .cr { lineEnd -= 1 }
            let line = UnsafeBufferPointer(rebasing: buffer[start..<lineEnd])
            if line.contains(.cr) { return .some(nil) }
            return .some(line)
        }
    }

    static func parseRequestLine(_ line: UnsafeBufferPointer<UInt8>) -> (String, String, HTTPVersion)? {
        let parts = line.split(separator: .sp, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        let method = parts[0], target = parts[1], version = parts[2]
        guard !method.isEmpty, method.allSatisfy(isTokenChar) else { return nil }
        guard !target.isEmpty, target.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        guard let v = parseVersion(version) else { return nil }
        return (string(method), string(target), v)
    }

    static func parseVersion(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> HTTPVersion? {
        let prefix: [UInt8] = Array("HTTP/".utf8)
        guard bytes.count == 8, bytes.starts(with: prefix) else { return nil }
        let i = bytes.startIndex
        let major = bytes[i + 5], dot = bytes[i + 6], minor = bytes[i + 7]
        guard isDigit(major), dot == UInt8(ascii: "."), isDigit(minor) else { return nil }
        return HTTPVersion(major: Int(major - 0x30), minor: Int(minor - 0x30))
    }

    static func parseField(_ line: UnsafeBufferPointer<UInt8>) -> (String, String)? {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return nil }
        // Also rejects obs-fold and whitespace before the colon (RFC 9112 §5.1).
        let name = line[..<colon]
        guard name.allSatisfy(isTokenChar) else { return nil }
        var valueStart = colon + 1, valueEnd = line.count
        while valueStart < valueEnd, line[valueStart] == .sp || line[valueStart] == .ht { valueStart += 1 }
        while valueEnd > valueStart, line[valueEnd - 1] == .sp || line[valueEnd - 1] == .ht { valueEnd -= 1 }
        let value = line[valueStart..<valueEnd]
        guard value.allSatisfy({ $0 == .ht || ($0 >= 0x20 && $0 != 0x7F) }) else { return nil }
        return (string(name), string(value))
    }

    static func parseContentLength(_ value: String) -> Int? {
        guard !value.isEmpty, value.utf8.count <= 18, value.utf8.allSatisfy(isDigit) else { return nil }
        return Int(value)
    }

    /// origin-form, absolute-form (path taken from it) and `*`.
    static func parseTarget(_ target: String) -> (String, String, [String: String])? {
        if target == "*" { return ("*", "*", [:]) }
        var rest = Substring(target)
        if !rest.hasPrefix("/") {
            let lower = rest.prefix(8).lowercased()
            let schemeLength = lower.hasPrefix("http://") ? 7 : lower.hasPrefix("https://") ? 8 : 0
            guard schemeLength > 0 else { return nil }
            rest = rest.dropFirst(schemeLength)
            if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) {
                rest = rest[slash...]
            } else {
                rest = ""
            }
            if !rest.hasPrefix("/") { rest = "/" + rest }
        }
        // A fragment is never sent (RFC 9112 §3.2).
        guard !rest.contains("#") else { return nil }
        let rawPath: Substring, rawQuery: Substring
        if let q = rest.firstIndex(of: "?") {
            rawPath = rest[..<q]
            rawQuery = rest[rest.index(after: q)...]
        } else {
            rawPath = rest
            rawQuery = ""
        }
        guard let path = PercentEncoding.decode(rawPath) else { return nil }
        var query: [String: String] = [:]
        for pair in rawQuery.split(separator: "&") {
            let name: Substring, value: Substring
            if let eq = pair.firstIndex(of: "=") {
                name = pair[..<eq]
                value = pair[pair.index(after: eq)...]
            } else {
                name = pair
                value = ""
            }
            guard let n = PercentEncoding.decode(name, plusAsSpace: true),
                  let v = PercentEncoding.decode(value, plusAsSpace: true) else { return nil }
            if query[n] == nil { query[n] = v }
        }
        return (String(rawPath), path, query)
    }

    @inline(__always)
    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// tchar from RFC 9110 §5.6.2.
    static func isTokenChar(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
    }

    static func string<C: Collection<UInt8>>(_ bytes: C) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}
