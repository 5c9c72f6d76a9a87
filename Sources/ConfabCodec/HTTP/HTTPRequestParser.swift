public enum HTTPParseResult: Sendable, Equatable {
    /// The head is not complete yet; every byte given so far was kept.
    case needMore
    /// A complete head. `consumed` counts the bytes of this call that
    /// belonged to it; the rest belong to the next request or to WebSocket frames.
    case request(HTTPRequest, consumed: Int)
    case failure(HTTPParseError)
}

/// Incremental HTTP/1.1 request-head parser.
///
/// Each input byte is scanned once for the end of the head; the head is then
/// parsed once, straight from the caller's buffer when it arrived in one read,
/// otherwise from a buffer that never exceeds `maxHeaderBytes`. An idle parser
/// holds an empty array only.
public struct HTTPRequestParser: Sendable {
    /// 8 KiB, like nginx's default `large_client_header_buffers` entry: ample
    /// for a WebSocket upgrade with cookies, small enough to bound memory.
    public let maxHeaderBytes: Int

    private enum Scan: Sendable {
        /// Empty lines before a request line are ignored (RFC 9112 §2.2).
        case leadingEmptyLines
        /// Inside the head; `lineHasContent` is false right after a LF, so a
        /// second LF (CR ignored) ends the head.
        case inHead(lineHasContent: Bool)
        case failed(HTTPParseError)
    }

    private var scan: Scan = .leadingEmptyLines
    private var headBytes = 0
    private var partialHead: [UInt8] = []

    public init(maxHeaderBytes: Int = 8192) {
        self.maxHeaderBytes = maxHeaderBytes
    }

    public mutating func parse(_ bytes: UnsafeRawBufferPointer) -> HTTPParseResult {
        var headStart = 0
        if case .failed(let error) = scan { return .failure(error) }
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            headBytes += 1
            if headBytes > maxHeaderBytes {
                let error = HTTPParseError.headerTooLarge(limit: maxHeaderBytes)
                fail(error)
                return .failure(error)
            }
            switch scan {
            case .leadingEmptyLines:
                if b == .cr || b == .lf {
                    headStart = i + 1
                } else {
                    scan = .inHead(lineHasContent: true)
                }
            case .inHead(let lineHasContent):
                if b == .lf {
                    if !lineHasContent {
                        return finish(bytes, headStart: headStart, end: i + 1)
                    }
                    scan = .inHead(lineHasContent: false)
                } else if b != .cr, !lineHasContent {
                    scan = .inHead(lineHasContent: true)
                }
            case .failed:
                break
            }
            i += 1
        }
        if case .inHead = scan, headStart < bytes.count {
            partialHead.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[headStart...]))
        }
        return .needMore
    }

    private mutating func fail(_ error: HTTPParseError) {
        scan = .failed(error)
        partialHead = []
    }

    private mutating func finish(_ bytes: UnsafeRawBufferPointer, headStart: Int, end: Int) -> HTTPParseResult {
        let piece = UnsafeRawBufferPointer(rebasing: bytes[headStart..<end])
        let result: Result<HTTPRequest, HTTPParseError>
        if partialHead.isEmpty {
            result = HTTPHeadParser.parse(piece.assumingMemoryBound(to: UInt8.self))
        } else {
            partialHead.append(contentsOf: piece)
            result = partialHead.withUnsafeBufferPointer { HTTPHeadParser.parse($0) }
        }
        switch result {
        case .success(let request):
            // Ready for the next request on a persistent connection.
            scan = .leadingEmptyLines
            headBytes = 0
            partialHead = []
            return .request(request, consumed: end)
        case .failure(let error):
            fail(error)
            return .failure(error)
        }
    }
}

extension UInt8 {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let sp = UInt8(ascii: " ")
    static let ht = UInt8(ascii: "\t")
}
