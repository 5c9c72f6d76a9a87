import ConfabCodec

/// Codec micro-benchmarks: `swift run -c release ConfabBench codec`.
func runCodecBenchmarks(filter: String?) {
    let benchmarks: [(String, () -> BenchResult)] = [
        ("codec.decode.masked64", { decodeMasked(payloadBytes: 64) }),
        ("codec.decode.masked1k", { decodeMasked(payloadBytes: 1024) }),
        ("codec.encode.text64", encodeServerText64),
        ("codec.http.upgrade", parseUpgradeRequest),
        ("codec.handshake.accept", acceptValue),
    ]
    for (name, run) in benchmarks where filter == nil || name.contains(filter ?? "") {
        let result = run()
        print(pad(name, 24) + result.line)
    }
}

struct BenchResult {
    var operations: Int
    var bytes: Int
    var seconds: Double
    var unit: String

    var line: String {
        let rate = Double(operations) / seconds
        var text = fixed(rate / 1e6, 2) + " M \(unit)/s"
        if bytes > 0 { text += "  (" + fixed(Double(bytes) / seconds / 1e6, 0) + " MB/s)" }
        return text
    }
}

/// Repeats `body` (one batch per call, returning operations and bytes) for about `budget`.
private func measure(
    unit: String, budget: Duration = .milliseconds(1200), _ body: () -> (operations: Int, bytes: Int)
) -> BenchResult {
    let clock = ContinuousClock()
    _ = body()  // warm-up
    var operations = 0, bytes = 0
    let start = clock.now
    var elapsed = Duration.zero
    while elapsed < budget {
        let (o, b) = body()
        operations += o
        bytes += b
        elapsed = clock.now - start
    }
    let (s, atto) = elapsed.components
    return BenchResult(operations: operations, bytes: bytes, seconds: Double(s) + Double(atto) * 1e-18, unit: unit)
}

/// A buffer of many masked text frames, fed in 64 KiB chunks as reads would
/// deliver them (frames straddle chunk boundaries).
private func decodeMasked(payloadBytes: Int) -> BenchResult {
    let payload = (0..<payloadBytes).map { UInt8(ascii: "a") + UInt8($0 % 26) }
    let frame = FrameEncoder.encode(opcode: .text, payload: payload, mask: 0x1234_5678)
    let framesPerBuffer = max(1, (4 << 20) / frame.count)
    var stream: [UInt8] = []
    stream.reserveCapacity(framesPerBuffer * frame.count)
    for _ in 0..<framesPerBuffer { stream += frame }
    let chunk = 64 * 1024
    var sink = 0
    let result = measure(unit: "frames") {
        var reader = WebSocketReader()
        var delivered = 0
        stream.withUnsafeBytes { all in
            var offset = 0
            while offset < all.count {
                let end = min(offset + chunk, all.count)
                let error = reader.feed(UnsafeRawBufferPointer(rebasing: all[offset..<end])) { message in
                    if case .text(let bytes) = message { sink &+= bytes.count }
                    delivered += 1
                }
                if error != nil { fatalError("benchmark stream rejected: \(String(describing: error))") }
                offset = end
            }
        }
        return (delivered, stream.count)
    }
    if sink == 0 { print("(no frames decoded)") }
    return result
}

private func encodeServerText64() -> BenchResult {
    let payload = [UInt8](repeating: UInt8(ascii: "x"), count: 64)
    var sink = 0
    let result = measure(unit: "frames") {
        for _ in 0..<100_000 { sink &+= FrameEncoder.serverText(payload).count }
        return (100_000, 100_000 * 66)
    }
    if sink == 0 { print("(nothing encoded)") }
    return result
}

private func parseUpgradeRequest() -> BenchResult {
    let head = Array((
        "GET /ws?name=Alice HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUpgrade: websocket\r\n"
        + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        + "Sec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:8080\r\n"
        + "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/140.0\r\n\r\n"
    ).utf8)
    var sink = 0
    let result = measure(unit: "requests") {
        head.withUnsafeBytes { bytes in
            for _ in 0..<10_000 {
                var parser = HTTPRequestParser()
                if case .request(let request, _) = parser.parse(bytes),
                   case .success(let accept) = WebSocketHandshake.validate(request) {
                    sink &+= accept.utf8.count
                }
            }
        }
        return (10_000, 10_000 * head.count)
    }
    if sink == 0 { print("(no request parsed)") }
    return result
}

private func acceptValue() -> BenchResult {
    var sink = 0
    let result = measure(unit: "keys") {
        for _ in 0..<10_000 {
            sink &+= WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==").utf8.count
        }
        return (10_000, 0)
    }
    if sink == 0 { print("(nothing hashed)") }
    return result
}

private func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
}

/// Fixed-point formatting without Foundation.
private func fixed(_ value: Double, _ decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int(value * scale + 0.5)  // values are non-negative
    if decimals == 0 { return String(scaled) }
    let whole = scaled / Int(scale), fraction = scaled % Int(scale)
    let digits = String(fraction)
    return "\(whole)." + String(repeating: "0", count: decimals - digits.count) + digits
}
