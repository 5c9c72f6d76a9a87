import ConfabAuth
import ConfabChat
import ConfabCodec
import ConfabConfig
import ConfabProtocol
import ConfabReactor
import Logging

/// Accounts from signed tokens: who a chat upgrade is, and the 401 that refuses it.
extension ConfabServer {
    static func authenticator(_ config: ConfabConfig) throws(ConfigError) -> Authenticator {
        Authenticator(mode: config.auth.mode,
                      verifier: TokenVerifier(keys: try config.tokenKeys(), leewaySeconds: config.auth.leewaySeconds))
    }

    /// New keys, mode and leeway from a reloaded configuration (SIGHUP), for upgrades from now
    /// on; sessions already open keep their accounts. Throws, keeping the old ones, when the
    /// keys cannot be used.
    public func reloadAuth(_ config: ConfabConfig) throws(ConfigError) {
        authenticator = try Self.authenticator(config)
        logger.info("auth keys loaded", metadata: ["mode": "\(config.auth.mode.rawValue)"])
    }

    /// The account a chat upgrade presents, nil for an anonymous user, or the response that
    /// refuses it. Neither the token nor anything from it is logged.
    func account(for request: HTTPRequest, peer: String) -> Result<Account?, RefusedUpgrade> {
        switch authenticator.admit(request, now: WallClock.unixMillis()) {
        case .anonymous:
            return .success(nil)
        case .account(let token):
            return .success(Account(id: token.subject, name: token.displayName, rooms: token.rooms))
        case .refused(let failure):
            counters.refused[failure.code, default: 0] += 1
            counters.handshakeFailures[401, default: 0] += 1
            logger.info("upgrade refused", metadata: ["peer": "\(peer)", "status": "401", "code": "\(failure.code)"])
            return .failure(RefusedUpgrade(Self.unauthorized(failure)))
        }
    }

    /// 401 with `{"error":CODE,"message":TEXT}` and RFC 6750's `WWW-Authenticate` (the code
    /// again in `error_description`, for clients that read only the head).
    static func unauthorized(_ failure: TokenFailure) -> HTTPResponse {
        var challenge = #"Bearer realm="confab""#
        if failure != .missing {
            challenge += #", error="invalid_token", error_description="\#(failure.code)""#
        }
        var body = JSONWriter()
        body.beginObject()
        body.key("error")
        body.string(failure.code)
        body.key("message")
        body.string(failure.message)
        body.endObject()
        return HTTPResponse(status: 401, headers: [
            "Content-Type": "application/json", "WWW-Authenticate": challenge, "Cache-Control": "no-store",
        ], body: body.bytes + [UInt8(ascii: "\n")])
    }
}

/// An HTTP answer instead of the 101.
struct RefusedUpgrade: Error {
    var response: HTTPResponse
    init(_ response: HTTPResponse) { self.response = response }
}
