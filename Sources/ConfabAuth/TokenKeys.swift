import Crypto
import _CryptoExtras

/// The keys tokens are checked against. Each key type admits exactly one algorithm, so a
/// token cannot pick how it is verified (no RS256 public key used as an HMAC secret).
public struct TokenKeys: Sendable {
    let secret: SymmetricKey?
    let rsa: _RSA.Signing.PublicKey?
    let p256: P256.Signing.PublicKey?

    /// HS256 keys shorter than the hash are forbidden (RFC 7518 §3.2).
    public static let minimumSecretBytes = 32

    public enum Problem: Error, Sendable, Equatable {
        case secretTooShort
        case privateKey
        case notAPublicKey

        /// What was expected, for a config error; never quotes the key.
        public var expected: String {
            switch self {
            case .secretTooShort: return "a secret of at least \(TokenKeys.minimumSecretBytes) bytes"
            case .privateKey, .notAPublicKey:
                return "a PEM public key: RSA of 2048 bits or more, or EC P-256"
            }
        }

        public var found: String {
            switch self {
            case .secretTooShort: return "a shorter secret"
            case .privateKey: return "a private key (give Confab only the public key)"
            case .notAPublicKey: return "no such key in the file"
            }
        }
    }

    /// `secret` is the HS256 secret's bytes, `publicKeyPEM` the text of a PEM public key.
    public init(secret: [UInt8]?, publicKeyPEM: String?) throws(Problem) {
        if let secret, secret.count < Self.minimumSecretBytes { throw .secretTooShort }
        self.secret = secret.map { SymmetricKey(data: $0) }
        var rsa: _RSA.Signing.PublicKey?
        var p256: P256.Signing.PublicKey?
        if let pem = publicKeyPEM {
            if pem.contains("PRIVATE KEY-----") { throw .privateKey }
            if let key = try? P256.Signing.PublicKey(pemRepresentation: pem) {
                p256 = key
            } else if let key = try? _RSA.Signing.PublicKey(pemRepresentation: pem) {
                rsa = key  // swift-crypto refuses RSA keys under 2048 bits
            } else {
                throw .notAPublicKey
            }
        }
        self.rsa = rsa
        self.p256 = p256
    }

    /// No key at all: every token would be refused.
    public var isEmpty: Bool { secret == nil && rsa == nil && p256 == nil }

    /// Whether `alg` names an algorithm a configured key verifies.
    func accepts(_ alg: String) -> Bool {
        switch alg {
        case "HS256": return secret != nil
        case "RS256": return rsa != nil
        case "ES256": return p256 != nil
        default: return false  // "none", "HS512", "hs256", ...: never
        }
    }

    /// Checks `signature` over `signed` (the ASCII of `header.payload`) with `alg`'s key.
    func verify(alg: String, signature: [UInt8], signed: [UInt8]) -> Bool {
        switch alg {
        case "HS256":
            guard let secret else { return false }
            return HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: secret)
        case "RS256":
            guard let rsa else { return false }
            return rsa.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature),
                                        for: SHA256.hash(data: signed), padding: .insecurePKCS1v1_5)
        case "ES256":
            // JWS carries r || s, 32 bytes each (RFC 7518 §3.4), not DER.
            guard let p256, signature.count == 64,
                  let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return p256.isValidSignature(parsed, for: SHA256.hash(data: signed))
        default:
            return false
        }
    }
}
