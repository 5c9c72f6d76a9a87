import ConfabCodec
import Testing

@Suite struct ReconnectBackoffTests {
    @Test func doublesWithJitterUpToTheCap() {
        var backoff = ReconnectBackoff(baseMs: 500, maxMs: 4000)
        #expect(backoff.nextDelay(unit: 0) == 250)
        #expect(backoff.nextDelay(unit: 1) == 1000)
        #expect(backoff.nextDelay(unit: 0.5) == 1500)
        #expect(backoff.nextDelay(unit: 0) == 2000)
        #expect(backoff.nextDelay(unit: 0.999) < 4000)
        for _ in 0..<100 { #expect(backoff.nextDelay(unit: 1) == 4000) }
        backoff.reset()
        #expect(backoff.nextDelay(unit: 0) == 250)
    }
}
