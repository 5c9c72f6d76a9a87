import Foundation
import Testing
@testable import ConfabChat

@Suite struct CommandTests {
    /// Runs the same scenario twice, once with a /command and once with the structured request,
    /// and compares everything every connection receives.
    private func same(_ command: String, _ structured: JSON, setup: (inout Harness) -> Void = { _ in }) {
        func run(_ last: (inout Harness) -> [ChatEffect]) -> [[String]] {
            var h = Harness()
            h.connect(1, name: "Ann"); h.connect(2, name: "Ben")
            setup(&h)
            let effects = last(&h)
            return [1, 2].map { c in effects.delivered(to: c).map(\.text) }
        }
        var withID = structured
        withID["id"] = 9
        let a = run { $0.request(1, ["type": "send", "text": command, "id": 9]) }
        let b = run { $0.request(1, withID) }
        #expect(a == b, "\(command)")
        #expect(!a[0].isEmpty)
    }

    @Test func everyCommandMatchesItsStructuredForm() {
        same("/join dev", ["type": "join", "room": "dev"])
        same("/JOIN   Dev  ", ["type": "join", "room": "Dev"])
        same("/leave", ["type": "leave"], setup: { $0.request(1, ["type": "join", "room": "dev"]) })
        same("/leave lobby", ["type": "leave", "room": "lobby"], setup: { $0.request(1, ["type": "join", "room": "dev"]) })
        same("/leave", ["type": "leave"])  // last_room either way
        same("/rooms", ["type": "rooms"])
        same("/users", ["type": "users"])
        same("/Users lobby", ["type": "users", "room": "lobby"])
        same("/users nope", ["type": "users", "room": "nope"])
        same("/name  Carl ", ["type": "name", "name": "Carl"])
        same("/name ben", ["type": "name", "name": "ben"])  // taken
        same("/me waves", ["type": "send", "text": "waves", "action": true])
        same("/help", ["type": "help"])
    }

    @Test func helpIsASystemMessage() {
        var h = Harness()
        h.connect(1)
        let got = h.say(1, "/HELP").delivered(to: 1)
        #expect(got.first?.type == "system")
        #expect(got.first?.string("text")?.contains("/join ROOM") == true)
        #expect(got.first?["re"] == nil)
    }

    @Test func unknownCommandHintsAtHelp() {
        var h = Harness()
        h.connect(1); h.connect(2)
        let effects = h.request(1, ["type": "send", "text": "/dance now", "id": "d"])
        let got = effects.delivered(to: 1)
        #expect(got.first?.string("code") == "unknown_command")
        #expect(got.first?.string("message")?.contains("/help") == true)
        #expect(got.first?.string("re") == "d")
        #expect(effects.delivered(to: 2).isEmpty)
        #expect(h.say(1, "/").delivered(to: 1).first?.string("code") == "unknown_command")
    }

    @Test func missingArguments() {
        var h = Harness()
        h.connect(1)
        #expect(h.say(1, "/join").delivered(to: 1).first?.string("code") == "invalid_room")
        #expect(h.say(1, "/join   ").delivered(to: 1).first?.string("code") == "invalid_room")
        #expect(h.say(1, "/name").delivered(to: 1).first?.string("code") == "invalid_name")
        #expect(h.say(1, "/join a b").delivered(to: 1).first?.string("code") == "invalid_room")
    }

    @Test func commandsAreNotBroadcast() {
        var h = Harness()
        h.connect(1); h.connect(2)
        #expect(h.say(1, "/rooms").delivered(to: 2).isEmpty)
        #expect(h.machine.historyCount(of: "lobby") == 0)
    }
}
