import ConfabCodec
import Foundation
import Testing
@testable import ConfabChat
import ConfabProtocol

/// `ConnectRequest.startRoom` and `.singleRoom` (what the PixIDE dialect connects with), and
/// `nameError`, which it asks before naming a session.
@Suite struct StartRoomTests {
    @discardableResult
    func connect(_ h: inout Harness, _ connection: ConnectionID, name: String? = nil, room: String?,
                 single: Bool = false) -> [ChatEffect] {
        h.turn(.connected(connection, ConnectRequest(name: name, startRoom: room, singleRoom: single), now: h.now))
    }

    @Test func startsInTheRequestedRoomCreatingIt() {
        var h = Harness()
        h.connect(1)
        let effects = connect(&h, 2, name: "Pix", room: "Studio")
        let got = effects.delivered(to: 2)
        #expect(got.map(\.type) == ["welcome", "users", "history"])
        #expect(got[0].string("room") == "Studio")
        #expect(got[0]["rooms"] as? [String] == ["Studio"])
        #expect(got[1].string("room") == "Studio")
        #expect(names(got[1]["users"]) == ["Pix"])
        #expect(effects.delivered(to: 1).isEmpty)  // lobby hears nothing
        #expect(h.machine.roomNames(of: 2) == ["Studio"])
        #expect(h.machine.roomMembers(named: "lobby")?.users == 1)
        h.check()
    }

    @Test func startingInAnExistingRoomAnnouncesTheJoinThere() {
        var h = Harness()
        h.connect(1)
        h.request(1, ["type": "join", "room": "dev"])
        let effects = connect(&h, 2, name: "Pix", room: "DEV")
        #expect(effects.delivered(to: 2).first?.string("room") == "dev")  // the room's own case
        let presence = effects.delivered(to: 1)
        #expect(presence.map(\.type) == ["presence"])
        #expect(presence.first?.string("room") == "dev")
        #expect((presence.first?.changes.first?["user"] as? JSON)?["name"] as? String == "Pix")
        #expect(h.say(2, "hi").delivered(to: 1).first?.string("room") == "dev")
        h.check()
    }

    @Test func startingInTheHomeRoomIsTheUsualConnect() {
        var a = Harness(), b = Harness()
        let plain = a.connect(1, name: "Pix").delivered(to: 1).map(\.type)
        let named = connect(&b, 1, name: "Pix", room: "LOBBY").delivered(to: 1)
        #expect(named.map(\.type) == plain)
        #expect(named.first?.string("room") == "lobby")
    }

    @Test(arguments: ["bad room", "", String(repeating: "r", count: 33), "Zoë"])
    func anInvalidStartRoomFallsBackToTheHomeRoomWithAnError(_ room: String) {
        var h = Harness()
        let got = connect(&h, 1, name: "Pix", room: room).delivered(to: 1)
        #expect(got.map(\.type) == ["welcome", "error", "users", "history"])
        #expect(got[0].string("room") == "lobby")
        #expect(got[1].string("code") == "invalid_room")
        #expect(got[1]["re"] == nil)
        #expect(h.machine.roomCount == 1)
        h.check()
    }

    @Test func aFullStartRoomFallsBackWithRoomFull() {
        var h = Harness(ChatConfig(roomCapacity: 1))
        connect(&h, 1, name: "A", room: "dev")
        let got = connect(&h, 2, name: "B", room: "dev").delivered(to: 2)
        #expect(got.map(\.type) == ["welcome", "error", "users", "history"])
        #expect(got[1].string("code") == "room_full")
        #expect(got[0].string("room") == "lobby")
        h.check()
    }

    @Test func noRoomLeftFallsBackWithRoomLimit() {
        var h = Harness(ChatConfig(maxRooms: 2))
        connect(&h, 1, name: "A", room: "one")
        let got = connect(&h, 2, name: "B", room: "two").delivered(to: 2)
        #expect(got.map { $0.string("code") ?? $0.type } == ["welcome", "room_limit", "users", "history"])
        #expect(h.machine.roomCount == 2)
        h.check()
    }

    @Test func nameAndRoomErrorsComeInThatOrder() {
        var h = Harness()
        h.connect(1, name: "Pix")
        let got = connect(&h, 2, name: "pix", room: "no way").delivered(to: 2)
        #expect(got.map { $0.string("code") ?? $0.type } == ["welcome", "name_taken", "invalid_room", "users", "history"])
    }

    @Test func aResumedSessionIgnoresTheStartRoom() {
        var h = Harness()
        let token = h.welcome(1, name: "Pix").string("token")
        h.drop(1)
        let got = h.turn(.connected(2, ConnectRequest(resumeToken: token, startRoom: "elsewhere"), now: h.now))
        #expect(got.delivered(to: 2).first?.string("room") == "lobby")
        #expect(h.machine.roomMembers(named: "elsewhere") == nil)
    }

