import ConfabCodec
import Foundation
import Testing
@testable import ConfabChat

@Suite struct ConnectTests {
    @Test func welcomeUsersHistoryInOrder() {
        var h = Harness()
        let effects = h.connect(1)
        let got = effects.delivered(to: 1)
        #expect(got.map(\.type) == ["welcome", "users", "history"])
        let welcome = got[0]
        #expect(welcome.string("room") == "lobby")
        #expect(welcome["rooms"] as? [String] == ["lobby"])
        #expect(welcome["resumed"] as? Bool == false)
        #expect(welcome.string("server") == "Confab")
        #expect((welcome.string("token") ?? "").utf8.count >= 22)
        #expect((welcome["limits"] as? JSON)?["maxMessageBytes"] as? Int == 4096)
        #expect(welcome.text.hasPrefix(#"{"type":"welcome","user":{"id":"#))
        let name = welcome.user["name"] as? String ?? ""
        #expect(name.wholeMatch(of: /[a-z]+-[a-z]+-[0-9]{2}/) != nil)
        #expect(names(got[1]["users"]) == [name])
        #expect(got[1].string("room") == "lobby")
        #expect((got[2]["messages"] as? [Any])?.isEmpty == true)
        h.check()
    }

    @Test func presenceJoinGoesOutAtTheEndOfTheTurn() {
        var h = Harness()
        h.connect(1)
        let effects = h.machine.handle(.connected(2, ConnectRequest(name: "Bob"), now: h.now))
        #expect(effects.delivered(to: 1).isEmpty)
        #expect(!effects.types(to: 2).contains("presence"))
        #expect(names(effects.delivered(to: 2)[1]["users"]).count == 2)
        let flushed = h.machine.handle(.flush(now: h.now))
        let presence = flushed.delivered(to: 1)
        #expect(presence.map(\.type) == ["presence"])
        let changes = presence.first?["changes"] as? [JSON] ?? []
        #expect(changes.map { $0["event"] as? String } == ["join"])
        #expect((changes.first?["user"] as? JSON)?["name"] as? String == "Bob")
        // Nobody is told of their own arrival: the newcomer's `users` already lists it.
        #expect(flushed.types(to: 2) == [])
        #expect(h.machine.handle(.flush(now: h.now)).isEmpty)
    }

    @Test func requestedNameIsUsedTrimmed() {
        var h = Harness()
        #expect(h.welcome(1, name: "  Alice  ").user["name"] as? String == "Alice")
    }

    @Test(arguments: [("bad/name", "invalid_name"), ("ADMIN", "invalid_name"), ("", "invalid_name"), ("alice", "name_taken")])
    func badRequestedNameStillConnectsWithError(_ requested: String, _ code: String) {
        var h = Harness()
        h.connect(1, name: "Alice")
        let got = h.connect(2, name: requested).delivered(to: 2)
        #expect(got.map(\.type) == ["welcome", "error", "users", "history"])
        #expect(got[1].string("code") == code)
        #expect(got[1]["re"] == nil)
        #expect(got[0].user["name"] as? String != "Alice")
    }

    @Test func randomNamesAreUnique() {
        var h = Harness(seed: 1)
        var seen = Set<String>()
        for connection in 1...1500 as ClosedRange<ConnectionID> {
            // Decode only the welcome: the users lists grow with every connection.
            guard case .send(_, let welcome)? = h.connect(connection).first else { Issue.record("no welcome"); return }
            let name = ((decode(welcome)["user"] as? JSON)?["name"] as? String ?? "").lowercased()
            #expect(seen.insert(name).inserted)
        }
        #expect(h.machine.userCount == 1500)
        h.check()
    }

    @Test func admissionWithRequireName() {
        var h = Harness(ChatConfig(requireName: true))
        #expect(h.machine.admissionError(for: ConnectRequest())?.code == "name_required")
        #expect(h.machine.admissionError(for: ConnectRequest(name: "x/y"))?.code == "invalid_name")
        #expect(h.machine.admissionError(for: ConnectRequest(name: "System"))?.code == "invalid_name")
        #expect(h.machine.admissionError(for: ConnectRequest(name: "Alice")) == nil)
        let token = h.welcome(1, name: "Alice").string("token") ?? ""
        #expect(h.machine.admissionError(for: ConnectRequest(name: "ALICE"))?.code == "name_taken")
        #expect(h.machine.admissionError(for: ConnectRequest(resumeToken: token)) == nil)
        #expect(h.machine.admissionError(for: ConnectRequest(resumeToken: "nope"))?.code == "name_required")
        #expect(Harness().machine.admissionError(for: ConnectRequest()) == nil)
    }

    @Test func fullHomeRoomIsRefusedAtAdmission() {
        var h = Harness(ChatConfig(roomCapacity: 2))
        let token = h.welcome(1).string("token") ?? ""
        h.connect(2)
        #expect(h.machine.admissionError(for: ConnectRequest())?.code == "room_full")
        #expect(h.machine.admissionError(for: ConnectRequest(resumeToken: token)) == nil)
        // Admitted anyway if the server did not ask: never stranded without a room.
        #expect(h.connect(3).types(to: 3) == ["welcome", "users", "history"])
        h.check()
    }

    @Test func unknownConnectionEventsAreIgnoredWithDebugLog() {
        var h = Harness(ChatConfig(minimumLogLevel: .debug))
        for effects in [h.raw(9, "{}"), h.drop(9), h.goodbye(9)] {
            #expect(effects.withoutLogs.isEmpty)
            #expect(effects.logs.first?.0 == .debug)
        }
        var quiet = Harness()
        #expect(quiet.raw(9, "{}").isEmpty)  // below the minimum level: nothing at all
    }

    @Test func duplicateConnectIsIgnored() {
        var h = Harness()
        h.connect(1)
        #expect(h.connect(1).withoutLogs.isEmpty)
        #expect(h.machine.userCount == 1)
        h.check()
    }

    @Test func counts() {
        var h = Harness()
        h.connect(1); h.connect(2)
        h.request(1, ["type": "join", "room": "dev"])
        #expect(h.machine.userCount == 2)
        #expect(h.machine.connectionCount == 2)
        #expect(h.machine.roomCount == 2)
        h.drop(2)
        #expect(h.machine.userCount == 2)
        #expect(h.machine.connectionCount == 1)
    }

    @Test func configuredRoomsAndHomeRoom() {
        var h = Harness(ChatConfig(rooms: ["Main", "news", "bad room", "main"]))
        #expect(h.machine.roomCount == 2)
        #expect(h.welcome(1).string("room") == "Main")
    }
}
