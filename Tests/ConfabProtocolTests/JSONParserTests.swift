import Foundation
import Testing
@testable import ConfabProtocol

@Suite struct JSONParserTests {
    @Test func scalars() {
        #expect(JSONParser.parse("null") == .null)
        #expect(JSONParser.parse(" true ") == .bool(true))
        #expect(JSONParser.parse("false") == .bool(false))
        #expect(JSONParser.parse("-12.5e+3") == .number("-12.5e+3"))
        #expect(JSONParser.parse("0") == .number("0"))
        #expect(JSONParser.parse("\"hi\"") == .string("hi"))
    }

    @Test func objectsAndArrays() {
        guard case .object(let object)? = JSONParser.parse(#"{"a":[1,{"b":null}],"c":"d","a2":{}}"#) else {
            Issue.record("not an object"); return
        }
        #expect(object["c"] == .string("d"))
        #expect(object["a"] == .array([.number("1"), .object(JSONObject(members: [("b", .null)]))]))
        #expect(object["a2"] == .object(JSONObject(members: [])))
        #expect(JSONParser.parse("[]") == .array([]))
    }

    @Test func duplicateKeyLastWins() {
        guard case .object(let object)? = JSONParser.parse(#"{"k":1,"k":2}"#) else { Issue.record("no object"); return }
        #expect(object["k"] == .number("2"))
    }

    @Test func escapes() {
        #expect(JSONParser.parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{8}\u{c}\n\r\t"))
        #expect(JSONParser.parse(#""\u00e9\u20AC""#) == .string("é€"))
        #expect(JSONParser.parse(#""\ud83d\ude00 ok""#) == .string("😀 ok"))
        #expect(JSONParser.parse("\"é😀\"") == .string("é😀"))
        #expect(JSONParser.parse(#""\u0000""#) == .string("\u{0}"))
    }

    @Test(arguments: [
        "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "-", "1.", ".5", "1e", "+1",
        "tru", "nul", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud83d\"", "\"\\ude00\"", "\"\\ud83d\\u0041\"",
        "\"a\u{1}b\"", "[1 2]", "{} {}", "1 2", "'a'", "NaN", "[", "{\"a\":}", "\"\\", "\"\\u",
    ])
    func rejectsMalformed(_ text: String) {
        #expect(JSONParser.parse(text) == nil)
    }

    @Test func depthLimit() {
        let ok = String(repeating: "[", count: JSONParser.maxDepth) + String(repeating: "]", count: JSONParser.maxDepth)
        let deep = String(repeating: "[", count: JSONParser.maxDepth + 1) + String(repeating: "]", count: JSONParser.maxDepth + 1)
        #expect(JSONParser.parse(ok) != nil)
        #expect(JSONParser.parse(deep) == nil)
        #expect(JSONParser.parse(String(repeating: "{\"a\":", count: 10_000)) == nil)
    }

    @Test func sizeBound() {
        #expect(JSONParser.parse("[1]", maxBytes: 3) != nil)
        #expect(JSONParser.parse("[1] ", maxBytes: 3) == nil)
        #expect(JSONParser.parse(bytes: [UInt8](repeating: 0x20, count: JSONParser.maxBytes + 1)) == nil)
    }

    @Test func neverTrapsOnRandomBytes() {
        var random = SeededRandom(seed: 7)
        let alphabet = Array("{}[]\":,\\u0123456789abcdefEe+-.tnrl \u{1}".utf8) + [0xC3, 0xA9, 0xFF, 0xED, 0xA0]
        for _ in 0..<20_000 {
            let length = Int(random.next(upperBound: UInt64(40)))
            var bytes: [UInt8] = []
            for _ in 0..<length {
                bytes.append(random.next(upperBound: UInt64(4)) == 0
                    ? UInt8(truncatingIfNeeded: random.next())
                    : alphabet[Int(random.next(upperBound: UInt64(alphabet.count)))])
            }
            _ = JSONParser.parse(bytes: bytes)
        }
    }

    @Test func agreesWithFoundationOnValidDocuments() throws {
        let document: JSON = ["s": "a\"b\\c\n\u{1}é😀", "n": 12, "a": [true, false, NSNull()], "o": ["x": -1.5]]
        let data = try JSONSerialization.data(withJSONObject: document)
        guard case .object(let object)? = JSONParser.parse(bytes: Array(data)) else { Issue.record("no object"); return }
        #expect(object["s"] == .string("a\"b\\c\n\u{1}é😀"))
        #expect(object["a"] == .array([.bool(true), .bool(false), .null]))
    }
}

@Suite struct JSONWriterTests {
    @Test func escaping() {
        let quoted = String(decoding: JSONWriter.quoted("a\"b\\c\n\u{1}\u{1f}é😀/"), as: UTF8.self)
        #expect(quoted == #""a\"b\\c\u000a\u0001\u001fé😀/""#)
        let back = try? JSONSerialization.jsonObject(with: Data(quoted.utf8), options: .fragmentsAllowed) as? String
        #expect(back == "a\"b\\c\n\u{1}\u{1f}é😀/")
    }

