import Foundation
import Testing
@testable import ConfabProtocol

@Suite struct PixIDEDialectTests {
    func decode(_ text: String, maxBytes: Int = 4096) -> PixIDEDialect.Request {
        PixIDEDialect.decodeRequest(Array(text.utf8), maxBytes: maxBytes)
    }

    func failure(_ text: String) -> ChatErrorCode? {
        guard case .chat(let decoded) = decode(text), case .failure(let error) = decoded.result else { return nil }
        #expect(decoded.re == nil)
        return error.code
    }

    /// Each payload parsed by Foundation, independently of our writer.
    func objects(_ message: ServerMessage, recipient: String? = nil) -> [JSON] {
        PixIDEDialect.encode(message, recipient: recipient).map { bytes in
            (try? JSONSerialization.jsonObject(with: Data(bytes))) as? JSON ?? ["unparsable": String(decoding: bytes, as: UTF8.self)]
        }
    }

    func texts(_ message: ServerMessage, recipient: String? = nil) -> [String] {
        PixIDEDialect.encode(message, recipient: recipient).map { String(decoding: $0, as: UTF8.self) }
    }

    // MARK: Requests

    @Test func joinWithAndWithoutRoom() {
        #expect(decode(#"{"type":"join","userId":"user_abc123","roomId":"room_name"}"#)
            == .join(userId: "user_abc123", room: "room_name"))
        #expect(decode(#"{"type":"join","userId":"user_abc123"}"#) == .join(userId: "user_abc123", room: nil))
        #expect(decode(#"{"type":"join","userId":"u","roomId":null}"#) == .join(userId: "u", room: nil))
        // Unknown keys are ignored; the userId is passed on as sent (the machine trims and judges it).
        #expect(decode(#"{"roomId":"r","extra":[1,{}],"type":"join","userId":" Zoë "}"#) == .join(userId: " Zoë ", room: "r"))
    }

    @Test func chatMessageIsALiteralSend() {
        #expect(decode(#"{"type":"chat_message","userId":"u","content":"Hello everyone!"}"#)
            == .chat(DecodedRequest(.success(.send(text: "Hello everyone!", room: nil, action: false)))))
        // PixIDE has no commands: a leading slash is text, not /join.
        #expect(decode(#"{"type":"chat_message","userId":"u","content":"/join dev"}"#)
            == .chat(DecodedRequest(.success(.send(text: "/join dev", room: nil, action: false)))))
        // Emptiness and length are the machine's to judge, as for every dialect.
        #expect(decode(#"{"type":"chat_message","content":"  "}"#)
            == .chat(DecodedRequest(.success(.send(text: "  ", room: nil, action: false)))))
        #expect(decode(#"{"type":"chat_message","content":"a\"b\n\u00e9\ud83d\ude00"}"#)
            == .chat(DecodedRequest(.success(.send(text: "a\"b\né😀", room: nil, action: false)))))
    }

    @Test func switchRoomIsAJoin() {
        #expect(decode(#"{"type":"switch_room","userId":"u","roomId":"new_room"}"#)
            == .chat(DecodedRequest(.success(.join("new_room")))))
    }

    @Test(arguments: [
        ("not json", ChatErrorCode.invalidJSON), ("[1]", .invalidJSON), (#""join""#, .invalidJSON), ("", .invalidJSON),
        (#"{"type":"join","userId":"u"} x"#, .invalidJSON),
        ("{}", .invalidRequest), (#"{"type":7}"#, .invalidRequest),
        (#"{"type":"join"}"#, .invalidRequest), (#"{"type":"join","userId":5}"#, .invalidRequest),
        (#"{"type":"join","userId":"u","roomId":5}"#, .invalidRequest),
        (#"{"type":"chat_message","userId":"u"}"#, .invalidRequest),
        (#"{"type":"chat_message","content":null}"#, .invalidRequest),
        (#"{"type":"switch_room","userId":"u"}"#, .invalidRequest),
        (#"{"type":"switch_room","roomId":["a"]}"#, .invalidRequest),
        (#"{"type":"send","text":"v1 is not PixIDE"}"#, .unknownType), (#"{"type":"JOIN","userId":"u"}"#, .unknownType),
    ])
    func badRequests(_ text: String, _ code: ChatErrorCode) {
        #expect(failure(text) == code)
    }

    @Test func oversizedFramesAreRefusedUnparsed() {
        let big = #"{"type":"chat_message","content":""# + String(repeating: "x", count: 100) + #""}"#
        #expect(failure(big) == nil)  // fits the default bound
        guard case .chat(let decoded) = decode(big, maxBytes: 64), case .failure(let error) = decoded.result else {
            Issue.record("accepted"); return
        }
        #expect(error.code == .messageTooLong)
    }

    @Test func neverTrapsOnRandomBytes() {
        var random = SeededRandom(seed: 4)
        let pieces = [#"{"type":"#, #""join""#, #""chat_message""#, #""switch_room""#, #","userId":"#, #","roomId":"#,
                      #","content":"#, #""x""#, "null", "}", "{", "[", "]", "\\u", "\"", ",", ":", "1e9"]
        for _ in 0..<3000 {
            var text = ""
            for _ in 0..<Int(random.next() % 12) { text += pieces[Int(random.next() % UInt64(pieces.count))] }
            _ = decode(text)
        }
    }

    // MARK: Messages

    @Test func welcomeIsTheJoinConfirmation() {
        let welcome = Welcome(user: ChatUser(id: "uX", name: "user_abc123"), room: "room_name", rooms: ["room_name"],
                              token: "t", resumed: false, server: "Confab",
                              limits: .init(maxMessageBytes: 1, historySize: 1, maxRoomsPerUser: 1, ratePerSecond: 1,
                                            rateBurst: 1, resumeGraceSeconds: 1))
        #expect(texts(.welcome(welcome))
            == [#"{"type":"joined","roomId":"room_name","userId":"user_abc123","message":"Joined room: room_name"}"#])
    }

    @Test func joinedNamesTheRecipient() {
        #expect(texts(.joined(room: "new_room", re: nil), recipient: "user_abc123")
            == [#"{"type":"joined","roomId":"new_room","userId":"user_abc123","message":"Joined room: new_room"}"#])
        #expect(objects(.joined(room: "r", re: nil)).first?["userId"] == nil)
    }

    @Test func chatMessageCarriesNameRoomContentAndTimestamp() {
        let message = ChatMessage(room: "room_name", seq: 3, timestamp: 1_701_945_000_000,
                                  from: ChatUser(id: "uX", name: "user_abc123"), text: "Hello everyone!", action: false)
        #expect(texts(.message(message)) == [
            #"{"type":"chat_message","userId":"user_abc123","roomId":"room_name","content":"Hello everyone!","timestamp":"2023-12-07T10:30:00.000Z"}"#,
        ])
        let hostile = ChatMessage(room: "r", seq: 1, timestamp: 0, from: ChatUser(id: "u", name: "Zoë \"Z\""),
                                  text: "a\"b\\c\n\u{1}é😀</script>", action: false)
        let parsed = objects(.message(hostile))
        #expect(parsed.first?["content"] as? String == "a\"b\\c\n\u{1}é😀</script>")
        #expect(parsed.first?["userId"] as? String == "Zoë \"Z\"")
        let action = ChatMessage(room: "r", seq: 2, timestamp: 0, from: ChatUser(id: "u", name: "Bob"), text: "waves", action: true)
        #expect(objects(.message(action)).first?["content"] as? String == "/me waves")
    }

    @Test func presenceChanges() {
        let bob = ChatUser(id: "uB", name: "Bob")
        #expect(texts(.presence(room: "room_name", changes: [PresenceChange(.join, bob)]))
            == [#"{"type":"user_joined","userId":"Bob","roomId":"room_name","message":"Bob joined the room"}"#])
        #expect(texts(.presence(room: "room_name", changes: [PresenceChange(.leave, bob)]))
            == [#"{"type":"user_left","userId":"Bob","roomId":"room_name","message":"Bob left the room"}"#])
        let rob = ChatUser(id: "uB", name: "Rob")
        #expect(objects(.presence(room: "r", changes: [PresenceChange(.rename, rob, oldName: "Bob")])).map { [$0["type"], $0["userId"]] as? [String] }
            == [["user_left", "Bob"], ["user_joined", "Rob"]])
        #expect(PixIDEDialect.presence(room: "r", event: .rename, user: rob, oldName: nil).isEmpty)
        // The message form and the per-change function agree (a list of changes is their concatenation).
        #expect(PixIDEDialect.encode(.presence(room: "r", changes: [PresenceChange(.rename, rob, oldName: "Bob")]))
            == PixIDEDialect.presence(room: "r", event: .rename, user: rob, oldName: "Bob"))
    }

    @Test func errorsKeepTheSeedShapeWithACode() {
        #expect(texts(.error(ChatError(.nameTaken, "the name Bob is taken"), retryAfterMs: nil, re: nil))
            == [#"{"type":"error","message":"the name Bob is taken","code":"name_taken"}"#])
        let limited = objects(.error(ChatError(.rateLimited, "slow down"), retryAfterMs: 200, re: RequestID(json: Array("1".utf8))))
        #expect(limited.first?.keys.sorted() == ["code", "message", "type"])
    }

    @Test func messagesWithoutAnEquivalentEncodeToNothing() {
        let re = RequestID(json: Array("1".utf8))
        let none: [ServerMessage] = [
            .users(UserList(room: "r", count: 1, users: [ChatUser(id: "u", name: "A")], full: true), re: nil),
            .history(room: "r", messages: [ChatMessage(room: "r", seq: 1, timestamp: 0, from: ChatUser(id: "u", name: "A"), text: "x", action: false)], lastSeq: 1),
            .ack(re: re, room: "r", seq: 1),
            .left(room: "a", current: "b", re: nil),
            .renamed(user: ChatUser(id: "u", name: "B"), oldName: "A", re: nil),
            .rooms([RoomSummary(name: "r", users: 1)], re: nil),
            .system("help", re: nil),
        ]
        for message in none { #expect(PixIDEDialect.encode(message, recipient: "A").isEmpty) }
    }
}
