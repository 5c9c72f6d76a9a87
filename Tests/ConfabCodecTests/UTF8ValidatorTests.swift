import Testing
@testable import ConfabCodec

@Suite struct UTF8ValidatorTests {
    @Test(arguments: [
        [UInt8](), [0x00], [0x7F], [0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF],
        [0xEE, 0x80, 0x80], [0xEF, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF],
        Array("κόσμε, hello, 𝄞, 😀 and a long ASCII run to cross the eight-byte path".utf8),
    ])
    func acceptsValid(bytes: [UInt8]) {
        #expect(UTF8Validator.isValid(bytes))
        #expect(String(validating: bytes, as: UTF8.self) != nil)  // agrees with the standard library
    }

    @Test(arguments: [
        [UInt8(0x80)],                // lone continuation
        [0xC0, 0x80], [0xC1, 0xBF],   // overlong 2-byte
        [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF],  // overlong 3-byte
        [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],  // surrogates
        [0xF0, 0x80, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF],  // overlong 4-byte
        [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF],  // > U+10FFFF
        [0xC2, 0x41], [0xE2, 0x82, 0x41],       // bad continuation
        [0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x80],  // after the ASCII fast path
    ])
    func rejectsInvalid(bytes: [UInt8]) {
        #expect(!UTF8Validator.isValid(bytes))
        #expect(String(validating: bytes, as: UTF8.self) == nil)
    }

    @Test(arguments: [[UInt8(0xC2)], [0xE2, 0x82], [0xF0, 0x9F, 0x98]])
    func truncatedIsIncomplete(bytes: [UInt8]) {
        var v = UTF8Validator()
        #expect(bytes.withUnsafeBufferPointer { v.validate($0) })
        #expect(!v.isComplete)
        #expect(!UTF8Validator.isValid(bytes))
    }

    @Test func carriesStateAcrossChunksAtEverySplit() {
        let text = Array("a€b𝄞c".utf8)
        for k in 0...text.count {
            var v = UTF8Validator()
            let first = Array(text[..<k]).withUnsafeBufferPointer { v.validate($0) }
            let second = Array(text[k...]).withUnsafeBufferPointer { v.validate($0) }
            #expect(first && second && v.isComplete)
        }
    }

    @Test func failsOnTheChunkHoldingTheFirstBadByte() {
        var v = UTF8Validator()
        #expect([UInt8(0xF0), 0x9F].withUnsafeBufferPointer { v.validate($0) })
        #expect(![UInt8(0x41)].withUnsafeBufferPointer { v.validate($0) })
    }
}
