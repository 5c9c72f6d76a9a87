import Testing
@testable import ConfabProtocol

@Suite struct ChatTextTests {
    func render(_ json: String, offset: Int = 0) -> [String] {
        // Clients show nothing for what they cannot parse.
        ProtocolV1.decodeMessage(Array(json.utf8)).map { ChatText.render($0, utcOffsetSeconds: offset).map(\.text) } ?? []
    }

    @Test func messageLineWithLocalTime() {
        let json = #"{"type":"message","room":"lobby","seq":7,"ts":"2026-11-22T10:30:02.123Z","from":{"id":"u1","name":"Alice"},"text":"hello"}"#
        #expect(render(json) == ["10:30:02 [lobby] Alice: hello"])
        #expect(render(json, offset: 3600) == ["11:30:02 [lobby] Alice: hello"])
        #expect(render(json, offset: -11 * 3600) == ["23:30:02 [lobby] Alice: hello"])
        let line = ChatText.render(decoded(json)).first
        #expect(line?.room == "lobby" && line?.seq == 7 && line?.kind == .message)
    }

    @Test func actionsAndMultilineMessages() {
        let action = #"{"type":"message","room":"dev","seq":1,"ts":"2026-11-22T00:00:00.000Z","from":{"id":"u","name":"Bob"},"text":"waves","action":true}"#
        #expect(render(action) == ["00:00:00 [dev] * Bob waves"])
        let multi = #"{"type":"message","room":"dev","seq":2,"ts":"2026-11-22T00:00:00.000Z","from":{"id":"u","name":"Bob"},"text":"one\ntwo"}"#
        #expect(render(multi) == ["00:00:00 [dev] Bob: one\n               two"])
    }

    @Test func presenceRepliesAndErrors() {
        #expect(render(#"{"type":"presence","room":"lobby","changes":[{"event":"join","user":{"id":"u","name":"Bob"}},{"event":"leave","user":{"id":"v","name":"Al"}}]}"#) == ["[lobby] -- Bob joined", "[lobby] -- Al left"])
        #expect(render(#"{"type":"presence","room":"lobby","changes":[{"event":"rename","user":{"id":"u","name":"Rob"},"oldName":"Bob"}]}"#)
            == ["[lobby] -- Bob is now known as Rob"])
        #expect(render(#"{"type":"users","room":"lobby","users":[{"id":"a","name":"A"},{"id":"b","name":"B"}]}"#) == ["-- In lobby (2): A, B"])
        #expect(render(#"{"type":"rooms","rooms":[{"name":"dev","users":2},{"name":"lobby","users":5}]}"#) == ["-- Rooms: dev (2), lobby (5)"])
        #expect(render(#"{"type":"error","code":"name_taken","message":"Bob is taken"}"#) == ["!! Bob is taken (name_taken)"])
        #expect(ChatText.render(decoded(#"{"type":"error","code":"x","message":"m"}"#)).first?.kind == .error)
        #expect(render(#"{"type":"system","text":"a\nb"}"#) == ["-- a", "-- b"])
        #expect(render(#"{"type":"ack","re":1,"room":"lobby","seq":3}"#).isEmpty)
        #expect(render("not json").isEmpty)
    }

    @Test func historyRendersEachMessage() {
        let json = #"{"type":"history","room":"lobby","messages":[{"type":"message","room":"lobby","seq":1,"ts":"2026-11-22T10:00:00.000Z","from":{"id":"u","name":"A"},"text":"x"},{"type":"message","room":"lobby","seq":2,"ts":"2026-11-22T10:00:01.000Z","from":{"id":"u","name":"B"},"text":"y"}]}"#
        #expect(render(json) == ["10:00:00 [lobby] A: x", "10:00:01 [lobby] B: y"])
    }
}
