// libFuzzer target `http`: HTTPRequestParser + WebSocketHandshake.validate.
// Compiled by Scripts/fuzz into the ConfabCodec module itself (swiftc
// -sanitize=fuzzer), so internal API is reachable. Not part of `swift build`.
//
// The whole input is one byte stream from a client. It is parsed in one piece
// and again split into chunks whose sizes come from the first input bytes (and
// byte by byte for short inputs); every parse must see the same requests at
// the same offsets and end in the same state.

/// Traps with a message even in -O builds (precondition would drop it).
@inline(never)
func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("fuzz invariant: \(message())") }
}

/// What a stream of bytes turned into: requests with the absolute offset
/// their head ended at, then how it ended.
enum HTTPOutcome: Equatable {
    case request(HTTPRequest, end: Int)
    case needMore
    case failure(HTTPParseError)
}

/// Feeds `data` to a fresh parser in the given chunks, re-feeding what is
/// left of a chunk after each request (a pipelined stream).
func parseStream(_ data: UnsafeRawBufferPointer, chunks: [Int], maxHeaderBytes: Int) -> [HTTPOutcome] {
    var parser = HTTPRequestParser(maxHeaderBytes: maxHeaderBytes)
    var outcomes: [HTTPOutcome] = []
    var position = 0
    var chunkIndex = 0
    var terminal: HTTPOutcome = .needMore
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
                fuzzCheck(again == .failure(error), "failure not sticky: \(again) after \(error)")
                break outer
            case .request(let request, let consumed):
                fuzzCheck(consumed >= 1 && consumed <= chunk.count, "consumed \(consumed) of \(chunk.count)")
                let end = chunkStart + consumed
                checkRequest(request)
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

func checkRequest(_ request: HTTPRequest) {
    fuzzCheck(!request.method.isEmpty, "empty method")
    fuzzCheck(!request.target.isEmpty, "empty target")
    fuzzCheck(request.version.major == 1, "version \(request.version)")
    fuzzCheck(request.path.isEmpty || request.path.first == "/" || request.path == "*",
              "path \(request.path.debugDescription)")
    fuzzCheck(request.headers.values("Host").count <= 1, "several Host headers accepted")
    if let length = request.contentLength { fuzzCheck(length >= 0, "negative Content-Length") }
    for field in request.headers {
        fuzzCheck(!field.name.isEmpty, "empty header name")
        fuzzCheck(!field.name.utf8.contains(where: { $0 == .cr || $0 == .lf || $0 == UInt8(ascii: ":") }),
                  "bad header name \(field.name.debugDescription)")
        fuzzCheck(!field.value.utf8.contains(where: { $0 == .cr || $0 == .lf }),
                  "CR/LF in header value \(field.value.debugDescription)")
    }
    switch WebSocketHandshake.validate(request) {
    case .success(let accept):
        fuzzCheck(accept.utf8.count == 28, "accept value \(accept)")
        let response = WebSocketHandshake.switchingProtocolsResponse(accept: accept)
        fuzzCheck(response.count > 0, "empty 101")
    case .failure(let error):
        let bytes = error.response.encode()
        fuzzCheck(bytes.starts(with: Array("HTTP/1.1 \(error.status) ".utf8)), "bad error response")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    guard size > 0 else { return 0 }
    // Chunk sizes 1...16 from the first (up to) 8 bytes.
    let prefix = min(size, 8)
    let chunks = (0..<prefix).map { Int(data[$0] & 0x0F) + 1 }
    // The default limit and a small one derived from the input, so the 431
    // path is reached with small inputs too.
    for limit in [8192, 16 + Int(data[0])] {
        let whole = parseStream(input, chunks: [size], maxHeaderBytes: limit)
        let split = parseStream(input, chunks: chunks, maxHeaderBytes: limit)
        fuzzCheck(whole == split, "whole \(whole) != split \(split) (chunks \(chunks), limit \(limit))")
        if size <= 1024 {
            let bytewise = parseStream(input, chunks: [1], maxHeaderBytes: limit)
            fuzzCheck(whole == bytewise, "whole \(whole) != bytewise \(bytewise) (limit \(limit))")
        }
    }
    return 0
}
