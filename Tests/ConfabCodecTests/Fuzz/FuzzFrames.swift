// The checks of the libFuzzer target `frames` (WebSocketReader, the inbound
// frame decoder). One source, compiled twice: into ConfabCodecTests, where
// FuzzRegressionTests replays Tests/fuzz/corpus/frames through `FuzzFrames.run`,
// and by Scripts/fuzz together with the thin entry Tests/fuzz/FuzzFrameDecoder.swift
// (LLVMFuzzerTestOneInput) against a sanitized ConfabCodec built with
// -enable-testing. Keep it free of Foundation and Testing.
//
// The input is a client byte stream after the upgrade. It is decoded under two
// small limit sets (masking required / not), in one piece, in chunks whose
// sizes come from the first input bytes, and byte by byte for short inputs.
// Every decoding must deliver the same messages and end with the same error;
// nothing may be delivered after an error or a close; text is valid UTF-8 and
// every limit holds; and the result equals a plain reference decoder's,
// including whether the peer's close frame went by after an error (the reader
// keeps following the framing while it discards).

@testable import ConfabCodec

enum FuzzFrames {
    /// A broken invariant; the fuzz entry turns it into a crash, the regression test into a failure.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) throws {
        if !condition() { throw Failure(description: message()) }
    }

    static let limitSets: [WebSocketLimits] = [
        WebSocketLimits(maxFrameBytes: 200, maxMessageBytes: 300, maxFragments: 4, requireMaskedFrames: true),
        WebSocketLimits(maxFrameBytes: 64, maxMessageBytes: 100, maxFragments: 3, requireMaskedFrames: false),
    ]

    /// One fuzz input: throws `Failure` when an invariant breaks.
    static func run(_ input: UnsafeRawBufferPointer) throws {
        let size = input.count
        guard size > 0 else { return }
        let prefix = min(size, 8)
        let chunks = (0..<prefix).map { Int(input[$0] & 0x0F) + 1 }
        for limits in limitSets {
            let whole = try decodeStream(input, chunks: [size], limits: limits)
            let reference = referenceDecode(Array(input), limits: limits)
            try check(whole == reference, "reader \(whole) != reference \(reference) (limits \(limits))")
            let split = try decodeStream(input, chunks: chunks, limits: limits)
            try check(whole == split, "whole \(whole) != split \(split) (chunks \(chunks), limits \(limits))")
            if size <= 2048 {
                let bytewise = try decodeStream(input, chunks: [1], limits: limits)
                try check(whole == bytewise, "whole \(whole) != bytewise \(bytewise) (limits \(limits))")
            }
        }
    }

    struct Outcome: Equatable {
        var messages: [WebSocketMessage] = []
        var error: WebSocketProtocolError?
        var closed = false
        var peerClosedAfterError = false
    }

    static func decodeStream(_ data: UnsafeRawBufferPointer, chunks: [Int], limits: WebSocketLimits) throws -> Outcome {
        var reader = WebSocketReader(limits: limits)
        var outcome = Outcome()
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
            try check(!stoppedBefore || delivered == 0,
                      "delivered \(delivered) message(s) after error \(String(describing: outcome.error)) / close")
            if let previous = outcome.error {
                try check(error == previous, "error changed from \(previous) to \(String(describing: error))")
            }
            if outcome.closed { try check(error == nil, "error \(String(describing: error)) after close") }
            if let error { outcome.error = error }
            if reader.isClosed { outcome.closed = true }
            try check(reader.discardedBytes <= position, "discarded \(reader.discardedBytes) of \(position) bytes fed")
            try check(outcome.error != nil || !reader.peerClosedAfterError, "a close after an error, without an error")
            try check(reader.bufferedBytes <= limits.maxMessageBytes + 125,
                      "buffered \(reader.bufferedBytes) bytes over limits")
        }
        outcome.peerClosedAfterError = reader.peerClosedAfterError
        try checkOutcome(outcome, limits: limits)
        return outcome
    }

    static func checkOutcome(_ outcome: Outcome, limits: WebSocketLimits) throws {
        for (index, message) in outcome.messages.enumerated() {
            switch message {
            case .text(let bytes):
                try check(String(validating: bytes, as: UTF8.self) != nil, "invalid UTF-8 text delivered: \(bytes)")
                try check(UTF8Validator.isValid(bytes), "validator disagrees with String(validating:)")
                try check(bytes.count <= limits.maxMessageBytes, "text of \(bytes.count) bytes")
            case .binary(let bytes):
                try check(bytes.count <= limits.maxMessageBytes, "binary of \(bytes.count) bytes")
            case .ping(let bytes), .pong(let bytes):
                try check(bytes.count <= 125, "control payload of \(bytes.count) bytes")
            case .close(let code, let reason):
                try check(index == outcome.messages.count - 1, "message delivered after close")
                if let code { try check(CloseCode.isValidReceived(code), "close code \(code) delivered") }
                try check(reason.utf8.count <= 123, "close reason of \(reason.utf8.count) bytes")
            }
        }
        if outcome.closed {
            try check(outcome.error == nil, "closed and failed")
            if case .close? = outcome.messages.last {} else { try check(false, "closed without a close message") }
        }
    }

    // MARK: - Reference decoder
    //
    // A deliberately plain re-implementation of RFC 6455 framing plus the reader's
    // documented rule order (first-two-byte rules, then length rules, then mask,
    // then payload) over the whole input, with UTF-8 checked by the standard
    // library rather than UTF8Validator. The reader must agree with it exactly.

    /// Whether `bytes` can still be completed to valid UTF-8 (the reader fails
    /// text as soon as this is false). Tries every completion shape: up to three
    /// continuation bytes from the boundary values of the RFC 3629 ranges.
    static func utf8PrefixIsValid(_ bytes: [UInt8]) -> Bool {
        if String(validating: bytes, as: UTF8.self) != nil { return true }
        let continuations: [UInt8] = [0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF]
        var candidates: [[UInt8]] = [[]]
        for _ in 0..<3 {
            candidates = candidates.flatMap { c in continuations.map { c + [$0] } }
            for c in candidates where String(validating: bytes + c, as: UTF8.self) != nil { return true }
        }
        return false
    }

    static func referenceDecode(_ d: [UInt8], limits: WebSocketLimits) -> Outcome {
        var out = Outcome()
        var i = 0
        var messageOpcode: UInt8?
        var fragments = 0
        var message: [UInt8] = []
        /// The error, and whether a close frame follows the broken frame: the reader skips
        /// from `resume` (the broken frame's start, or its end once its header was read).
        func failed(_ error: WebSocketProtocolError, resume: Int, isClose: Bool = false) -> Outcome {
            out.error = error
            out.peerClosedAfterError = isClose || referenceSkipFindsClose(d, from: resume)
            return out
        }
        while d.count - i >= 2 {
            let b0 = d[i], b1 = d[i + 1]
            let fin = b0 & 0x80 != 0, opcode = b0 & 0x0F, masked = b1 & 0x80 != 0, length7 = b1 & 0x7F
            let isControl = opcode >= 8
            if b0 & 0x70 != 0 { return failed(.reservedBitsSet, resume: i) }
            if ![0, 1, 2, 8, 9, 10].contains(opcode) { return failed(.reservedOpcode(opcode), resume: i) }
            if limits.requireMaskedFrames, !masked { return failed(.unmaskedFrame, resume: i) }
            if isControl {
                if !fin { return failed(.fragmentedControlFrame, resume: i) }
                if length7 > 125 { return failed(.controlFrameTooLong(Int(length7)), resume: i) }
            } else if opcode == 0 {
                if messageOpcode == nil { return failed(.continuationWithoutMessage, resume: i) }
                if fragments >= limits.maxFragments { return failed(.tooManyFragments(limit: limits.maxFragments), resume: i) }
            } else if messageOpcode != nil {
                return failed(.dataFrameInsideMessage, resume: i)
            }
            var p = i + 2
            var length = UInt64(length7)
            let extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0
            guard d.count - p >= extended else { return out }
            if extended > 0 {
                length = 0
                for k in 0..<extended { length = length << 8 | UInt64(d[p + k]) }
                p += extended
            }
            if length >> 63 != 0 { return failed(.invalidLength, resume: i) }
            if opcode == 8, length == 1 { return failed(.invalidClosePayload, resume: i) }
            if length > UInt64(limits.maxFrameBytes) {
                return failed(.frameTooBig(length: length, limit: limits.maxFrameBytes), resume: i)
            }
            let n = Int(length)
            if !isControl {
                let soFar = opcode == 0 ? message.count : 0
                if soFar + n > limits.maxMessageBytes {
                    return failed(.messageTooBig(length: soFar + n, limit: limits.maxMessageBytes), resume: i)
                }
            }
            var key: [UInt8] = [0, 0, 0, 0]
            if masked {
                guard d.count - p >= 4 else { return out }
                key = Array(d[p..<(p + 4)])
                p += 4
            }
            if opcode == 1 || opcode == 2 {
                messageOpcode = opcode
                fragments = 1
                message = []
            } else if opcode == 0 {
                fragments += 1
            }
            let available = min(n, d.count - p)
            var payload: [UInt8] = []
            for k in 0..<available { payload.append(d[p + k] ^ key[k % 4]) }
            p += available
            if isControl {
                guard available == n else { return out }
                i = p
                switch opcode {
                case 9: out.messages.append(.ping(payload))
                case 10: out.messages.append(.pong(payload))
                default:
                    if payload.isEmpty {
                        out.messages.append(.close(code: nil, reason: ""))
                    } else {
                        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
                        guard (1000...1003).contains(code) || (1007...1011).contains(code) || (3000...4999).contains(code) else {
                            return failed(.invalidCloseCode(code), resume: p, isClose: true)
                        }
                        guard let reason = String(validating: payload[2...], as: UTF8.self) else {
                            return failed(.invalidCloseReason, resume: p, isClose: true)
                        }
                        out.messages.append(.close(code: code, reason: reason))
                    }
                    out.closed = true
                    return out
                }
                continue
            }
            message += payload
            if messageOpcode == 1, !utf8PrefixIsValid(message) { return failed(.invalidUTF8, resume: p - available + n) }
            guard available == n else { return out }
            i = p
            if fin {
                if messageOpcode == 1 {
                    if String(validating: message, as: UTF8.self) == nil { return failed(.invalidUTF8, resume: p) }
                    out.messages.append(.text(message))
                } else {
                    out.messages.append(.binary(message))
                }
                messageOpcode = nil
                fragments = 0
                message = []
            }
        }
        return out
    }

    /// Whether a whole close frame follows `start` in `d`, reading frame lengths only
    /// (what the reader does after an error); false once a length is impossible.
    static func referenceSkipFindsClose(_ d: [UInt8], from start: Int) -> Bool {
        var i = start
        while d.count - i >= 2 {
            let isClose = d[i] & 0x0F == 8, masked = d[i + 1] & 0x80 != 0, length7 = d[i + 1] & 0x7F
            let extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0
            var p = i + 2
            guard d.count - p >= extended else { return false }
            var length = UInt64(length7)
            if extended > 0 {
                length = 0
                for k in 0..<extended { length = length << 8 | UInt64(d[p + k]) }
                p += extended
            }
            if length >> 63 != 0 { return false }
            let end = UInt64(p) + (masked ? 4 : 0) + length
            guard end <= UInt64(d.count) else { return false }
            if isClose { return true }
            i = Int(end)
        }
        return false
    }
}
