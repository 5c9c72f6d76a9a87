// libFuzzer target `frames`: WebSocketReader (the inbound frame decoder).
// Compiled by Scripts/fuzz into the ConfabCodec module itself (swiftc
// -sanitize=fuzzer). Not part of `swift build`.
//
// The input is a client byte stream after the upgrade. It is decoded under two
// small limit sets (masking required / not), in one piece, in chunks whose
// sizes come from the first input bytes, and byte by byte for short inputs.
// Every decoding must deliver the same messages and end with the same error;
// nothing may be delivered after an error or a close; text is valid UTF-8 and
// every limit holds.

@inline(never)
func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("fuzz invariant: \(message())") }
}

struct FrameOutcome: Equatable {
    var messages: [WebSocketMessage] = []
    var error: WebSocketProtocolError?
    var closed = false
}

func decodeStream(_ data: UnsafeRawBufferPointer, chunks: [Int], limits: WebSocketLimits) -> FrameOutcome {
    var reader = WebSocketReader(limits: limits)
    var outcome = FrameOutcome()
    var position = 0
    var chunkIndex = 0
    while position < data.count {
        let size = min(chunks[chunkIndex % chunks.count], data.count - position)
        chunkIndex += 1
        let chunk = UnsafeRawBufferPointer(rebasing: data[position..<(position + size)])
        position += size
        let stoppedBefore = outcome.error != nil || outcome.closed
        var delivered = 0
        let error = reader.feed(chunk) { message in
            delivered += 1
            outcome.messages.append(message)
        }
        fuzzCheck(!stoppedBefore || delivered == 0,
                  "delivered \(delivered) message(s) after error \(String(describing: outcome.error)) / close")
        if let previous = outcome.error {
            fuzzCheck(error == previous, "error changed from \(previous) to \(String(describing: error))")
        }
        if outcome.closed { fuzzCheck(error == nil, "error \(String(describing: error)) after close") }
        if let error { outcome.error = error }
        if reader.isClosed { outcome.closed = true }
        fuzzCheck(reader.bufferedBytes <= limits.maxMessageBytes + 125,
                  "buffered \(reader.bufferedBytes) bytes over limits")
    }
    check(outcome, limits: limits)
    return outcome
}

func check(_ outcome: FrameOutcome, limits: WebSocketLimits) {
    for (index, message) in outcome.messages.enumerated() {
        switch message {
        case .text(let bytes):
            fuzzCheck(String(validating: bytes, as: UTF8.self) != nil, "invalid UTF-8 text delivered: \(bytes)")
            fuzzCheck(UTF8Validator.isValid(bytes), "validator disagrees with String(validating:)")
            fuzzCheck(bytes.count <= limits.maxMessageBytes, "text of \(bytes.count) bytes")
        case .binary(let bytes):
            fuzzCheck(bytes.count <= limits.maxMessageBytes, "binary of \(bytes.count) bytes")
        case .ping(let bytes), .pong(let bytes):
            fuzzCheck(bytes.count <= 125, "control payload of \(bytes.count) bytes")
        case .close(let code, let reason):
            fuzzCheck(index == outcome.messages.count - 1, "message delivered after close")
            if let code { fuzzCheck(CloseCode.isValidReceived(code), "close code \(code) delivered") }
            fuzzCheck(reason.utf8.count <= 123, "close reason of \(reason.utf8.count) bytes")
        }
    }
    if outcome.closed {
        fuzzCheck(outcome.error == nil, "closed and failed")
        if case .close? = outcome.messages.last {} else { fuzzCheck(false, "closed without a close message") }
    }
}

let fuzzLimits: [WebSocketLimits] = [
    WebSocketLimits(maxFrameBytes: 200, maxMessageBytes: 300, maxFragments: 4, requireMaskedFrames: true),
    WebSocketLimits(maxFrameBytes: 64, maxMessageBytes: 100, maxFragments: 3, requireMaskedFrames: false),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let prefix = min(size, 8)
    let chunks = (0..<prefix).map { Int(data[$0] & 0x0F) + 1 }
    for limits in fuzzLimits {
        let whole = decodeStream(input, chunks: [size], limits: limits)
        let split = decodeStream(input, chunks: chunks, limits: limits)
        fuzzCheck(whole == split, "whole \(whole) != split \(split) (chunks \(chunks), limits \(limits))")
        if size <= 2048 {
            let bytewise = decodeStream(input, chunks: [1], limits: limits)
            fuzzCheck(whole == bytewise, "whole \(whole) != bytewise \(bytewise) (limits \(limits))")
        }
    }
    return 0
}
