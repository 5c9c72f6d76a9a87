import Foundation
import Testing
@testable import ConfabChat

@Suite struct MessagingTests {
    @Test func sendBroadcastsOneEncodedMessageToTheRoom() {
        var h = Harness()
        h.now = 1_795_343_400_123
        let alice = h.welcome(1, name: "Alice")
        h.connect(2)
        let effects = h.say(1, "héllo \"world\"\n😀")
        #expect(effects.count == 1)
        guard case .broadcast(let recipients, let except, let message)? = effects.first else {
            Issue.record("no broadcast"); return
        }
        #expect(Set(recipients) == [1, 2])
        #expect(except == nil)
        let json = decode(message)
        #expect(json["type"] as? String == "message")
        #expect(json["room"] as? String == "lobby")
        #expect(json["seq"] as? Int == 1)
        #expect(json["ts"] as? String == "2026-11-22T10:30:00.123Z")
        #expect((json["from"] as? JSON)?["id"] as? String == alice.user["id"] as? String)
        #expect(json["text"] as? String == "héllo \"world\"\n😀")
        #expect(json["action"] == nil)
        #expect(message.text.hasPrefix(#"{"type":"message","room":"lobby","seq":1,"ts":"#))
    }

    @Test func seqIncreasesByOne() {
        var h = Harness()
        h.connect(1)
        let seqs = (0..<5).map { h.say(1, "m\($0)").delivered(to: 1).first?.int("seq") }
        #expect(seqs == [1, 2, 3, 4, 5])
    }