    // MARK: Single-room sessions

    @Test func joiningLeavesThePreviousRoomAfterTheJoin() {
        var h = Harness()
        connect(&h, 1, name: "Pix", room: "Pix", single: true)
        h.connect(2, name: "Other")
        h.request(2, ["type": "join", "room": "Pix"])
        h.connect(3, name: "Third")
        h.request(3, ["type": "join", "room": "dev"])
        let effects = h.request(1, ["type": "join", "room": "dev", "id": 5])
        #expect(effects.types(to: 1) == ["joined", "users", "history", "left"])
        let mine = effects.delivered(to: 1)
        #expect(mine[0].text == #"{"type":"joined","room":"dev","re":5}"#)
        #expect(mine[3].text == #"{"type":"left","room":"Pix","current":"dev"}"#)
        #expect(effects.delivered(to: 3).map { $0.event } == ["join"])
        let old = effects.delivered(to: 2)
        #expect(old.map { $0.event } == ["leave"])
        #expect(old.first?.string("room") == "Pix")
        #expect(h.machine.roomNames(of: 1) == ["dev"])
        #expect(h.say(1, "here").delivered(to: 3).first?.string("room") == "dev")
        h.check()
    }

    @Test func theLastUserLeavingRemovesTheRoom() {
        var h = Harness()
        connect(&h, 1, name: "Pix", room: "Pix", single: true)
        h.request(1, ["type": "join", "room": "lobby"])
        #expect(h.machine.roomMembers(named: "Pix") == nil)
        #expect(h.machine.roomNames(of: 1) == ["lobby"])
        h.check()
    }

    @Test func aRefusedJoinKeepsTheUserWhereTheyWere() {
        var h = Harness(ChatConfig(roomCapacity: 1))
        connect(&h, 1, name: "Pix", room: "mine", single: true)
        connect(&h, 2, name: "B", room: "full")
        for (room, code) in [("full", "room_full"), ("no way", "invalid_room")] {
            let got = h.request(1, ["type": "join", "room": room]).delivered(to: 1)
            #expect(got.map { $0.string("code") ?? $0.type } == [code])
            #expect(h.machine.roomNames(of: 1) == ["mine"])
        }
        h.check()
    }

    @Test func rejoiningTheCurrentRoomChangesNothing() {
        var h = Harness()
        connect(&h, 1, name: "Pix", room: "mine", single: true)
        h.connect(2)
        h.request(2, ["type": "join", "room": "mine"])
        let effects = h.request(1, ["type": "join", "room": "MINE"])
        #expect(effects.types(to: 1) == ["joined", "users", "history"])
        #expect(effects.delivered(to: 2).isEmpty)
        #expect(h.machine.roomNames(of: 1) == ["mine"])
    }

    @Test func theRoomsPerUserLimitDoesNotStopASwitch() {
        var h = Harness(ChatConfig(maxRoomsPerUser: 1))
        connect(&h, 1, name: "Pix", room: "a", single: true)
        #expect(h.request(1, ["type": "join", "room": "b"]).types(to: 1) == ["joined", "users", "history", "left"])
        h.connect(2)
        #expect(h.request(2, ["type": "join", "room": "b"]).delivered(to: 2).first?.string("code") == "room_limit")
        h.check()
    }

    @Test func aSingleRoomSessionStillEndsAsUsual() {
        var h = Harness()
        connect(&h, 1, name: "Pix", room: "mine", single: true)
        h.connect(2)
        h.request(2, ["type": "join", "room": "mine"])
        let effects = h.goodbye(1)
        #expect(effects.delivered(to: 2).map { $0.event } == ["leave"])
        #expect(h.machine.nameError("Pix") == nil)
        h.check()
    }

    // MARK: nameError

    @Test func nameErrorMatchesWhatAConnectWouldRefuse() {
        var h = Harness()
        h.connect(1, name: "Alice")
        #expect(h.machine.nameError("Bob") == nil)
        #expect(h.machine.nameError("  Bob  ") == nil)
        #expect(h.machine.nameError("ALICE")?.code == .nameTaken)
        #expect(h.machine.nameError("admin")?.code == .invalidName)
        #expect(h.machine.nameError("a/b")?.code == .invalidName)
        #expect(h.machine.nameError("")?.code == .invalidName)
        // A name held during a resume grace period is taken too.
        h.drop(1)
        #expect(h.machine.nameError("alice")?.code == .nameTaken)
    }
}
