import ConfabCodec
import Foundation
import Testing
@testable import ConfabChat
import ConfabProtocol

/// The PixIDE dialect over the state machine, composed as the server's bridge composes them
/// (ConfabServer+PixIDE.swift): PixIDE bytes decoded by `PixIDEDialect`, a first `join`
/// connecting a single-room session in its room, and what the machine sends encoded back to
/// PixIDE JSON. A protocol v1 user shares the rooms.
@Suite struct PixIDEOverMachineTests {
    struct Bridge {
        var h = Harness()
        var names: [ConnectionID: String] = [:]

        /// One PixIDE frame from `connection`; the effects of the machine, if it was asked.
        mutating func pixide(_ connection: ConnectionID, _ text: String) -> (effects: [ChatEffect], refused: ChatError?) {
            let request = PixIDEDialect.decodeRequest(Array(text.utf8), maxBytes: h.machine.config.maxRequestBytes)
            if names[connection] == nil {
                switch request {
                case .join(let userId, let room):
                    if let error = h.machine.nameError(userId) { return ([], error) }
                    let connect = ConnectRequest(name: userId, startRoom: room ?? PlainText.trim(userId), singleRoom: true)
                    let effects = h.turn(.connected(connection, connect, now: h.now))
                    names[connection] = PlainText.trim(userId)
                    return (effects, nil)
                case .chat(let decoded):
                    if case .failure(let error) = decoded.result { return ([], error) }
                    return ([], PixIDEDialect.joinFirst)
                }
            }
            switch request {
            case .join(_, let room):
                return (h.turn(.received(connection, DecodedRequest(.success(.join(room ?? names[connection]!))), now: h.now)), nil)
            case .chat(let decoded):
                return (h.turn(.received(connection, decoded, now: h.now)), nil)
            }
        }

        /// What a PixIDE connection receives of `effects`, as JSON objects.
        func seen(by connection: ConnectionID, _ effects: [ChatEffect]) -> [JSON] {
            var out: [JSON] = []
            for effect in effects {
                let message: OutboundMessage
                switch effect {
                case .send(let target, let m) where target == connection: message = m
                case .broadcast(let recipients, let except, let m) where recipients.contains(connection) && except != connection:
                    message = m
                default: continue
                }
                for payload in PixIDEDialect.encode(message.message, recipient: names[connection]) {
                    out.append((try? JSONSerialization.jsonObject(with: Data(payload))) as? JSON ?? [:])
                }
            }
            return out
        }
    }

    func types(_ objects: [JSON]) -> [String] { objects.map { $0["type"] as? String ?? "?" } }

    @Test func aPixIDEUserAndAV1UserShareARoom() {
        var b = Bridge()
        b.h.connect(1, name: "Bob")
        b.h.request(1, ["type": "join", "room": "studio"])
        let joined = b.pixide(2, #"{"type":"join","userId":"alice","roomId":"studio"}"#).effects
        #expect(b.seen(by: 2, joined).map { $0 as NSDictionary }
            == [["type": "joined", "roomId": "studio", "userId": "alice", "message": "Joined room: studio"]])
        #expect(joined.delivered(to: 1).map { $0.event } == ["join"])

        let said = b.pixide(2, #"{"type":"chat_message","userId":"alice","content":"hi Bob"}"#).effects
        #expect(said.delivered(to: 1).first?.string("text") == "hi Bob")
        #expect(b.seen(by: 2, said).first?["content"] as? String == "hi Bob")

        let answer = b.h.request(1, ["type": "send", "text": "hi alice", "room": "studio"])
        let got = b.seen(by: 2, answer)
        #expect(types(got) == ["chat_message"])
        #expect(got.first?["userId"] as? String == "Bob")

        b.h.connect(3, name: "Carol")
        let carol = b.h.request(3, ["type": "join", "room": "studio"])
        #expect(b.seen(by: 2, carol).map { $0 as NSDictionary }
            == [["type": "user_joined", "userId": "Carol", "roomId": "studio", "message": "Carol joined the room"]])
        b.h.check()
    }

    @Test func switchRoomIsOneJoinedForPixIDEAndALeaveForTheOldRoom() {
        var b = Bridge()
        b.h.connect(1, name: "Bob")
        _ = b.pixide(2, #"{"type":"join","userId":"alice","roomId":"lobby"}"#)
        let effects = b.pixide(2, #"{"type":"switch_room","userId":"alice","roomId":"dev"}"#).effects
        #expect(types(b.seen(by: 2, effects)) == ["joined"])  // users, history and left map to nothing
        #expect(effects.delivered(to: 1).map { $0.event } == ["leave"])
        #expect(b.h.machine.roomNames(of: 2) == ["dev"])
        // A later join without roomId goes back to the user's own room.
        let home = b.pixide(2, #"{"type":"join","userId":"whoever"}"#).effects
        #expect(b.seen(by: 2, home).first?["roomId"] as? String == "alice")
        #expect(b.h.machine.roomMembers(named: "dev") == nil)
        b.h.check()
    }

    @Test func refusalsBeforeTheJoinNeverReachTheMachine() {
        var b = Bridge()
        b.h.connect(1, name: "Bob")
        #expect(b.pixide(2, #"{"type":"join","userId":"BOB"}"#).refused?.code == .nameTaken)
        #expect(b.pixide(2, #"{"type":"chat_message","userId":"x","content":"hi"}"#).refused == PixIDEDialect.joinFirst)
        #expect(b.pixide(2, "nope").refused?.code == .invalidJSON)
        #expect(b.h.machine.userCount == 1)
        let joined = b.pixide(2, #"{"type":"join","userId":"Jane Doe"}"#).effects
        #expect(types(b.seen(by: 2, joined)) == ["joined", "error"])
        #expect(b.seen(by: 2, joined).last?["code"] as? String == "invalid_room")
    }

    @Test func aRenameIsALeaveAndAJoinForPixIDE() {
        var b = Bridge()
        b.h.connect(1, name: "Bob")
        _ = b.pixide(2, #"{"type":"join","userId":"alice","roomId":"lobby"}"#)
        let renamed = b.h.request(1, ["type": "name", "name": "Rob"])
        #expect(b.seen(by: 2, renamed).map { "\($0["type"]!) \($0["userId"]!)" } == ["user_left Bob", "user_joined Rob"])
    }
}
