import Crypto
import Foundation
import Testing
import _CryptoExtras
@testable import ConfabAuth

@Suite struct TokenVerifierTests {
    typealias F = TokenFactory

    @Test func hs256TokenGivesItsClaims() throws {
        let token = F.hs256(F.claims(sub: "u-42", name: "Alice", rooms: ["dev", "ops"]))
        let identity = try F.verifier().verify(token, now: F.now).get()
        #expect(identity.subject == "u-42")
        #expect(identity.name == "Alice")
        #expect(identity.displayName == "Alice")
        #expect(identity.rooms == ["dev", "ops"])
        #expect(identity.expiresAt == Double(F.nowSeconds + 3600))
    }

    @Test func nameFallsBackToSubAndRoomsAreOptional() throws {
        let identity = try F.verifier().verify(F.hs256(F.claims(sub: "bob", name: nil)), now: F.now).get()
        #expect(identity.name == nil)
        #expect(identity.displayName == "bob")
        #expect(identity.rooms == nil)
    }

    @Test func rs256WithAnRSAPublicKey() throws {
        let verifier = try F.verifier(secret: nil, pem: F.rsaKey.publicKey.pemRepresentation)
        #expect(try verifier.verify(F.rs256(key: F.rsaKey), now: F.now).get().subject == "acct-1")
        #expect(verifier.verify(try F.rs256(key: F.otherRSAKey), now: F.now) == .failure(.badSignature))
    }

    @Test func es256WithAP256PublicKey() throws {
        let key = P256.Signing.PrivateKey()
        let verifier = try F.verifier(secret: nil, pem: key.publicKey.pemRepresentation)
        #expect(try verifier.verify(F.es256(key: key), now: F.now).get().subject == "acct-1")
        #expect(verifier.verify(try F.es256(key: P256.Signing.PrivateKey()), now: F.now) == .failure(.badSignature))
    }

    @Test func es256SignatureMustBeRawNotDER() throws {
        let key = P256.Signing.PrivateKey()
        let verifier = try F.verifier(secret: nil, pem: key.publicKey.pemRepresentation)
        let input = F.signingInput(alg: "ES256", claims: F.claims())
        let der = try key.signature(for: SHA256.hash(data: Array(input.utf8))).derRepresentation
        #expect(verifier.verify(input + "." + F.segment(Array(der)), now: F.now) == .failure(.badSignature))
    }

    @Test func bothKeysAcceptTheirOwnAlgorithmsOnly() throws {
        let key = P256.Signing.PrivateKey()
        let verifier = try F.verifier(pem: key.publicKey.pemRepresentation)
        #expect((try? verifier.verify(F.hs256(), now: F.now).get()) != nil)
        #expect((try? verifier.verify(F.es256(key: key), now: F.now).get()) != nil)
        #expect(verifier.verify(try F.rs256(key: F.rsaKey), now: F.now) == .failure(.wrongAlgorithm))
    }

    @Test func wrongSecretIsABadSignature() throws {
        let other = Array("another secret of thirty-two bytes or more".utf8)
        #expect(try F.verifier().verify(F.hs256(secret: other), now: F.now) == .failure(.badSignature))
    }

    @Test func tamperedPayloadIsABadSignature() throws {
        let token = F.hs256(F.claims(sub: "alice"))
        let parts = token.split(separator: ".").map(String.init)
        let forged = parts[0] + "." + F.segment(json: F.claims(sub: "admin")) + "." + parts[2]
        #expect(try F.verifier().verify(forged, now: F.now) == .failure(.badSignature))
    }

    @Test func algorithmNoneIsRefused() throws {
        let unsigned = F.signingInput(alg: "none", claims: F.claims())
        #expect(try F.verifier().verify(unsigned + ".", now: F.now) == .failure(.wrongAlgorithm))
        #expect(try F.verifier().verify(unsigned + ".c2ln", now: F.now) == .failure(.wrongAlgorithm))
    }

