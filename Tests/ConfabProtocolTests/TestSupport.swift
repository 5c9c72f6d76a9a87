import Foundation
import Testing
@testable import ConfabProtocol

typealias JSON = [String: Any]

/// A server message parsed by protocol v1's client half.
func decoded(_ json: String) -> ServerMessage {
    guard let message = ProtocolV1.decodeMessage(Array(json.utf8)) else {
        Issue.record("undecodable: \(json)")
        return .system("", re: nil)
    }
    return message
}

/// Deterministic bytes for the never-traps tests (xorshift64*).
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed | 1 }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}