    @Test func ackEchoesIdWithItsJSONType() {
        var h = Harness()
        h.connect(1)
        let numeric = h.raw(1, #"{"type":"send","text":"a","id":7}"#).delivered(to: 1)
        #expect(numeric.map(\.type) == ["message", "ack"])
        #expect(numeric[1].text == #"{"type":"ack","re":7,"room":"lobby","seq":1}"#)
        let text = h.raw(1, #"{"type":"send","text":"b","id":"x\"1"}"#).delivered(to: 1)
        #expect(text[1].text == #"{"type":"ack","re":"x\"1","room":"lobby","seq":2}"#)
        let exact = h.raw(1, #"{"type":"send","text":"c","id":1.50e3}"#).delivered(to: 1)
        #expect(exact[1].text.contains(#""re":1.50e3"#))
        #expect(h.raw(1, #"{"type":"send","text":"d","id":null}"#).types(to: 1) == ["message"])
    }

    @Test(arguments: ["", "   ", "\n\t ", "\u{3000}"])
    func emptyMessage(_ text: String) {
        var h = Harness()
        h.connect(1)
        let got = h.request(1, ["type": "send", "text": text, "id": 3]).delivered(to: 1)
        #expect(got.map(\.type) == ["error"])
        #expect(got[0].string("code") == "empty_message")
        #expect(got[0].int("re") == 3)
    }

    @Test func messageTooLongCountsUTF8Bytes() {
        var h = Harness(ChatConfig(maxMessageBytes: 10))
        h.connect(1)
        #expect(h.say(1, "0123456789").types(to: 1) == ["message"])
        #expect(h.say(1, "ééééé").types(to: 1) == ["message"])          // 10 bytes
        let got = h.say(1, "éééééé").delivered(to: 1)                    // 12 bytes, 6 characters
        #expect(got.first?.string("code") == "message_too_long")
        let huge = h.raw(1, String(repeating: " ", count: ChatConfig(maxMessageBytes: 10).maxRequestBytes + 1))
        #expect(huge.delivered(to: 1).first?.string("code") == "message_too_long")
    }

    @Test(arguments: [
        ("not json", "invalid_json"), ("[1,2]", "invalid_json"), ("\"send\"", "invalid_json"), ("{", "invalid_json"),
        (#"{"type":"dance"}"#, "unknown_type"), (#"{"text":"hi"}"#, "invalid_request"),
        (#"{"type":5}"#, "invalid_request"), (#"{"type":"send"}"#, "invalid_request"),
        (#"{"type":"send","text":5}"#, "invalid_request"), (#"{"type":"send","text":"a","room":1}"#, "invalid_request"),
        (#"{"type":"send","text":"a","action":"yes"}"#, "invalid_request"), (#"{"type":"name"}"#, "invalid_request"),
        (#"{"type":"join","room":["a"]}"#, "invalid_request"), (#"{"type":"send","text":"a","id":{}}"#, "invalid_request"),
        (#"{"type":"send","text":"a","id":true}"#, "invalid_request"),
    ])
    func malformedRequests(_ text: String, _ code: String) {
        var h = Harness()
        h.connect(1)
        let got = h.raw(1, text).delivered(to: 1)
        #expect(got.count == 1)
        #expect(got.first?.type == "error")
        #expect(got.first?.string("code") == code)
        let message = got.first?.string("message") ?? ""
        #expect(!message.isEmpty)
    }

    @Test func errorsEchoIdWhenTheRequestHadOne() {
        var h = Harness()
        h.connect(1)
        let got = h.raw(1, #"{"type":"dance","id":"abc","extra":{"nested":[1]}}"#).delivered(to: 1)
        #expect(got.first?.text == #"{"type":"error","code":"unknown_type","message":"unknown request type; see /help","re":"abc"}"#)
    }

    @Test func unknownFieldsAreIgnored() {
        var h = Harness()
        h.connect(1)
        #expect(h.raw(1, #"{"type":"send","text":"x","color":"red","meta":{"a":[null]}}"#).types(to: 1) == ["message"])
    }

    @Test func historyKeepsTheLastMessagesOldestFirst() {
        var h = Harness(ChatConfig(historySize: 3))
        h.connect(1)
        for index in 1...5 { h.say(1, "m\(index)") }
        #expect(h.machine.historyCount(of: "lobby") == 3)
        let got = h.connect(2).delivered(to: 2)
        let messages = (got[2]["messages"] as? [JSON]) ?? []
        #expect(messages.compactMap { $0["text"] as? String } == ["m3", "m4", "m5"])
        #expect(messages.compactMap { $0["seq"] as? Int } == [3, 4, 5])
        #expect(got[2].text.hasPrefix(#"{"type":"history","room":"lobby","lastSeq":5,"messages":[{"type":"message","room":"lobby","seq":3,"#))
    }

    @Test func zeroHistory() {
        var h = Harness(ChatConfig(historySize: 0))
        h.connect(1)
        h.say(1, "gone")
        let history = h.connect(2).delivered(to: 2)[2]
        #expect((history["messages"] as? [Any])?.isEmpty == true)
        // Nothing kept, but the room's seq says a message was sent (docs/PROTOCOL.md, history).
        #expect(history["lastSeq"] as? Int == 1)
    }

    @Test func meSendsAnAction() {
        var h = Harness()
        h.connect(1); h.connect(2)
        let got = h.say(1, "/me  waves ").delivered(to: 2)
        #expect(got.first?.string("text") == "waves")
        #expect(got.first?["action"] as? Bool == true)
        #expect(got.first?.text.hasSuffix(#""text":"waves","action":true}"#) == true)
        let structured = h.request(1, ["type": "send", "text": "waves", "action": true]).delivered(to: 2)
        #expect(structured.first?["action"] as? Bool == true)
        #expect(h.say(1, "/me").delivered(to: 1).first?.string("code") == "empty_message")
    }

    @Test func doubleSlashSendsALiteralSlash() {
        var h = Harness()
        h.connect(1)
        #expect(h.say(1, "//join x").delivered(to: 1).first?.string("text") == "/join x")
    }

    @Test func textArrivesExactlyAsSent() {
        var h = Harness()
        h.connect(1)
        let text = "  tabs\tand \u{0}nul \u{7f} \\ \u{2028} 𝄞  "
        #expect(h.say(1, text).delivered(to: 1).first?.string("text") == text)
    }
}