    @Test(arguments: ["HS512", "hs256", "RS256", "ES256", "PS256", "", "None", "NONE"])
    func algorithmsWithoutAKeyAreRefused(_ alg: String) throws {
        // Signed with the HS256 secret whatever the header says: the alg decides first.
        let input = F.signingInput(alg: alg, claims: F.claims())
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: F.secret))
        #expect(try F.verifier().verify(input + "." + F.segment(Array(mac)), now: F.now) == .failure(.wrongAlgorithm))
    }

    /// The classic confusion: the RSA public key, which is public, used as an HMAC secret.
    @Test func publicKeyUsedAsHMACSecretIsRefused() throws {
        let pem = F.rsaKey.publicKey.pemRepresentation
        let verifier = try F.verifier(secret: nil, pem: pem)
        let forged = F.hs256(secret: Array(pem.utf8))
        #expect(verifier.verify(forged, now: F.now) == .failure(.wrongAlgorithm))
    }

    @Test func expiryHonoursTheLeeway() throws {
        let verifier = try F.verifier(leeway: 30)
        #expect((try? verifier.verify(F.hs256(F.claims(exp: F.nowSeconds - 29)), now: F.now).get()) != nil)
        #expect(verifier.verify(F.hs256(F.claims(exp: F.nowSeconds - 30)), now: F.now) == .failure(.expired))
        #expect(verifier.verify(F.hs256(F.claims(exp: F.nowSeconds - 86_400)), now: F.now) == .failure(.expired))
        let strict = try F.verifier(leeway: 0)
        #expect(strict.verify(F.hs256(F.claims(exp: F.nowSeconds)), now: F.now) == .failure(.expired))
        #expect((try? strict.verify(F.hs256(F.claims(exp: F.nowSeconds + 1)), now: F.now).get()) != nil)
    }

    @Test func notBeforeHonoursTheLeeway() throws {
        let verifier = try F.verifier(leeway: 30)
        #expect((try? verifier.verify(F.hs256(F.claims(nbf: F.nowSeconds + 30)), now: F.now).get()) != nil)
        #expect(verifier.verify(F.hs256(F.claims(nbf: F.nowSeconds + 31)), now: F.now) == .failure(.notYetValid))
        #expect((try? verifier.verify(F.hs256(F.claims(nbf: F.nowSeconds - 5)), now: F.now).get()) != nil)
    }

    @Test func fractionalNumericDatesAreAccepted() throws {
        let claims = #"{"sub":"a","exp":\#(F.nowSeconds).5,"nbf":1.0e9}"#
        #expect((try? F.verifier(leeway: 0).verify(F.hs256(claims), now: F.now).get()) != nil)
    }

    @Test(arguments: [
        ("no sub", #"{"exp":9999999999}"#),
        ("numeric sub", #"{"sub":42,"exp":9999999999}"#),
        ("empty sub", #"{"sub":"","exp":9999999999}"#),
        ("control in sub", #"{"sub":"a\nb","exp":9999999999}"#),
        ("numeric name", #"{"sub":"a","name":7,"exp":9999999999}"#),
        ("empty name", #"{"sub":"a","name":"","exp":9999999999}"#),
        ("rooms string", #"{"sub":"a","rooms":"dev","exp":9999999999}"#),
        ("rooms of numbers", #"{"sub":"a","rooms":[1],"exp":9999999999}"#),
        ("no exp", #"{"sub":"a"}"#),
        ("exp string", #"{"sub":"a","exp":"9999999999"}"#),
        ("nbf string", #"{"sub":"a","exp":9999999999,"nbf":"0"}"#),
    ])
    func claimsOfTheWrongShape(_ label: String, _ claims: String) throws {
        guard case .failure(.invalidClaims) = try F.verifier().verify(F.hs256(claims), now: F.now) else {
            Issue.record("\(label): not refused as invalid claims")
            return
        }
    }

    @Test func longSubjectIsRefusedAndNullClaimsAreAbsent() throws {
        let long = String(repeating: "s", count: 256)
        guard case .failure(.invalidClaims) = try F.verifier().verify(F.hs256(F.claims(sub: long)), now: F.now) else {
            Issue.record("a 256-byte sub was accepted")
            return
        }
        let nulls = #"{"sub":"a","name":null,"rooms":null,"nbf":null,"exp":9999999999}"#
        let identity = try F.verifier().verify(F.hs256(nulls), now: F.now).get()
        #expect(identity.name == nil && identity.rooms == nil)
    }

    @Test func duplicateClaimsAreMalformed() throws {
        let claims = #"{"sub":"alice","sub":"admin","exp":9999999999}"#
        guard case .failure(.malformed) = try F.verifier().verify(F.hs256(claims), now: F.now) else {
            Issue.record("duplicate sub accepted")
            return
        }
    }

    @Test(arguments: [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        ".payload.sig",
        "header..sig",
        "e30.e30.e30",  // {} header: no alg
        "W10.e30.sig",  // [] header
        "eyJhbGciOiJIUzI1NiJ9=.e30.sig",  // padding
        "eyJhbGciOiJIUzI1NiJ9+.e30.sig",  // standard alphabet
        "eyJhbGciOiJIUzI1NiJ.e30.sig",  // non-canonical last character
        "eyJhbGciOiJIUzI1NiI.e30.sig",  // invalid JSON (cut)
        "_-8.e30.sig",  // invalid UTF-8
    ])
    func malformedTokens(_ token: String) throws {
        guard case .failure(.malformed) = try F.verifier().verify(token, now: F.now) else {
            Issue.record("\(token) not refused as malformed")
            return
        }
    }

    @Test func criticalHeaderExtensionsAreRefused() throws {
        let header = F.segment(json: #"{"alg":"HS256","crit":["exp"]}"#)
        let input = header + "." + F.segment(json: F.claims())
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: F.secret))
        #expect(try F.verifier().verify(input + "." + F.segment(Array(mac)), now: F.now) == .failure(.malformed("the header has crit")))
    }

    @Test func duplicateAlgIsMalformed() throws {
        let header = F.segment(json: #"{"alg":"none","alg":"HS256"}"#)
        let input = header + "." + F.segment(json: F.claims())
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: F.secret))
        guard case .failure(.malformed) = try F.verifier().verify(input + "." + F.segment(Array(mac)), now: F.now) else {
            Issue.record("two algs accepted")
            return
        }
    }

    @Test func badSignatureEncodings() throws {
        let input = F.signingInput(alg: "HS256", claims: F.claims())
        for signature in ["", "!!!!", "AAAA", "c2ln="] {
            #expect(try F.verifier().verify(input + "." + signature, now: F.now) == .failure(.badSignature))
        }
    }

    @Test func hugeTokensAreRefusedBeforeDecoding() throws {
        let huge = F.hs256(F.claims(name: String(repeating: "x", count: 9000)))
        #expect(try F.verifier().verify(huge, now: F.now) == .failure(.malformed("longer than 8192 bytes")))
        let endless = String(repeating: "A", count: 1 << 20)
        guard case .failure(.malformed) = try F.verifier().verify(endless, now: F.now) else {
            Issue.record("a megabyte of A accepted")
            return
        }
    }

    @Test func messagesNeverQuoteTheTokenOrKey() throws {
        let token = F.hs256(F.claims(sub: "sekrit-subject", exp: F.nowSeconds - 3600))
        let failures: [TokenFailure] = [
            try F.verifier().verify(token, now: F.now).failure,
            try F.verifier(secret: Array("wrong-secret-wrong-secret-wrong-secret".utf8)).verify(F.hs256(), now: F.now).failure,
            try F.verifier().verify("x." + token, now: F.now).failure,
        ].compactMap { $0 }
        #expect(failures.count == 3)
        for failure in failures {
            for piece in token.split(separator: ".").map(String.init) + ["sekrit", String(decoding: F.secret, as: UTF8.self)] {
                #expect(!failure.message.contains(piece))
            }
        }
    }
}

extension Result {
    var failure: Failure? { if case .failure(let error) = self { return error } else { return nil } }
}
