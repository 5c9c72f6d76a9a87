import ConfabCodec

/// `auth.mode`: whether chat upgrades carry signed tokens.
public enum AuthMode: String, Sendable, CaseIterable {
    /// Tokens are ignored: everyone is anonymous (the behaviour before accounts existed).
    case none
    /// A token makes the connection an account; none is anonymous; a bad one is refused.
    case optional
    /// Every chat upgrade needs a valid token.
    case required
}

/// Who an upgrade request is, before the 101.
public enum Admittance: Sendable, Equatable {
    case anonymous
    case account(VerifiedToken)
    case refused(TokenFailure)
}

/// The verifier with its policy: where the token is found and what its absence means.
public struct Authenticator: Sendable {
    public var mode: AuthMode
    public var verifier: TokenVerifier

    public init(mode: AuthMode, verifier: TokenVerifier) {
        self.mode = mode
        self.verifier = verifier
    }

    /// `now` is Unix epoch milliseconds.
    public func admit(_ request: HTTPRequest, now: Int64) -> Admittance {
        guard mode != .none else { return .anonymous }
        let token: String
        switch Self.token(in: request) {
        case .failure(let failure): return .refused(failure)
        case .success(nil): return mode == .required ? .refused(.missing) : .anonymous
        case .success(let found?): token = found
        }
        switch verifier.verify(token, now: now) {
        case .success(let identity): return .account(identity)
        case .failure(let failure): return .refused(failure)
        }
    }

    /// The token of `?token=` or `Authorization: Bearer` (RFC 6750 §2.1, §2.3); both at once
    /// is refused (§2: a client uses one method). Empty values and other schemes count as none.
    static func token(in request: HTTPRequest) -> Result<String?, TokenFailure> {
        let query = request.query["token"].flatMap { $0.isEmpty ? nil : $0 }
        var header: String?
        if let value = request.headers["Authorization"] {
            let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                let token = parts[1].trimmingSpaces
                header = token.isEmpty ? nil : token
            }
        }
        if query != nil && header != nil {
            return .failure(.malformed("given both in ?token= and in Authorization"))
        }
        return .success(query ?? header)
    }
}

private extension Substring {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