    @Test func structure() {
        var w = JSONWriter()
        w.beginObject()
        w.key("a"); w.int(-42)
        w.key("b"); w.beginArray(); w.uint(0); w.uint(UInt64.max); w.bool(true); w.endArray()
        w.key("c"); w.beginObject(); w.endObject()
        w.key("d"); w.double(0.5)
        w.key("e"); w.double(5)
        w.endObject()
        #expect(String(decoding: w.bytes, as: UTF8.self) == #"{"a":-42,"b":[0,18446744073709551615,true],"c":{},"d":0.5,"e":5}"#)
    }

    /// The two-string object (users) is separated and escaped like key/string would do it.
    @Test func twoStringObject() {
        var w = JSONWriter()
        w.beginArray()
        w.object("{\"id\":", "u1", ",\"name\":", "Al")
        w.object("{\"id\":", "a\"b", ",\"name\":", "c\\d\n")
        w.endArray()
        #expect(String(decoding: w.bytes, as: UTF8.self) == #"[{"id":"u1","name":"Al"},{"id":"a\"b","name":"c\\d\u000a"}]"#)
        let users = ProtocolV1.encode(.users(UserList(room: "r", count: 1, users: [ChatUser(id: "x\"", name: "Bob")], full: true), re: nil))
        #expect(String(decoding: users, as: UTF8.self) == #"{"type":"users","room":"r","mode":"full","count":1,"users":[{"id":"x\"","name":"Bob"}]}"#)
    }
}

@Suite struct TimestampTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (1_795_343_400_123, "2026-11-22T10:30:00.123Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),        // leap year divisible by 400
        (1_709_164_799_999, "2024-02-28T23:59:59.999Z"),
        (1_709_164_800_000, "2024-02-29T00:00:00.000Z"),      // ordinary leap year
        (1_709_251_200_000, "2024-03-01T00:00:00.000Z"),
        (-2_203_891_200_000, "1900-03-01T00:00:00.000Z"),     // 1900 is not a leap year
        (-1, "1969-12-31T23:59:59.999Z"),
        (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),      // 2100 is not a leap year
        (1_735_689_599_999, "2024-12-31T23:59:59.999Z"),
    ])
    func formats(_ ms: Int64, _ expected: String) {
        #expect(Timestamp.iso8601(epochMilliseconds: ms) == expected)
    }

    @Test func agreesWithFoundationOverManyDays() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        var ms: Int64 = -5_000_000_000_000
        while ms < 10_000_000_000_000 {
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
            #expect(Timestamp.iso8601(epochMilliseconds: ms) == expected)
            ms += 86_400_000 * 97 + 3_600_123
        }
    }
}
