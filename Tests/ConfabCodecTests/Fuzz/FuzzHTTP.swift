// The checks of the libFuzzer target `http` (HTTPRequestParser +
// WebSocketHandshake.validate). One source, compiled twice: into
// ConfabCodecTests, where FuzzRegressionTests replays Tests/fuzz/corpus/http
// through `FuzzHTTP.run`, and by Scripts/fuzz together with the thin entry
// Tests/fuzz/FuzzHTTPParser.swift (LLVMFuzzerTestOneInput) against a
// sanitized ConfabCodec built with -enable-testing. Keep it free of Foundation
// and Testing.
//
// The whole input is one byte stream from a client. It is parsed in one piece
// and again split into chunks whose sizes come from the first input bytes (and
// byte by byte for short inputs); every parse must see the same requests at
// the same offsets and end in the same state.

@testable import ConfabCodec

enum FuzzHTTP {
    /// A broken invariant; the fuzz entry turns it into a crash, the regression test into a failure.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) throws {
        if !condition() { throw Failure(description: message()) }
    }

    /// What a stream of bytes turned into: requests with the absolute offset
    /// their head ended at, then how it ended.
    enum Outcome: Equatable {
        case request(HTTPRequest, end: Int)
        case needMore
        case failure(HTTPParseError)
    }

    /// One fuzz input: throws `Failure` when an invariant breaks.
    static func run(_ input: UnsafeRawBufferPointer) throws {
        let size = input.count
        guard size > 0 else { return }
        // Chunk sizes 1...16 from the first (up to) 8 bytes.
        let prefix = min(size, 8)
        let chunks = (0..<prefix).map { Int(input[$0] & 0x0F) + 1 }
        // The default limit and a small one derived from the input, so the 431
        // path is reached with small inputs too.
        for limit in [8192, 16 + Int(input[0])] {
            let whole = try parseStream(input, chunks: [size], maxHeaderBytes: limit)
            let split = try parseStream(input, chunks: chunks, maxHeaderBytes: limit)
            try check(whole == split, "whole \(whole) != split \(split) (chunks \(chunks), limit \(limit))")
            if size <= 1024 {
                let bytewise = try parseStream(input, chunks: [1], maxHeaderBytes: limit)
                try check(whole == bytewise, "whole \(whole) != bytewise \(bytewise) (limit \(limit))")
            }
        }
    }

    /// Feeds `data` to a fresh parser in the given chunks, re-feeding what is
    /// left of a chunk after each request (a pipelined stream).
    static func parseStream(_ data: UnsafeRawBufferPointer, chunks: [Int], maxHeaderBytes: Int) throws -> [Outcome] {
        var parser = HTTPRequestParser(maxHeaderBytes: maxHeaderBytes)
        var outcomes: [Outcome] = []
        var position = 0
        var chunkIndex = 0
        var terminal: Outcome = .needMore
        outer: while position < data.count {
            let size = min(chunks[chunkIndex % chunks.count], data.count - position)
            chunkIndex += 1
            var chunk = UnsafeRawBufferPointer(rebasing: data[position..<(position + size)])
            var chunkStart = position
            position += size
            while true {
                switch parser.parse(chunk) {
                case .needMore:
                    terminal = .needMore
                    continue outer
                case .failure(let error):
                    terminal = .failure(error)
                    // A failed parser stays failed, whatever comes next.
                    let again = parser.parse(UnsafeRawBufferPointer(rebasing: data[0..<min(1, data.count)]))
                    try check(again == .failure(error), "failure not sticky: \(again) after \(error)")
                    break outer
                case .request(let request, let consumed):
                    try check(consumed >= 1 && consumed <= chunk.count, "consumed \(consumed) of \(chunk.count)")
                    let end = chunkStart + consumed
                    try checkRequest(request)
                    outcomes.append(.request(request, end: end))
                    chunk = UnsafeRawBufferPointer(rebasing: chunk[consumed...])
                    chunkStart = end
                    terminal = .needMore
                    if chunk.isEmpty { continue outer }
                }
            }
        }
        outcomes.append(terminal)
        return outcomes
    }

    static func checkRequest(_ request: HTTPRequest) throws {
        try check(!request.method.isEmpty, "empty method")
        try check(!request.target.isEmpty, "empty target")
        try check(request.version.major == 1, "version \(request.version)")
        try check(request.path.isEmpty || request.path.first == "/" || request.path == "*",
                  "path \(request.path.debugDescription)")
        try check(request.headers.values("Host").count <= 1, "several Host headers accepted")
        if let length = request.contentLength { try check(length >= 0, "negative Content-Length") }
        for field in request.headers {
            try check(!field.name.isEmpty, "empty header name")
            try check(!field.name.utf8.contains(where: { $0 == .cr || $0 == .lf || $0 == UInt8(ascii: ":") }),
                      "bad header name \(field.name.debugDescription)")
            try check(!field.value.utf8.contains(where: { $0 == .cr || $0 == .lf }),
                      "CR/LF in header value \(field.value.debugDescription)")
        }
        switch WebSocketHandshake.validate(request) {
        case .success(let accept):
            try check(accept.utf8.count == 28, "accept value \(accept)")
            let response = WebSocketHandshake.switchingProtocolsResponse(accept: accept)
            try check(response.count > 0, "empty 101")
        case .failure(let error):
            let bytes = error.response.encode()
            try check(bytes.starts(with: Array("HTTP/1.1 \(error.status) ".utf8)), "bad error response")
        }
    }
}
