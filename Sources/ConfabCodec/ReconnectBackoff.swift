/// Exponential backoff with full jitter for reconnecting: attempt n waits a random time in
/// [base·2ⁿ / 2, base·2ⁿ], capped at `maxMs`. Half the window is fixed so a reconnect is
/// never instant; the other half is jitter so many clients dropped by one server restart
/// do not come back in the same millisecond. Randomness is a parameter, for tests.
public struct ReconnectBackoff: Sendable, Equatable {
    /// First retry after 250–500 ms: fast enough for a blip, not a hammering loop.
    public var baseMs: UInt64 = 500
    /// Never wait more than 10 s: the resume grace period is 30 s by default, so a client
    /// still gets several attempts inside it.
    public var maxMs: UInt64 = 10_000
    public private(set) var attempt = 0

    public init(baseMs: UInt64 = 500, maxMs: UInt64 = 10_000) {
        self.baseMs = baseMs
        self.maxMs = maxMs
    }

    /// The wait before the next attempt; `unit` is a random number in [0, 1).
    public mutating func nextDelay(unit: Double) -> UInt64 {
        let shift = min(attempt, 20)
        let window = min(maxMs, baseMs << UInt64(shift))
        attempt += 1
        let jitter = UInt64(Double(window / 2) * min(max(unit, 0), 1))
        return window - window / 2 + jitter
    }

    /// After a successful connection.
    public mutating func reset() { attempt = 0 }
}
