/// A token bucket per session over every request. Integer milli-tokens keep it exact and
/// deterministic; time comes from the event.
struct RateLimiter: Sendable {
    enum Decision: Equatable {
        case allowed
        /// Refused; `refusalsInRow` counts consecutive refusals, `retryAfterMs` is when a token is back.
        case refused(retryAfterMs: Int64, refusalsInRow: Int)
    }

    private var milliTokens: Int64
    private var lastRefill: Int64
    private(set) var refusalsInRow = 0

    init(burst: Int, now: Int64) {
        milliTokens = Int64(max(1, burst)) * 1000
        lastRefill = now
    }

    mutating func take(now: Int64, perSecond: Double, burst: Int) -> Decision {
        guard perSecond > 0 else { return .allowed }
        let capacity = Int64(max(1, burst)) * 1000
        // milli-tokens per millisecond = perSecond; clamp elapsed so a clock jump cannot overflow.
        let elapsed = min(max(0, now - lastRefill), 86_400_000)
        // Int64(_:) truncates, which is floor for these non-negative values (and needs no libm).
        let refill = Int64(min(Double(elapsed) * perSecond, 1e15))
        if refill > 0 {
            milliTokens = min(capacity, milliTokens + refill)
            lastRefill = now
        } else if now < lastRefill {
            lastRefill = now
        }
        if milliTokens >= 1000 {
            milliTokens -= 1000
            refusalsInRow = 0
            return .allowed
        }
        refusalsInRow += 1
        let missing = Double(1000 - milliTokens)
        let wait = min(missing / perSecond, 1e12)
        var retry = Int64(wait)
        if Double(retry) < wait { retry += 1 }
        return .refused(retryAfterMs: max(1, retry), refusalsInRow: refusalsInRow)
    }
}
