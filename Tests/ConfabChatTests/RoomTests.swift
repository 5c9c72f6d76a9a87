import Foundation
import Testing
@testable import ConfabChat

@Suite struct RoomTests {
    @Test func joinCreatesAndReplies() {
        var h = Harness()
        h.connect(1); h.connect(2)
        let effects = h.request(1, ["type": "join", "room": "Dev", "id": 1])
        let got = effects.delivered(to: 1)
        #expect(got.map(\.type) == ["joined", "users", "history"])
        #expect(got[0].text == #"{"type":"joined","room":"Dev","re":1}"#)
        #expect(got[1].string("room") == "Dev")
        #expect(got[1]["re"] == nil)
        #expect(effects.delivered(to: 2).isEmpty)  // not in Dev
        #expect(h.machine.roomMembers(named: "dev")?.users == 1)
        h.check()
    }

    @Test func othersInTheRoomSeePresenceJoin() {
        var h = Harness()
        h.connect(1); h.connect(2); h.connect(3)
        h.request(1, ["type": "join", "room": "dev"])
        let effects = h.request(2, ["type": "join", "room": "DEV"])
        #expect(effects.delivered(to: 1).map { $0.event } == ["join"])
        #expect(effects.delivered(to: 1).first?.string("room") == "dev")  // original case kept
        #expect(effects.delivered(to: 3).isEmpty)
        #expect(effects.delivered(to: 2).first?.string("room") == "dev")
    }

    @Test func joinIsIdempotentAndMakesCurrent() {
        var h = Harness()
        h.connect(1); h.connect(2)
        h.request(1, ["type": "join", "room": "dev"])
        h.request(2, ["type": "join", "room": "dev"])
        let again = h.request(1, ["type": "join", "room": "lobby"])
        #expect(again.types(to: 1) == ["joined", "users", "history"])
        #expect(again.delivered(to: 2).isEmpty)
        #expect(h.say(1, "hi").delivered(to: 1).first?.string("room") == "lobby")
        #expect(h.machine.roomNames(of: 1) == ["lobby", "dev"])
    }

    @Test func messagesStayInTheirRoom() {
        var h = Harness()
        h.connect(1); h.connect(2); h.connect(3)
        h.request(1, ["type": "join", "room": "dev"])
        h.request(2, ["type": "join", "room": "dev"])
        let effects = h.say(1, "dev only")
        #expect(effects.delivered(to: 2).first?.string("room") == "dev")
        #expect(effects.delivered(to: 3).isEmpty)
        let explicit = h.request(1, ["type": "send", "text": "lobby too", "room": "LOBBY"])
        #expect(explicit.delivered(to: 3).first?.string("room") == "lobby")
        #expect(explicit.delivered(to: 3).first?.int("seq") == 1)
        let refused = h.request(3, ["type": "send", "text": "x", "room": "dev", "id": "q"]).delivered(to: 3)
        #expect(refused.first?.string("code") == "not_in_room")
        #expect(refused.first?.string("re") == "q")
        #expect(h.request(3, ["type": "send", "text": "x", "room": "no such"]).delivered(to: 3).first?.string("code") == "invalid_room")
    }

    @Test func leaveRepliesWithTheNewCurrentRoom() {
        var h = Harness()
        h.connect(1); h.connect(2)
        h.request(1, ["type": "join", "room": "a"])
        h.request(1, ["type": "join", "room": "b"])
        h.request(2, ["type": "join", "room": "b"])
        let effects = h.request(1, ["type": "leave", "id": 5])
        #expect(effects.delivered(to: 1).first?.text == #"{"type":"left","room":"b","current":"a","re":5}"#)
        #expect(effects.delivered(to: 2).first?.event == "leave")
        let notCurrent = h.request(1, ["type": "leave", "room": "lobby"]).delivered(to: 1)
        #expect(notCurrent.first?.string("current") == "a")
        #expect(h.request(1, ["type": "leave"]).delivered(to: 1).first?.string("code") == "last_room")
        #expect(h.request(1, ["type": "leave", "room": "b"]).delivered(to: 1).first?.string("code") == "not_in_room")
        #expect(h.request(1, ["type": "leave", "room": "b!"]).delivered(to: 1).first?.string("code") == "invalid_room")
        h.check()
    }

