import ConfabAuth
import Foundation

/// Checks of the `auth` section once every layer is applied: a mode that needs a key has one,
/// the key file holds a usable public key (its text is kept in the config), and no listener
/// that cannot carry a token is open when tokens are required.
enum AuthRules {
    /// Larger than any PEM public key Confab accepts, small enough to read at once.
    static let maxKeyFileBytes = 64 * 1024

    static func check(_ config: inout ConfabConfig, origin: (String) -> CrossKeyRules.Origin?) throws(ConfigError) {
        func error(_ kind: ConfigError.Kind, _ path: String, expected: String, found: String) -> ConfigError {
            let from = origin(path)
            return ConfigError(kind: kind, source: from?.source ?? .file("<defaults>"), line: from?.line,
                               keyPath: path, expected: expected, found: found)
        }
        let auth = config.auth
        if let path = auth.jwt.publicKeyFile {
            let text: String
            switch readKeyFile(path) {
            case .success(let read): text = read
            case .failure(let why): throw error(.unreadable, "auth.jwt.publicKeyFile", expected: "", found: "\(path): \(why)")
            }
            do throws(TokenKeys.Problem) {
                _ = try TokenKeys(secret: nil, publicKeyPEM: text)
            } catch {
                throw ConfabConfig.keyError(error, origin: origin)
            }
            config.auth.jwt.publicKeyPEM = text
        } else {
            config.auth.jwt.publicKeyPEM = nil
        }
        guard auth.mode != .none else { return }
        if auth.jwt.secret == nil && auth.jwt.publicKeyFile == nil {
            let path = origin("auth.mode") != nil || origin("auth.jwt.secret") == nil ? "auth.mode" : "auth.jwt.secret"
            throw error(.crossKey, path, expected: path == "auth.mode"
                        ? "none, or a key in auth.jwt.secret or auth.jwt.publicKeyFile"
                        : "a secret, since auth.mode is \(auth.mode.rawValue)",
                        found: origin(path)?.found ?? "null")
        }
        guard auth.mode == .required else { return }
        // Plain TCP lines and PixIDE clients cannot present a token: they would bypass it.
        if config.line.enabled {
            throw error(.crossKey, "line.enabled", expected: "false while auth.mode is required (line chat carries no token)",
                        found: origin("line.enabled")?.found ?? "true")
        }
        if let pixide = config.compat.pixidePath {
            throw error(.crossKey, "compat.pixidePath", expected: "null while auth.mode is required (PixIDE carries no token)",
                        found: origin("compat.pixidePath")?.found ?? quoted(pixide))
        }
    }

    private static func readKeyFile(_ path: String) -> Result<String, ReadProblem> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return .failure(.missing) }
        guard !isDirectory.boolValue else { return .failure(.directory) }
        guard let data = FileManager.default.contents(atPath: path) else { return .failure(.unreadable) }
        guard data.count <= maxKeyFileBytes else { return .failure(.tooLarge) }
        guard let text = String(data: data, encoding: .utf8) else { return .failure(.notText) }
        return .success(text)
    }

    enum ReadProblem: Error, CustomStringConvertible {
        case missing, directory, unreadable, tooLarge, notText
        var description: String {
            switch self {
            case .missing: return "no such file"
            case .directory: return "it is a directory"
            case .unreadable: return "permission denied or I/O error"
            case .tooLarge: return "larger than \(AuthRules.maxKeyFileBytes) bytes"
            case .notText: return "not UTF-8 text"
            }
        }
    }
}

extension ConfabConfig {
    /// The verifier for `auth`, from keys the loader has already checked. It can only fail for
    /// a config built by hand around the loader; the error then names the key like the loader's.
    public func tokenKeys() throws(ConfigError) -> TokenKeys {
        do throws(TokenKeys.Problem) {
            return try TokenKeys(secret: auth.jwt.secret.map { Array($0.value.utf8) }, publicKeyPEM: auth.jwt.publicKeyPEM)
        } catch {
            throw Self.keyError(error, origin: { _ in nil })
        }
    }

    static func keyError(_ problem: TokenKeys.Problem, origin: (String) -> CrossKeyRules.Origin?) -> ConfigError {
        let path = problem == .secretTooShort ? "auth.jwt.secret" : "auth.jwt.publicKeyFile"
        let from = origin(path)
        return ConfigError(kind: .notAllowed, source: from?.source ?? .file("<defaults>"), line: from?.line,
                           keyPath: path, expected: problem.expected, found: problem.found)
    }
}
