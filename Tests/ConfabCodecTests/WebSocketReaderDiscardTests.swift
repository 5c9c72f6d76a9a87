import Testing
@testable import ConfabCodec

/// After a violation the reader discards the rest of the stream, but follows its framing
/// where it can, so the closing side learns when the peer's close frame has gone by.
@Suite struct WebSocketReaderDiscardTests {
    /// Feeds `chunks`; returns the first error, whether the peer's close went by after it,
    /// and the bytes discarded.
    func run(_ chunks: [[UInt8]], limits: WebSocketLimits = WebSocketLimits()) -> (WebSocketProtocolError?, Bool, Int) {
        var reader = WebSocketReader(limits: limits)
        var first: WebSocketProtocolError?
        for chunk in chunks {
            let error = chunk.withUnsafeBytes { reader.feed($0) { _ in } }
            if first == nil { first = error }
            #expect(error == first, "the same error every time")
        }
        return (first, reader.peerClosedAfterError, reader.discardedBytes)
    }

    static let close1009Answer = rawFrame(opcode: 8, payload: [0x03, 0xF1])

    /// The case from issue 13: a 70,000-byte frame against a 65,536 limit, then the peer's
    /// answer to our 1009, in one read and spread over many.
    @Test func oversizedFrameIsSkippedAndThePeersCloseSeen() {
        let big = rawFrame(opcode: 2, payload: [UInt8](repeating: 7, count: 70_000))
        let stream = big + Self.close1009Answer
        let oneRead = run([stream])
        #expect(oneRead.0 == .frameTooBig(length: 70_000, limit: 65_536))
        #expect(oneRead.1)
        #expect(oneRead.2 == stream.count, "the whole header is seen again by the skipper")
        for size in [1, 2, 3, 7, 1000, 4096, 65_536] {
            let chunks = stride(from: 0, to: stream.count, by: size).map { Array(stream[$0..<min($0 + size, stream.count)]) }
            let split = run(chunks)
            #expect(split.0 == oneRead.0, "chunks of \(size)")
            #expect(split.1, "chunks of \(size): the close after the skipped frame")
        }
    }

    @Test func withoutTheClosePeerHasNotClosed() {
        let big = rawFrame(opcode: 2, payload: [UInt8](repeating: 7, count: 70_000))
        let (error, closed, discarded) = run([Array(big[..<30_000]), Array(big[30_000...])])
        #expect(error != nil)
        #expect(!closed)
        #expect(discarded == big.count)
    }

    @Test func framesAfterTheBrokenOneAreSkippedToo() {
        let stream = rawFrame(opcode: 1, payload: [0xFF, 0x41]) + maskedText("more") + rawFrame(opcode: 9, payload: [1])
            + Self.close1009Answer
        for chunks in allSplits(stream) {
            let (error, closed, _) = run(chunks)
            #expect(error == .invalidUTF8)
            #expect(closed, "split \(chunks.map(\.count))")
        }
    }

    @Test func invalidTextMidPayloadSkipsTheRestOfItsFrame() {
        let bad = rawFrame(opcode: 1, payload: Array("ok".utf8) + [0xC0] + [UInt8](repeating: 0x41, count: 300))
        let (error, closed, _) = run([Array(bad[..<10]), Array(bad[10...]) + Self.close1009Answer])
        #expect(error == .invalidUTF8)
        #expect(closed)
    }

    @Test func anInvalidCloseIsThePeersClose() {
        let (error, closed, _) = run([rawFrame(opcode: 8, payload: [0x03, 0xE7])])
        #expect(error == .invalidCloseCode(999))
        #expect(closed)
        let (shortError, shortClosed, _) = run([rawFrame(opcode: 8, payload: [0x03])])
        #expect(shortError == .invalidClosePayload)
        #expect(shortClosed)
    }

    /// A server says 1012 when it restarts: clients accept it, servers keep RFC 6455's list.
    @Test func registeredCloseCodesAreForClients() {
        for code: UInt16 in [1012, 1013, 1014] {
            let frame = rawFrame(opcode: 8, payload: [UInt8(code >> 8), UInt8(code & 0xFF)], mask: nil)
            let server = decode(frame, limits: WebSocketLimits(requireMaskedFrames: false))
            #expect(server.error == .invalidCloseCode(code))
            let client = decode(frame, limits: WebSocketLimits(requireMaskedFrames: false, acceptsRegisteredCloseCodes: true))
            #expect(client.error == nil)
            #expect(client.messages == [.close(code: code, reason: "")])
        }
        let bad = decode(rawFrame(opcode: 8, payload: [0x03, 0xF7], mask: nil),
                         limits: WebSocketLimits(requireMaskedFrames: false, acceptsRegisteredCloseCodes: true))
        #expect(bad.error == .invalidCloseCode(1015))
    }

    @Test func anImpossibleLengthLosesTheFraming() {
        let stream = hex("82 FF 80 00 00 00 00 00 00 00 01 02 03 04") + Self.close1009Answer
        for chunks in allSplits(stream) {
            let (error, closed, discarded) = run(chunks)
            #expect(error == .invalidLength)
            #expect(!closed, "nothing can be followed after a length with its top bit set")
            #expect(discarded <= stream.count)
        }
    }

    @Test func nothingIsDiscardedBeforeAnError() {
        var reader = WebSocketReader()
        _ = maskedText("fine").withUnsafeBytes { reader.feed($0) { _ in } }
        #expect(reader.discardedBytes == 0)
        #expect(!reader.peerClosedAfterError)
    }
}
