import Foundation
import Testing
@testable import ConfabChat

@Suite struct ResumeTests {
    /// Ann (1) in lobby and dev, current dev; Ben (2) in both.
    private func setup() -> (Harness, token: String, id: String) {
        var h = Harness()
        let welcome = h.welcome(1, name: "Ann")
        h.connect(2, name: "Ben")
        h.request(1, ["type": "join", "room": "dev"])
        h.request(2, ["type": "join", "room": "dev"])
        return (h, welcome.string("token") ?? "", welcome.user["id"] as? String ?? "")
    }

    @Test func droppedSessionStaysListedWithoutPresence() {
        var (h, _, _) = setup()
        let effects = h.drop(1)
        #expect(effects.withoutLogs.isEmpty)
        #expect(h.machine.userCount == 2)
        #expect(h.machine.connectionCount == 1)
        #expect(names(h.request(2, ["type": "users"]).delivered(to: 2).first?["users"]) == ["Ann", "Ben"])
        // Messages during the grace period do not go to the dropped connection.
        if case .broadcast(let recipients, _, _)? = h.say(2, "hi").first { #expect(recipients == [2]) }
        #expect(h.request(2, ["type": "name", "name": "ann"]).delivered(to: 2).first?.string("code") == "name_taken")
        h.check()
    }

    @Test func resumeWithinGraceRestoresEverything() {
        var (h, token, id) = setup()
        h.drop(1)
        h.say(2, "while you were away")
        h.now += 29_000
        #expect(h.tick(after: 0).withoutLogs.isEmpty)
        let effects = h.connect(7, resume: token)
        let got = effects.delivered(to: 7)
        #expect(got.map(\.type) == ["welcome", "users", "history", "users", "history"])
        #expect(got[0]["resumed"] as? Bool == true)
        #expect(got[0].user["id"] as? String == id)
        #expect(got[0].user["name"] as? String == "Ann")
        #expect(got[0].string("room") == "dev")
        #expect(got[0]["rooms"] as? [String] == ["lobby", "dev"])
        #expect(got[0].string("token") != token)
        #expect(got.compactMap { $0.string("room") }.suffix(4) == ["lobby", "lobby", "dev", "dev"])
        #expect((got[4]["messages"] as? [JSON])?.last?["text"] as? String == "while you were away")
        #expect(effects.delivered(to: 2).isEmpty)  // no presence
        #expect(h.machine.connectionCount == 2)
        #expect(h.say(2, "back?").delivered(to: 7).count == 1)
        h.check()
        // Single use: the old token now starts a fresh session.
        let fresh = h.welcome(8, resume: token)
        #expect(fresh["resumed"] as? Bool == false)
        #expect(fresh.user["id"] as? String != id)
    }

    @Test func graceExpiryBroadcastsLeaveInEachRoom() {
        var (h, token, _) = setup()
        h.drop(1)
        #expect(h.tick(after: 29_999).withoutLogs.isEmpty)
        let effects = h.tick(after: 1)
        let leaves = effects.delivered(to: 2)
        #expect(leaves.map { $0.event } == ["leave", "leave"])
        #expect(Set(leaves.compactMap { $0.string("room") }) == ["lobby", "dev"])
        #expect(h.machine.userCount == 1)
        let fresh = h.welcome(3, name: "Ann", resume: token)
        #expect(fresh["resumed"] as? Bool == false)
        #expect(fresh.user["name"] as? String == "Ann")  // the name was freed
        h.check()
    }

    @Test func goodbyeEndsTheSessionAtOnce() {
        var (h, token, _) = setup()
        let effects = h.goodbye(1)
        #expect(effects.delivered(to: 2).map { $0.event } == ["leave", "leave"])
        #expect(h.machine.userCount == 1)
        #expect(h.machine.roomMembers(named: "dev")?.users == 1)
        #expect(h.welcome(3, resume: token)["resumed"] as? Bool == false)
        h.check()
    }

    @Test func zeroGraceEndsDroppedSessionsAtOnce() {
        var h = Harness(ChatConfig(resumeGraceSeconds: 0))
        h.connect(1); h.connect(2)
        #expect(h.drop(1).delivered(to: 2).first?.event == "leave")
        #expect(h.machine.userCount == 1)
    }

    @Test func resumeOnAStillOpenConnectionTakesItOver() {
        var (h, token, id) = setup()
        let effects = h.connect(9, resume: token)
        #expect(effects.closes.count == 1)
        #expect(effects.closes.first?.0 == 1)
        #expect(effects.closes.first?.1 == 4000)
        #expect(effects.closes.first?.2 == "session resumed elsewhere")
        #expect(effects.delivered(to: 9).first?.user["id"] as? String == id)
        #expect(effects.delivered(to: 2).isEmpty)
        #expect(h.machine.connectionCount == 2)
        #expect(h.drop(1).withoutLogs.isEmpty)       // the old connection's end changes nothing
        #expect(h.say(9, "hi").delivered(to: 2).count == 1)
        #expect(h.machine.roomMembers(named: "lobby")?.connections.sorted() == [2, 9])
        h.check()
    }

    @Test func unknownTokenGivesAFreshSession() {
        var h = Harness()
        let got = h.connect(1, resume: "not-a-token").delivered(to: 1)
        #expect(got.map(\.type) == ["welcome", "users", "history"])
        #expect(got[0]["resumed"] as? Bool == false)
    }

    @Test func rateLimitStateSurvivesAResume() {
        var h = Harness(ChatConfig(rateBurst: 2))
        let token = h.welcome(1).string("token") ?? ""
        h.say(1, "a"); h.say(1, "b")
        h.drop(1)
        h.connect(2, resume: token)
        #expect(h.say(2, "c").delivered(to: 2).first?.string("code") == "rate_limited")
    }
}
