import ConfabAuth

/// `auth.*`: accounts from signed tokens (JWT) on the chat upgrade.
public struct AuthSettings: Sendable, Equatable {
    /// `none`: a server that nobody configured for accounts behaves as before they existed.
    public var mode = AuthMode.none
    public var jwt = JWTSettings()
    /// Clocks of the token issuer and this host disagree by a few seconds; 30 s covers NTP-synced
    /// hosts without keeping an expired token alive for long.
    public var leewaySeconds = 30
    /// Off: an account's name is the one its token gives, so nobody is shown under another name.
    public var allowRename = false

    public init() {}
}

/// `auth.jwt.*`: the keys tokens are checked against.
public struct JWTSettings: Sendable, Equatable {
    /// The HS256 secret. Best given as `CONFAB_AUTH_JWT_SECRET`, out of files and listings.
    public var secret: Secret? = nil
    /// A PEM public key (RSA for RS256, EC P-256 for ES256), relative to the working directory.
    public var publicKeyFile: String? = nil
    /// The text of `publicKeyFile`, read and checked by the loader, so that a reload re-reads it.
    public internal(set) var publicKeyPEM: String? = nil

    public init() {}
}

/// A value that must not be printed: it describes itself as `(secret)`.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let value: String
    public init(_ value: String) { self.value = value }
    public var description: String { "(secret)" }
    public var debugDescription: String { "(secret)" }
}

extension ValueKind where Value == Secret? {
    /// A secret of at least `TokenKeys.minimumSecretBytes`, or null. Errors say how long the
    /// value was, never what it was; it renders as `(set)`.
    static var secret: ValueKind {
        let minimum = TokenKeys.minimumSecretBytes
        let expected = "null or a secret of at least \(minimum) bytes"
        return ValueKind(
            typeName: "string or null", allowed: "null or >= \(minimum) bytes", expected: expected, isSecret: true,
            parse: { (raw) throws(ValueProblem) -> Secret? in
                switch raw {
                case .null, .scalar(""): return nil
                case .scalar(let text) where text.utf8.count >= minimum: return Secret(text)
                case .scalar(let text):
                    throw ValueProblem(kind: .notAllowed, expected: expected, found: "a value of \(text.utf8.count) bytes")
                case .list, .other:
                    throw ValueProblem(kind: .wrongType, expected: expected, found: "a value that is not a string")
                }
            },
            render: { $0 == nil ? "null" : "(set)" })
    }
}
