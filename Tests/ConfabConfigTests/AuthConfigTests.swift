import Foundation
import Testing
@testable import ConfabConfig

@Suite struct AuthConfigTests {
    static let secret = "a-secret-of-more-than-thirty-two-bytes-0123"
    static let p256PEM = """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEuKfDRp+eN233TebF5vj7EiWDNxUC
        J/nGLxFHWN5Zu0I7av+icishboTPuD8fbGlgAaHBhAMN/TuPLsDYrsU9BQ==
        -----END PUBLIC KEY-----

        """

    @Test func defaultsKeepAccountsOff() throws {
        let auth = try load("").auth
        #expect(auth.mode == .none)
        #expect(auth.jwt.secret == nil && auth.jwt.publicKeyFile == nil && auth.jwt.publicKeyPEM == nil)
        #expect(auth.leewaySeconds == 30)
        #expect(!auth.allowRename)
    }

    @Test func theSecretComesFromTheEnvironmentAndIsNeverShown() throws {
        let config = try load("auth:\n  mode: required\n", environment: ["CONFAB_AUTH_JWT_SECRET": Self.secret])
        #expect(config.auth.mode == .required)
        #expect(config.auth.jwt.secret?.value == Self.secret)
        #expect("\(config.auth)".contains(Self.secret) == false)
        #expect(ConfigKey.named("auth.jwt.secret")?.value(in: config) == "(set)")
        #expect(try config.tokenKeys().isEmpty == false)
    }

    @Test func aShortSecretIsRefusedWithoutQuotingIt() throws {
        let error = try #require(loadError(nil, environment: ["CONFAB_AUTH_JWT_SECRET": "hunter2"]))
        #expect(error.description == """
            environment CONFAB_AUTH_JWT_SECRET: expected null or a secret of at least 32 bytes, found a value of 7 bytes
            """)
        let inFile = try #require(loadError("auth:\n  jwt:\n    secret: hunter2\n"))
        #expect(inFile.line == 3)
        #expect(!inFile.description.contains("hunter2"))
    }

    @Test func aModeThatNeedsAKeyHasOne() throws {
        let error = try #require(loadError("auth:\n  mode: optional\n"))
        #expect(error.kind == .crossKey)
        #expect(error.keyPath == "auth.mode")
        #expect(error.line == 2)
        #expect(error.description == """
            config/confab.yaml:2: auth.mode: expected none, or a key in auth.jwt.secret or auth.jwt.publicKeyFile, found "optional"
            """)
        let env = try #require(loadError(nil, environment: ["CONFAB_AUTH_MODE": "required"]))
        #expect(env.description.hasPrefix("environment CONFAB_AUTH_MODE: expected none, or a key"))
        #expect(try load("auth:\n  mode: none\n").auth.mode == .none)
    }

    @Test func thePublicKeyFileIsReadAndChecked() throws {
        let path = try temporaryFile(Self.p256PEM)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let config = try load("auth:\n  mode: required\n  jwt:\n    publicKeyFile: \(path)\n")
        #expect(config.auth.jwt.publicKeyPEM == Self.p256PEM)
        #expect(try config.tokenKeys().isEmpty == false)
    }

    @Test func anUnreadableKeyFileNamesTheKeyAndLine() throws {
        let error = try #require(loadError("auth:\n  jwt:\n    publicKeyFile: /nonexistent/key.pem\n"))
        #expect(error.kind == .unreadable)
        #expect(error.description == """
            config/confab.yaml:3: auth.jwt.publicKeyFile: cannot read file: /nonexistent/key.pem: no such file
            """)
    }

    @Test(arguments: [
        ("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n", "a private key"),
        ("hello\n", "no such key in the file"),
    ])
    func aKeyFileWithoutAPublicKeyIsRefused(_ text: String, _ found: String) throws {
        let path = try temporaryFile(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = try #require(loadError(nil, environment: ["CONFAB_AUTH_JWT_PUBLIC_KEY_FILE": path]))
        #expect(error.kind == .notAllowed)
        #expect(error.keyPath == "auth.jwt.publicKeyFile")
        #expect(error.description.hasPrefix("environment CONFAB_AUTH_JWT_PUBLIC_KEY_FILE: expected a PEM public key"))
        #expect(error.found.hasPrefix(found))
        #expect(!error.description.contains("MIGHAgEA"))
    }

    @Test func requiredTokensCloseTheDoorsThatCannotCarryOne() throws {
        let line = try #require(loadError("line:\n  enabled: true\nauth:\n  mode: required\n",
                                          environment: ["CONFAB_AUTH_JWT_SECRET": Self.secret]))
        #expect(line.keyPath == "line.enabled")
        #expect(line.line == 2)
        let pixide = try #require(loadError("compat:\n  pixidePath: /pixide\nauth:\n  mode: required\n",
                                            environment: ["CONFAB_AUTH_JWT_SECRET": Self.secret]))
        #expect(pixide.keyPath == "compat.pixidePath")
        // Optional tokens leave them open: their users are anonymous.
        let optional = try load("line:\n  enabled: true\nauth:\n  mode: optional\n", environment: ["CONFAB_AUTH_JWT_SECRET": Self.secret])
        #expect(optional.line.enabled)
    }

    @Test func theClientsTokenVariableIsNotAnError() throws {
        #expect(try load("", environment: ["CONFAB_TOKEN": "eyJ..."]).auth.mode == .none)
    }

    @Test func leewayAndRename() throws {
        let config = try load("auth:\n  leewaySeconds: 0\n  allowRename: true\n")
        #expect(config.auth.leewaySeconds == 0)
        #expect(config.auth.allowRename)
        #expect(loadError("auth:\n  leewaySeconds: 3600\n")?.kind == .outOfRange)
    }
}
