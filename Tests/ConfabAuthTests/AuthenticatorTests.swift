import ConfabCodec
import Testing
@testable import ConfabAuth

@Suite struct AuthenticatorTests {
    typealias F = TokenFactory

    func request(query: [String: String] = [:], authorization: String? = nil) -> HTTPRequest {
        var headers = HTTPHeaders([("Host", "localhost")])
        if let authorization { headers.add(name: "Authorization", value: authorization) }
        return HTTPRequest(method: "GET", target: "/ws", rawPath: "/ws", path: "/ws", query: query,
                           version: .http1_1, headers: headers, keepAlive: true, hasBody: false, contentLength: nil)
    }

    func authenticator(_ mode: AuthMode) throws -> Authenticator {
        Authenticator(mode: mode, verifier: try F.verifier())
    }

    @Test func modeNoneIgnoresEveryToken() throws {
        let none = try authenticator(.none)
        #expect(none.admit(request(query: ["token": "garbage"]), now: F.now) == .anonymous)
        #expect(none.admit(request(query: ["token": F.hs256()]), now: F.now) == .anonymous)
    }

    @Test func optionalAdmitsAnonymousButNotBadTokens() throws {
        let optional = try authenticator(.optional)
        #expect(optional.admit(request(), now: F.now) == .anonymous)
        #expect(optional.admit(request(query: ["token": ""]), now: F.now) == .anonymous)
        #expect(optional.admit(request(query: ["token": "garbage"]), now: F.now) == .refused(.malformed("not three dot-separated segments")))
        guard case .account(let identity) = optional.admit(request(query: ["token": F.hs256()]), now: F.now) else {
            Issue.record("valid token not admitted")
            return
        }
        #expect(identity.subject == "acct-1")
    }

    @Test func requiredRefusesAMissingToken() throws {
        let required = try authenticator(.required)
        #expect(required.admit(request(), now: F.now) == .refused(.missing))
        #expect(required.admit(request(authorization: "Basic dXNlcjpwYXNz"), now: F.now) == .refused(.missing))
        let expired = F.hs256(F.claims(exp: F.nowSeconds - 3600))
        #expect(required.admit(request(query: ["token": expired]), now: F.now) == .refused(.expired))
    }

    @Test func bearerHeaderAnyCase() throws {
        let required = try authenticator(.required)
        for scheme in ["Bearer", "bearer", "BEARER"] {
            guard case .account = required.admit(request(authorization: "\(scheme)  \(F.hs256()) "), now: F.now) else {
                Issue.record("\(scheme) not accepted")
                continue
            }
        }
    }

    @Test func aTokenInBothPlacesIsRefused() throws {
        let token = F.hs256()
        let outcome = try authenticator(.optional).admit(request(query: ["token": token], authorization: "Bearer \(token)"), now: F.now)
        guard case .refused(.malformed) = outcome else {
            Issue.record("two tokens accepted: \(outcome)")
            return
        }
    }
}
