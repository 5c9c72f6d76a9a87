import Foundation
import Testing
@testable import ConfabChat

@Suite struct RateLimitTests {
    @Test func burstThenRefusalWithRetryAfter() {
        var h = Harness(ChatConfig(ratePerSecond: 5, rateBurst: 3))
        h.connect(1)
        for _ in 0..<3 { #expect(h.say(1, "ok").types(to: 1) == ["message"]) }
        let refused = h.raw(1, #"{"type":"send","text":"no","id":1}"#).delivered(to: 1)
        #expect(refused.first?.string("code") == "rate_limited")
        #expect(refused.first?.int("retryAfterMs") == 200)
        #expect(refused.first?.int("re") == 1)
        #expect(refused.first?.text.contains(#""retryAfterMs":200,"re":1}"#) == true)
        h.now += 100
        #expect(h.say(1, "no").delivered(to: 1).first?.int("retryAfterMs") == 100)
        h.now += 100
        #expect(h.say(1, "yes").types(to: 1) == ["message"])
        h.now += 10_000  // refills up to the burst, not beyond
        for _ in 0..<3 { #expect(h.say(1, "ok").types(to: 1) == ["message"]) }
        #expect(h.say(1, "no").types(to: 1) == ["error"])
    }

    @Test func everyRequestCountsEvenGarbage() {
        var h = Harness(ChatConfig(rateBurst: 2))
        h.connect(1)
        h.raw(1, "garbage")
        h.request(1, ["type": "rooms"])
        #expect(h.raw(1, "garbage").delivered(to: 1).first?.string("code") == "rate_limited")
    }

    @Test func disconnectAfterTooManyRefusalsInARow() {
        var h = Harness(ChatConfig(rateBurst: 1, rateDisconnectAfter: 3))
        h.connect(1); h.connect(2)
        h.say(1, "ok")
        #expect(h.say(1, "x").types(to: 1) == ["error"])
        #expect(h.say(1, "x").types(to: 1) == ["error"])
        let effects = h.say(1, "x")
        #expect(effects.closes.map(\.0) == [1])
        #expect(effects.closes.first?.1 == 1008)
        #expect(effects.delivered(to: 2).first?.event == "leave")
        #expect(h.machine.userCount == 1)
        #expect(h.drop(1).withoutLogs.isEmpty)   // the reactor's later disconnect is ignored
        #expect(h.say(1, "x").withoutLogs.isEmpty)
        h.check()
    }

    @Test func anAllowedRequestResetsTheRefusalRun() {
        var h = Harness(ChatConfig(ratePerSecond: 1, rateBurst: 1, rateDisconnectAfter: 3))
        h.connect(1)
        for _ in 0..<5 {
            h.say(1, "ok")
            h.say(1, "x"); h.say(1, "x")
            h.now += 1000
        }
        #expect(h.machine.userCount == 1)
    }

    /// SIGHUP: a new rate and burst apply from the next request, to sessions already open.
    @Test func aReloadedRateAppliesToOpenSessions() {
        var h = Harness(ChatConfig(ratePerSecond: 0, rateBurst: 1))
        h.connect(1)
        for _ in 0..<5 { #expect(h.say(1, "free").types(to: 1) == ["message"]) }
        h.machine.reload(ChatConfig(historySize: 1, rooms: ["elsewhere"], ratePerSecond: 1, rateBurst: 2))
        #expect(h.say(1, "one").types(to: 1) == ["message"])
        #expect(h.say(1, "two").types(to: 1) == ["error"], "the bucket kept its one token")
        h.now += 5_000
        #expect(h.say(1, "a").types(to: 1) == ["message"])
        #expect(h.say(1, "b").types(to: 1) == ["message"])
        #expect(h.say(1, "c").types(to: 1) == ["error"], "refilled up to the new burst of 2")
        #expect(h.machine.config.rooms == ["lobby"] && h.machine.config.historySize == 50, "the rest is not reloaded")
        h.check()
    }

    @Test func disabledWhenRateIsZero() {
        var h = Harness(ChatConfig(ratePerSecond: 0, rateBurst: 1))
        h.connect(1)
        for _ in 0..<100 { #expect(h.say(1, "ok").types(to: 1) == ["message"]) }
    }

    @Test func limiterArithmetic() {
        var limiter = RateLimiter(burst: 2, now: 0)
        #expect(limiter.take(now: 0, perSecond: 2, burst: 2) == .allowed)
        #expect(limiter.take(now: 0, perSecond: 2, burst: 2) == .allowed)
        #expect(limiter.take(now: 0, perSecond: 2, burst: 2) == .refused(retryAfterMs: 500, refusalsInRow: 1))
        #expect(limiter.take(now: 499, perSecond: 2, burst: 2) == .refused(retryAfterMs: 1, refusalsInRow: 2))
        #expect(limiter.take(now: 500, perSecond: 2, burst: 2) == .allowed)
        #expect(limiter.take(now: -1_000_000, perSecond: 2, burst: 2) == .refused(retryAfterMs: 500, refusalsInRow: 1))
    }
}
