import Testing
@testable import ConfabCodec

@Suite struct FrameEncoderTests {
    @Test func rfcUnmaskedHello() {
        #expect(FrameEncoder.serverText(Array("Hello".utf8)) == hex("81 05 48 65 6c 6c 6f"))
    }

    @Test func rfcMaskedHello() {
        #expect(FrameEncoder.encode(opcode: .text, payload: Array("Hello".utf8), mask: 0x37FA_213D)
            == hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"))
    }

    @Test func rfcFragments() {
        #expect(FrameEncoder.encode(opcode: .text, payload: Array("Hel".utf8), fin: false) == hex("01 03 48 65 6c"))
        #expect(FrameEncoder.encode(opcode: .continuation, payload: Array("lo".utf8)) == hex("80 02 6c 6f"))
    }

    @Test func rfcPingAndPong() {
        #expect(FrameEncoder.ping(payload: Array("Hello".utf8)) == hex("89 05 48 65 6c 6c 6f"))
        #expect(FrameEncoder.pong(payload: Array("Hello".utf8), mask: 0x37FA_213D)
            == hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58"))
    }

    @Test func sixteenBitLength() {
        let payload = [UInt8](repeating: 7, count: 256)
        let frame = FrameEncoder.encode(opcode: .binary, payload: payload)
        #expect(Array(frame.prefix(4)) == hex("82 7E 01 00"))
        #expect(frame.count == 4 + 256)
        #expect(Array(frame.dropFirst(4)) == payload)
    }

    @Test func sixtyFourBitLength() {
        let payload = [UInt8](repeating: 9, count: 65536)
        let frame = FrameEncoder.encode(opcode: .binary, payload: payload)
        #expect(Array(frame.prefix(10)) == hex("82 7F 00 00 00 00 00 01 00 00"))
        #expect(frame.count == 10 + 65536)
    }

    @Test(arguments: [0, 125, 126, 65535, 65536])
    func lengthBoundaries(length: Int) {
        let frame = FrameEncoder.serverText([UInt8](repeating: 0x61, count: length))
        #expect(frame.count == FrameEncoder.headerLength(payloadLength: length) + length)
        #expect(FrameEncoder.header(opcode: .text, payloadLength: length) == Array(frame.prefix(frame.count - length)))
    }

    @Test func serverTextHasExactCapacityWorth() {
        let frame = FrameEncoder.serverText(Array("hi".utf8))
        #expect(frame == hex("81 02 68 69"))
    }

    @Test func closeFrames() {
        #expect(FrameEncoder.closeFrame(code: 1000) == hex("88 02 03 e8"))
        #expect(FrameEncoder.closeFrame(code: nil) == hex("88 00"))
        #expect(FrameEncoder.closeFrame(code: 1001, reason: "bye") == hex("88 05 03 e9 62 79 65"))
    }

    @Test func closeReasonIsCutOnAScalarBoundary() {
        let frame = FrameEncoder.closeFrame(code: 1000, reason: String(repeating: "é", count: 100))
        #expect(frame[1] == 124)  // 2 code bytes + 61 two-byte scalars
        #expect(UTF8Validator.isValid(frame[4...]))
    }

    @Test func maskedRoundTripThroughReader() {
        let payload = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let frame = FrameEncoder.encode(opcode: .binary, payload: payload, mask: 0x0102_0304)
        #expect(decode(frame).messages == [.binary(payload)])
    }
}
