import Testing
@testable import ConfabCodec

@Suite struct WebSocketReaderExampleTests {
    @Test func rfcSingleFrameUnmasked() {
        let result = decode(hex("81 05 48 65 6c 6c 6f"), limits: unmaskedLimits)
        #expect(result.error == nil)
        #expect(result.messages == [.text(Array("Hello".utf8))])
    }

    @Test func rfcSingleFrameMasked() {
        let result = decode(hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"))
        #expect(result.error == nil)
        #expect(result.messages == [.text(Array("Hello".utf8))])
    }

    @Test func rfcFragmentedUnmasked() {
        let result = decode(hex("01 03 48 65 6c 80 02 6c 6f"), limits: unmaskedLimits)
        #expect(result.messages == [.text(Array("Hello".utf8))])
        #expect(result.error == nil)
    }

    @Test func rfcPingAndMaskedPong() {
        let unmaskedPing = decode(hex("89 05 48 65 6c 6c 6f"), limits: unmaskedLimits)
        #expect(unmaskedPing.messages == [.ping(Array("Hello".utf8))])
        let maskedPong = decode(hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58"))
        #expect(maskedPong.messages == [.pong(Array("Hello".utf8))])
    }

    @Test func rfc256ByteBinaryWith16BitLength() {
        let payload = (0..<256).map { UInt8($0) }
        let unmasked = hex("82 7E 01 00") + payload
        #expect(decode(unmasked, limits: unmaskedLimits).messages == [.binary(payload)])
        #expect(decode(rawFrame(opcode: 2, payload: payload)).messages == [.binary(payload)])
    }

    @Test func rfc64KiBBinaryWith64BitLength() {
        let payload = (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let unmasked = hex("82 7F 00 00 00 00 00 01 00 00") + payload
        #expect(decode(unmasked, limits: unmaskedLimits).messages == [.binary(payload)])
        let masked = rawFrame(opcode: 2, payload: payload)
        #expect(masked[1] == 0xFF)
        #expect(decode(masked).messages == [.binary(payload)])
    }

    @Test func maskedFramesAreAcceptedWhenMaskingIsNotRequired() {
        #expect(decode(hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"), limits: unmaskedLimits).messages
            == [.text(Array("Hello".utf8))])
    }

    /// Ping, fragmented text with an interleaved ping, 16-bit binary, close:
    /// every cut into two reads and one byte per read gives the same messages.
    @Test func everyReadBoundaryGivesTheSameMessages() {
        let binary = (0..<300).map { UInt8(truncatingIfNeeded: $0) }
        let stream = rawFrame(opcode: 9, payload: Array("p".utf8))
            + rawFrame(opcode: 1, payload: Array("héllo ".utf8), fin: false)
            + rawFrame(opcode: 9, payload: [], mask: [1, 2, 3, 4])
            + rawFrame(opcode: 0, payload: Array("wörld €𝄞".utf8), mask: [9, 8, 7, 6])
            + rawFrame(opcode: 2, payload: binary)
            + rawFrame(opcode: 1, payload: [])
            + rawFrame(opcode: 8, payload: [0x03, 0xE8] + Array("bye".utf8))
        let expected: [WebSocketMessage] = [
            .ping(Array("p".utf8)),
            .ping([]),
            .text(Array("héllo wörld €𝄞".utf8)),
            .binary(binary),
            .text([]),
            .close(code: 1000, reason: "bye"),
        ]
        #expect(decode(stream).messages == expected)
        for chunks in allSplits(stream) {
            let result = decode(chunks)
            #expect(result.error == nil)
            #expect(result.messages == expected, "split \(chunks.map(\.count))")
        }
    }

    @Test func sixtyFourBitFrameSplitAtEveryHeaderByte() {
        let payload = [UInt8](repeating: 0x41, count: 70_000)
        let frame = rawFrame(opcode: 1, payload: payload)
        for k in 0...20 {
            let result = decode([Array(frame[..<k]), Array(frame[k...])], limits: WebSocketLimits(maxFrameBytes: 1 << 20, maxMessageBytes: 1 << 20))
            #expect(result.messages == [.text(payload)])
        }
    }

    @Test func manyFramesInOneRead() {
        var stream: [UInt8] = []
        for i in 0..<100 { stream += maskedText("message \(i)") }
        let result = decode(stream)
        #expect(result.messages.count == 100)
        #expect(result.messages.last == .text(Array("message 99".utf8)))
    }

    @Test func nothingIsReadAfterClose() {
        let stream = rawFrame(opcode: 8, payload: [0x03, 0xE8]) + hex("ff ff ff")
        var reader = WebSocketReader()
        var messages: [WebSocketMessage] = []
        let error = stream.withUnsafeBytes { reader.feed($0) { messages.append($0) } }
        #expect(error == nil)
        #expect(reader.isClosed)
        #expect(messages == [.close(code: 1000, reason: "")])
        let later = maskedText("late").withUnsafeBytes { reader.feed($0) { messages.append($0) } }
        #expect(later == nil)
        #expect(messages.count == 1)
    }

    @Test func emptyCloseHasNoCode() {
        #expect(decode(rawFrame(opcode: 8, payload: [])).messages == [.close(code: nil, reason: "")])
    }

    @Test func closeWithUTF8Reason() {
        let payload: [UInt8] = [0x0F, 0xA0] + Array("¡adiós!".utf8)
        #expect(decode(rawFrame(opcode: 8, payload: payload)).messages == [.close(code: 4000, reason: "¡adiós!")])
    }

    @Test func emptyInputIsHarmless() {
        var reader = WebSocketReader()
        let error = [UInt8]().withUnsafeBytes { reader.feed($0) { _ in Issue.record("no message expected") } }
        #expect(error == nil)
    }

    @Test func conformanceLimitsAllowSixtyFiveThousandFragments() {
        var stream = rawFrame(opcode: 1, payload: [0x61], fin: false)
        let fragment = rawFrame(opcode: 0, payload: [0x61], fin: false)
        for _ in 0..<65_534 { stream += fragment }
        stream += rawFrame(opcode: 0, payload: [0x61], fin: true)
        let result = decode(stream, limits: .conformance)
        #expect(result.error == nil)
        #expect(result.messages == [.text([UInt8](repeating: 0x61, count: 65_536))])
    }
}

@Suite struct WebSocketReaderFootprintTests {
    /// Idle connections must stay far under 1 KiB: no buffers until a frame needs one.
    @Test func idleStateIsSmall() {
        #expect(MemoryLayout<WebSocketReader>.size <= 128)
        #expect(MemoryLayout<HTTPRequestParser>.size <= 64)
    }

    @Test func buffersAreReleasedAfterAMessage() {
        var reader = WebSocketReader()
        let frame = rawFrame(opcode: 1, payload: [UInt8](repeating: 0x61, count: 1000))
        var count = 0
        // Split so the payload goes through the reassembly buffer.
        for piece in [Array(frame[..<500]), Array(frame[500...])] {
            let error = piece.withUnsafeBytes { reader.feed($0) { _ in count += 1 } }
            #expect(error == nil)
        }
        #expect(count == 1)
        #expect(reader.bufferedBytes == 0)
    }

    /// Random frames cut at random places decode exactly like the whole stream.
    @Test func randomStreamsAtRandomCuts() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<60 {
            var stream: [UInt8] = []
            var expected: [WebSocketMessage] = []
            for _ in 0..<Int(rng.next() % 6 + 1) {
                let length = Int(rng.next() % 3 == 0 ? rng.next() % 20_000 : rng.next() % 200)
                let payload = (0..<length).map { _ in UInt8(rng.next() % 95 + 32) }
                let mask = (0..<4).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                if rng.next() % 2 == 0, length > 1 {
                    let cut = Int(rng.next() % UInt64(length))
                    stream += rawFrame(opcode: 1, payload: Array(payload[..<cut]), fin: false, mask: mask)
                    stream += rawFrame(opcode: 9, payload: [1, 2], mask: mask)
                    stream += rawFrame(opcode: 0, payload: Array(payload[cut...]), mask: mask)
                    expected += [.ping([1, 2]), .text(payload)]
                } else {
                    stream += rawFrame(opcode: 2, payload: payload, mask: mask)
                    expected.append(.binary(payload))
                }
            }
            var chunks: [[UInt8]] = []
            var offset = 0
            while offset < stream.count {
                let size = Int(rng.next() % 9000) + 1
                let end = min(stream.count, offset + size)
                chunks.append(Array(stream[offset..<end]))
                offset = end
            }
            let result = decode(chunks, limits: WebSocketLimits(maxFrameBytes: 1 << 17, maxMessageBytes: 1 << 17))
            #expect(result.error == nil)
            #expect(result.messages == expected)
        }
    }
}

/// Deterministic generator so failures reproduce.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