    @Test func emptyRoomsGoWithTheirHistoryButConfiguredOnesStay() {
        var h = Harness(ChatConfig(rooms: ["lobby", "news"]))
        h.connect(1)
        h.request(1, ["type": "join", "room": "tmp"])
        h.say(1, "one"); h.say(1, "two")
        h.request(1, ["type": "leave"])
        #expect(h.machine.roomMembers(named: "tmp") == nil)
        #expect(h.machine.roomCount == 2)
        let rejoin = h.request(1, ["type": "join", "room": "tmp"]).delivered(to: 1)
        #expect((rejoin[2]["messages"] as? [Any])?.isEmpty == true)
        #expect(h.say(1, "again").delivered(to: 1).first?.int("seq") == 1)
        h.request(1, ["type": "join", "room": "news"])
        h.request(1, ["type": "leave", "room": "news"])
        #expect(h.machine.roomMembers(named: "news")?.users == 0)
    }

    @Test func roomsListsEveryRoom() {
        var h = Harness()
        h.connect(1); h.connect(2)
        h.request(2, ["type": "join", "room": "zeta"])
        h.request(2, ["type": "join", "room": "Alpha"])
        let got = h.request(1, ["type": "rooms", "id": 1]).delivered(to: 1)
        #expect(got.first?.text == #"{"type":"rooms","rooms":[{"name":"Alpha","users":1},{"name":"lobby","users":2},{"name":"zeta","users":1}],"re":1}"#)
    }

    @Test func usersOfARoom() {
        var h = Harness()
        h.connect(1, name: "Ann"); h.connect(2, name: "Ben")
        h.request(2, ["type": "join", "room": "dev"])
        #expect(names(h.request(1, ["type": "users"]).delivered(to: 1).first?["users"]) == ["Ann", "Ben"])
        let dev = h.request(1, ["type": "users", "room": "Dev", "id": 2]).delivered(to: 1).first
        #expect(dev?.string("room") == "dev")
        #expect(names(dev?["users"]) == ["Ben"])
        #expect(dev?.int("re") == 2)
        #expect(h.request(1, ["type": "users", "room": "nope"]).delivered(to: 1).first?.string("code") == "no_such_room")
        #expect(h.request(1, ["type": "users", "room": ""]).delivered(to: 1).first?.string("code") == "invalid_room")
    }

    @Test(arguments: ["", "with space", String(repeating: "a", count: 33), "ümlaut", "a/b", "a.b"])
    func invalidRoomNames(_ name: String) {
        var h = Harness()
        h.connect(1)
        #expect(h.request(1, ["type": "join", "room": name]).delivered(to: 1).first?.string("code") == "invalid_room")
    }

    @Test func validRoomNameEdges() {
        var h = Harness()
        h.connect(1)
        let name = String(repeating: "a", count: 31) + "_"
        #expect(h.request(1, ["type": "join", "room": name]).types(to: 1).first == "joined")
        #expect(h.request(1, ["type": "join", "room": "A-1"]).types(to: 1).first == "joined")
    }

    @Test func roomLimits() {
        var h = Harness(ChatConfig(maxRooms: 3, maxRoomsPerUser: 2, roomCapacity: 2))
        h.connect(1); h.connect(2); h.connect(3)
        h.request(1, ["type": "join", "room": "a"])
        #expect(h.request(1, ["type": "join", "room": "b"]).delivered(to: 1).first?.string("code") == "room_limit")
        h.request(2, ["type": "join", "room": "b"])
        #expect(h.request(3, ["type": "join", "room": "c"]).delivered(to: 3).first?.string("code") == "room_limit")
        h.request(3, ["type": "join", "room": "a"])
        // "a" now holds 1 and 3; capacity 2.
        h.connect(4)
        #expect(h.request(4, ["type": "join", "room": "A"]).delivered(to: 4).first?.string("code") == "room_full")
        #expect(h.request(1, ["type": "join", "room": "a"]).types(to: 1).first == "joined")  // already in: fine
        h.check()
    }
}
