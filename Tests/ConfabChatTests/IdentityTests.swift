import Testing
@testable import ConfabChat

@Suite struct IdentityTests {
    @Test func resumeTokensRoundTripAndRefuseAnythingElse() {
        var random = SplitMix64(seed: 3)
        let text = Tokens.random(words: 3, using: &random)
        #expect(ResumeToken(text)?.string == text)
        #expect(ResumeToken(text) == ResumeToken(text))
        #expect(ResumeToken(String(text.dropLast())) == nil)
        #expect(ResumeToken(String(text.dropLast()) + "=") == nil)
        #expect(ResumeToken(text + "A") == nil)
        #expect(ResumeToken(String(repeating: "é", count: 16)) == nil)
    }

    @Test func userIDsAreUniqueAndOpaque() {
        var random = SplitMix64(seed: 9)
        let ids = UserIDs(using: &random)
        let made = (1...100_000 as ClosedRange<SessionKey>).map(ids.id(for:))
        #expect(Set(made).count == made.count)
        #expect(made.allSatisfy { $0.utf8.count == 12 && $0.hasPrefix("u") })
        // Consecutive sessions do not get visibly consecutive ids.
        #expect(made[0].dropFirst(6) != made[1].dropFirst(6))
    }
}
