/// Why a token was refused. Each case is one stable code in the 401 body (docs/PROTOCOL.md,
/// "Accounts"); messages describe the rule broken and never quote the token or the key.
public enum TokenFailure: Error, Sendable, Equatable {
    /// `auth.mode: required` and the upgrade carried no token.
    case missing
    /// Not a compact JWS we can read: segments, base64url, JSON, size, `crit`.
    case malformed(String)
    /// `alg` is `none`, unknown, or has no configured key (HS256 needs the secret, RS256 an
    /// RSA public key, ES256 a P-256 public key).
    case wrongAlgorithm
    case badSignature
    case expired
    case notYetValid
    /// Signed correctly, but a claim we use is missing or of the wrong shape.
    case invalidClaims(String)

    public var code: String {
        switch self {
        case .missing: return "token_required"
        case .malformed: return "token_malformed"
        case .wrongAlgorithm: return "token_wrong_algorithm"
        case .badSignature: return "token_bad_signature"
        case .expired: return "token_expired"
        case .notYetValid: return "token_not_yet_valid"
        case .invalidClaims: return "token_invalid_claims"
        }
    }

    public var message: String {
        switch self {
        case .missing: return "a token is required: ?token=JWT or Authorization: Bearer JWT"
        case .malformed(let why): return "the token is malformed: \(why)"
        case .wrongAlgorithm: return "the token's algorithm is not accepted"
        case .badSignature: return "the token's signature does not verify"
        case .expired: return "the token has expired"
        case .notYetValid: return "the token is not valid yet"
        case .invalidClaims(let why): return "the token's claims are invalid: \(why)"
        }
    }
}
