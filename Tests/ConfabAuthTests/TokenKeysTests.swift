import Crypto
import Testing
import _CryptoExtras
@testable import ConfabAuth

@Suite struct TokenKeysTests {
    @Test func shortSecretsAreRefused() {
        #expect(throws: TokenKeys.Problem.secretTooShort) { try TokenKeys(secret: Array("short".utf8), publicKeyPEM: nil) }
        #expect(throws: Never.self) { try TokenKeys(secret: Array(repeating: 65, count: 32), publicKeyPEM: nil) }
    }

    @Test func privateKeysAreRefusedWithAReason() {
        let pem = P256.Signing.PrivateKey().pemRepresentation
        #expect(throws: TokenKeys.Problem.privateKey) { try TokenKeys(secret: nil, publicKeyPEM: pem) }
    }

    @Test(arguments: [
        "",
        "not a key",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        P384.Signing.PrivateKey().publicKey.pemRepresentation,
    ])
    func otherTextIsNotAPublicKey(_ pem: String) {
        #expect(throws: TokenKeys.Problem.notAPublicKey) { try TokenKeys(secret: nil, publicKeyPEM: pem) }
    }

    @Test func smallRSAKeysAreRefused() throws {
        let small = try _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: 1024))
        #expect(throws: TokenKeys.Problem.notAPublicKey) {
            try TokenKeys(secret: nil, publicKeyPEM: small.publicKey.pemRepresentation)
        }
    }

    @Test func keysAdmitTheirOwnAlgorithms() throws {
        let keys = try TokenKeys(secret: TokenFactory.secret, publicKeyPEM: TokenFactory.rsaKey.publicKey.pemRepresentation)
        #expect(keys.accepts("HS256") && keys.accepts("RS256"))
        #expect(!keys.accepts("ES256") && !keys.accepts("none"))
        #expect(try TokenKeys(secret: nil, publicKeyPEM: nil).isEmpty)
    }
}
