import Testing
@testable import ConfabCodec

@Suite struct WebSocketReaderRuleTests {
    @Test func unmaskedClientFrameIs1002() {
        let result = decode(hex("81 05 48 65 6c 6c 6f"))
        #expect(result.error == .unmaskedFrame)
        #expect(result.error?.closeCode == 1002)
        #expect(result.messages.isEmpty)
    }

    @Test(arguments: [UInt8(1), 2, 4, 7])
    func reservedBitsAre1002(rsv: UInt8) {
        let result = decode(rawFrame(opcode: 1, payload: Array("x".utf8), rsv: rsv))
        #expect(result.error == .reservedBitsSet)
        #expect(result.error?.closeCode == 1002)
    }

    @Test(arguments: [UInt8(3), 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
    func reservedOpcodesAre1002(opcode: UInt8) {
        let result = decode(rawFrame(opcode: opcode, payload: []))
        #expect(result.error == .reservedOpcode(opcode))
        #expect(result.error?.closeCode == 1002)
    }

    @Test func controlFrameOver125Is1002FromTheHeader() {
        let frame = rawFrame(opcode: 9, payload: [UInt8](repeating: 0, count: 126))
        // Only the first two bytes are needed to refuse it.
        let result = decode(Array(frame.prefix(2)))
        #expect(result.error == .controlFrameTooLong(126))
        #expect(result.error?.closeCode == 1002)
    }

    @Test func controlFrameOf125IsFine() {
        let payload = [UInt8](repeating: 0x33, count: 125)
        #expect(decode(rawFrame(opcode: 9, payload: payload)).messages == [.ping(payload)])
    }

    @Test(arguments: [UInt8(8), 9, 0xA])
    func fragmentedControlFrameIs1002(opcode: UInt8) {
        let result = decode(rawFrame(opcode: opcode, payload: [], fin: false))
        #expect(result.error == .fragmentedControlFrame)
        #expect(result.error?.closeCode == 1002)
    }

    @Test func continuationWithoutMessageIs1002() {
        let result = decode(maskedText("x", continuation: true))
        #expect(result.error == .continuationWithoutMessage)
        #expect(result.error?.closeCode == 1002)
    }

    @Test func continuationAfterAFinishedMessageIs1002() {
        let result = decode(maskedText("done") + maskedText("x", continuation: true))
        #expect(result.messages == [.text(Array("done".utf8))])
        #expect(result.error == .continuationWithoutMessage)
    }

    @Test(arguments: [UInt8(1), 2])
    func newDataFrameInsideMessageIs1002(opcode: UInt8) {
        let result = decode(maskedText("a", fin: false) + rawFrame(opcode: opcode, payload: [0x62]))
        #expect(result.error == .dataFrameInsideMessage)
        #expect(result.error?.closeCode == 1002)
        #expect(result.messages.isEmpty)
    }

    @Test func controlFramesInsideAFragmentedMessageAreDelivered() {
        let stream = maskedText("Hel", fin: false)
            + rawFrame(opcode: 9, payload: Array("ping".utf8))
            + maskedText("l", fin: false, continuation: true)
            + rawFrame(opcode: 0xA, payload: Array("pong".utf8))
            + maskedText("o", continuation: true)
        let result = decode(stream)
        #expect(result.error == nil)
        #expect(result.messages == [.ping(Array("ping".utf8)), .pong(Array("pong".utf8)), .text(Array("Hello".utf8))])
    }

    @Test func frameOverMaxFrameBytesIs1009FromTheHeaderAlone() {
        let limits = WebSocketLimits(maxFrameBytes: 1000, maxMessageBytes: 10_000)
        let frame = rawFrame(opcode: 2, payload: [UInt8](repeating: 0, count: 1001))
        let headerOnly = Array(frame.prefix(4))  // 82 FE 03 E9, no mask or payload yet
        let result = decode(headerOnly, limits: limits)
        #expect(result.error == .frameTooBig(length: 1001, limit: 1000))
        #expect(result.error?.closeCode == 1009)
        // Exactly at the limit is fine.
        #expect(decode(rawFrame(opcode: 2, payload: [UInt8](repeating: 0, count: 1000)), limits: limits).error == nil)
    }

    @Test func hugeSixtyFourBitLengthIs1009FromTheHeader() {
        let header = hex("82 FF 00 00 00 01 00 00 00 00")
        let result = decode(header, limits: .conformance)
        #expect(result.error == .frameTooBig(length: 1 << 32, limit: 16 * 1024 * 1024))
        #expect(result.error?.closeCode == 1009)
    }

    @Test func headerFedByteByByteStillStopsBeforeThePayload() {
        let header = hex("82 FF 00 00 00 01 00 00 00 00")
        let result = decode(header.map { [$0] })
        #expect(result.error?.closeCode == 1009)
        #expect(result.feeds == header.count)
    }

    @Test func messageOverMaxMessageBytesIs1009FromTheLastHeader() {
        let limits = WebSocketLimits(maxFrameBytes: 100, maxMessageBytes: 150)
        let first = rawFrame(opcode: 2, payload: [UInt8](repeating: 1, count: 100), fin: false)
        let second = rawFrame(opcode: 0, payload: [UInt8](repeating: 2, count: 51))
        let result = decode([first, Array(second.prefix(2))], limits: limits)
        #expect(result.error == .messageTooBig(length: 151, limit: 150))
        #expect(result.error?.closeCode == 1009)
    }

    @Test func tooManyFragmentsIs1009() {
        let limits = WebSocketLimits(maxFragments: 3)
        let fragment = rawFrame(opcode: 0, payload: [0x61], fin: false)
        let ok = rawFrame(opcode: 1, payload: [0x61], fin: false) + fragment + rawFrame(opcode: 0, payload: [0x61])
        #expect(decode(ok, limits: limits).messages == [.text(Array("aaa".utf8))])
        let tooMany = rawFrame(opcode: 1, payload: [0x61], fin: false) + fragment + fragment + rawFrame(opcode: 0, payload: [0x61])
        let result = decode(tooMany, limits: limits)
        #expect(result.error == .tooManyFragments(limit: 3))
        #expect(result.error?.closeCode == 1009)
    }

    @Test func sixtyFourBitLengthWithTopBitIs1002() {
        let result = decode(hex("82 FF 80 00 00 00 00 00 00 01"), limits: .conformance)
        #expect(result.error == .invalidLength)
        #expect(result.error?.closeCode == 1002)
    }

    @Test func invalidUTF8InTextIs1007() {
        let result = decode(rawFrame(opcode: 1, payload: [0x61, 0xFF, 0x62]))
        #expect(result.error == .invalidUTF8)
        #expect(result.error?.closeCode == 1007)
    }

    @Test func invalidUTF8IsFoundInTheFirstFragmentBeforeTheLastArrives() {
        let first = rawFrame(opcode: 1, payload: [0x61, 0xC0, 0x80], fin: false)
        let result = decode([first])
        #expect(result.error == .invalidUTF8)
    }

    @Test func invalidUTF8IsFoundBeforeTheFrameEnds() {
        // A 100-byte frame whose second byte is bad: reading 6 header bytes and 2 payload bytes is enough.
        let frame = rawFrame(opcode: 1, payload: [0x61, 0xFF] + [UInt8](repeating: 0x61, count: 98))
        let result = decode(Array(frame.prefix(8)))
        #expect(result.error == .invalidUTF8)
    }

    @Test func validSequenceSplitAcrossFramesIsAccepted() {
        let euro: [UInt8] = [0xE2, 0x82, 0xAC]
        let stream = rawFrame(opcode: 1, payload: [euro[0]], fin: false)
            + rawFrame(opcode: 0, payload: [euro[1]], fin: false)
            + rawFrame(opcode: 0, payload: [euro[2]])
        #expect(decode(stream).messages == [.text(euro)])
    }

    @Test func invalidSequenceSplitAcrossFramesIs1007() {
        // E2 then a second fragment starting with a non-continuation byte.
        let stream = rawFrame(opcode: 1, payload: [0xE2], fin: false)
            + rawFrame(opcode: 0, payload: [0x28, 0xA1])
        let result = decode(stream)
        #expect(result.error == .invalidUTF8)
    }

    @Test func truncatedSequenceAtMessageEndIs1007() {
        let stream = rawFrame(opcode: 1, payload: [0x61, 0xE2, 0x82], fin: false) + rawFrame(opcode: 0, payload: [])
        #expect(decode(stream).error == .invalidUTF8)
        #expect(decode(rawFrame(opcode: 1, payload: [0xF0, 0x9F, 0x98])).error == .invalidUTF8)
    }

    @Test func binaryIsNotValidatedAsUTF8() {
        #expect(decode(rawFrame(opcode: 2, payload: [0xFF, 0xFE])).messages == [.binary([0xFF, 0xFE])])
    }

    @Test func closePayloadOfOneByteIs1002() {
        let frame = rawFrame(opcode: 8, payload: [0x03])
        let result = decode(Array(frame.prefix(2)))
        #expect(result.error == .invalidClosePayload)
        #expect(result.error?.closeCode == 1002)
    }

    @Test(arguments: [UInt16(0), 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 2000, 2999, 5000, 65535])
    func invalidCloseCodesAre1002(code: UInt16) {
        let result = decode(rawFrame(opcode: 8, payload: [UInt8(code >> 8), UInt8(code & 0xFF)]))
        #expect(result.error == .invalidCloseCode(code))
        #expect(result.error?.closeCode == 1002)
    }

    @Test(arguments: [UInt16(1000), 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999])
    func validCloseCodesAreDelivered(code: UInt16) {
        let result = decode(rawFrame(opcode: 8, payload: [UInt8(code >> 8), UInt8(code & 0xFF)]))
        #expect(result.error == nil)
        #expect(result.messages == [.close(code: code, reason: "")])
    }

    @Test func invalidUTF8InCloseReasonIs1007() {
        let result = decode(rawFrame(opcode: 8, payload: [0x03, 0xE8, 0xCE, 0xBA, 0xE1, 0xBD]))
        #expect(result.error == .invalidCloseReason)
        #expect(result.error?.closeCode == 1007)
    }

    @Test func theFirstErrorStopsEverything() {
        var reader = WebSocketReader()
        var messages: [WebSocketMessage] = []
        let stream = maskedText("ok") + hex("81 05 48 65 6c 6c 6f") + maskedText("never")
        let first = stream.withUnsafeBytes { reader.feed($0) { messages.append($0) } }
        let second = maskedText("later").withUnsafeBytes { reader.feed($0) { messages.append($0) } }
        #expect(first == .unmaskedFrame)
        #expect(second == .unmaskedFrame)
        #expect(messages == [.text(Array("ok".utf8))])
    }

    @Test func closeCodeHelpers() {
        #expect(CloseCode.normalClosure == 1000)
        #expect(CloseCode.goingAway == 1001)
        #expect(CloseCode.protocolError == 1002)
        #expect(CloseCode.unsupportedData == 1003)
        #expect(CloseCode.invalidPayload == 1007)
        #expect(CloseCode.policyViolation == 1008)
        #expect(CloseCode.messageTooBig == 1009)
        #expect(CloseCode.internalError == 1011)
        #expect(CloseCode.tryAgainLater == 1013)
        #expect(CloseCode.isValidReceived(1000))
        #expect(!CloseCode.isValidReceived(1005))
    }
}
