import Crypto
import Foundation
import _CryptoExtras
@testable import ConfabAuth

/// Builds compact JWS tokens with swift-crypto, independently of the verifier's code paths.
enum TokenFactory {
    static let now: Int64 = 1_700_000_000_000
    static var nowSeconds: Int { Int(now / 1000) }
    static let secret = Array("0123456789abcdef0123456789abcdef-test".utf8)

    static func segment(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func segment(json: String) -> String { segment(Array(json.utf8)) }

    static func claims(sub: String = "acct-1", name: String? = "Alice", rooms: [String]? = nil,
                       exp: Int? = nil, nbf: Int? = nil) -> String {
        var parts = [#""sub":"\#(sub)""#]
        if let name { parts.append(#""name":"\#(name)""#) }
        if let rooms { parts.append(#""rooms":[\#(rooms.map { "\"\($0)\"" }.joined(separator: ","))]"#) }
        parts.append(#""exp":\#(exp ?? nowSeconds + 3600)"#)
        if let nbf { parts.append(#""nbf":\#(nbf)"#) }
        return "{" + parts.joined(separator: ",") + "}"
    }

    /// `header.payload` for `alg`, unsigned.
    static func signingInput(alg: String, claims: String) -> String {
        segment(json: #"{"alg":"\#(alg)","typ":"JWT"}"#) + "." + segment(json: claims)
    }

    static func hs256(_ claims: String = claims(), secret: [UInt8] = secret) -> String {
        let input = signingInput(alg: "HS256", claims: claims)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: secret))
        return input + "." + segment(Array(mac))
    }

    static func rs256(_ claims: String = claims(), key: _RSA.Signing.PrivateKey) throws -> String {
        let input = signingInput(alg: "RS256", claims: claims)
        let signature = try key.signature(for: SHA256.hash(data: Array(input.utf8)), padding: .insecurePKCS1v1_5)
        return input + "." + segment(Array(signature.rawRepresentation))
    }

    static func es256(_ claims: String = claims(), key: P256.Signing.PrivateKey) throws -> String {
        let input = signingInput(alg: "ES256", claims: claims)
        let signature = try key.signature(for: SHA256.hash(data: Array(input.utf8)))
        return input + "." + segment(Array(signature.rawRepresentation))
    }

    /// One RSA key for the whole run: generating them is slow.
    static let rsaKey: _RSA.Signing.PrivateKey = {
        do { return try _RSA.Signing.PrivateKey(keySize: .bits2048) } catch { fatalError("RSA key: \(error)") }
    }()
    static let otherRSAKey: _RSA.Signing.PrivateKey = {
        do { return try _RSA.Signing.PrivateKey(keySize: .bits2048) } catch { fatalError("RSA key: \(error)") }
    }()

    static func verifier(secret: [UInt8]? = secret, pem: String? = nil, leeway: Int = 30) throws -> TokenVerifier {
        TokenVerifier(keys: try TokenKeys(secret: secret, publicKeyPEM: pem), leewaySeconds: leeway)
    }
}
