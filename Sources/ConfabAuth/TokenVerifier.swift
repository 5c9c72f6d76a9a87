import ConfabProtocol

/// Who a verified token says the bearer is. The chat layer decides what the name and rooms
/// may be; this only guarantees their JSON shape.
public struct VerifiedToken: Sendable, Equatable {
    /// `sub`: the account's stable id.
    public var subject: String
    /// `name`, when the token has one.
    public var name: String?
    /// `rooms`: the rooms the account may join; nil when the claim is absent (any room).
    public var rooms: [String]?
    /// `exp`, Unix seconds.
    public var expiresAt: Double

    /// The name to show: `name`, else `sub`.
    public var displayName: String { name ?? subject }
}

/// Checks a compact JWS (RFC 7515) signed with HS256, RS256 or ES256 and reads its claims
/// (RFC 7519). Pure: the time comes in as `now`; fast enough for the event loop (one HMAC or
/// one public-key operation per upgrade).
public struct TokenVerifier: Sendable {
    public var keys: TokenKeys
    /// Allowed clock skew between the token issuer and us, applied to `exp` and `nbf`.
    public var leewaySeconds: Int

    /// Longer tokens are refused before any decoding (a query or header of the upgrade is
    /// bounded by `http.maxHeaderBytes` anyway).
    public static let maxTokenBytes = 8192
    /// Longest `sub` (bytes of UTF-8): it is sent as `user.id` in every message.
    public static let maxSubjectBytes = 255
    /// Most entries in `rooms`.
    public static let maxRooms = 1000

    public init(keys: TokenKeys, leewaySeconds: Int) {
        self.keys = keys
        self.leewaySeconds = max(0, leewaySeconds)
    }

    /// `now` is Unix epoch milliseconds.
    public func verify(_ token: String, now: Int64) -> Result<VerifiedToken, TokenFailure> {
        guard token.utf8.count <= Self.maxTokenBytes else {
            return .failure(.malformed("longer than \(Self.maxTokenBytes) bytes"))
        }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            return .failure(.malformed("not three dot-separated segments"))
        }
        guard let header = Self.object(parts[0]) else {
            return .failure(.malformed("the header is not base64url-encoded JSON object"))
        }
        guard case .string(let alg)? = header["alg"] else {
            return .failure(.malformed("the header has no alg"))
        }
        // An extension we would have to understand (RFC 7515 §4.1.11): we understand none.
        guard header["crit"] == nil else { return .failure(.malformed("the header has crit")) }
        guard keys.accepts(alg) else { return .failure(.wrongAlgorithm) }
        guard let signature = Base64URL.decode(parts[2]), !signature.isEmpty else {
            return .failure(.badSignature)
        }
        let signed = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        guard keys.verify(alg: alg, signature: signature, signed: signed) else {
            return .failure(.badSignature)
        }
        // Only now is the payload read: unsigned input never reaches the claim rules.
        guard let claims = Self.object(parts[1]) else {
            return .failure(.malformed("the payload is not base64url-encoded JSON object"))
        }
        return Self.identity(claims).flatMap { checkTime($0, claims: claims, now: now) }
    }

    private func checkTime(_ identity: VerifiedToken, claims: JSONObject, now: Int64) -> Result<VerifiedToken, TokenFailure> {
        let nowSeconds = Double(now) / 1000
        let leeway = Double(leewaySeconds)
        guard nowSeconds < identity.expiresAt + leeway else { return .failure(.expired) }
        switch claims["nbf"] {
        case nil, .null?:
            break
        case .number(let lexeme)?:
            guard let notBefore = Double(lexeme), notBefore.isFinite else {
                return .failure(.invalidClaims("nbf is not a NumericDate"))
            }
            guard nowSeconds + leeway >= notBefore else { return .failure(.notYetValid) }
        default:
            return .failure(.invalidClaims("nbf is not a NumericDate"))
        }
        return .success(identity)
    }

    /// `sub`, `name`, `rooms` and `exp`, by shape. `exp` is required: a token that never
    /// expires would be a password sent in URLs.
    static func identity(_ claims: JSONObject) -> Result<VerifiedToken, TokenFailure> {
        guard case .string(let subject)? = claims["sub"] else {
            return .failure(.invalidClaims("sub is missing or not a string"))
        }
        guard isPrintable(subject), (1...maxSubjectBytes).contains(subject.utf8.count) else {
            return .failure(.invalidClaims("sub must be 1-\(maxSubjectBytes) bytes without control characters"))
        }
        var name: String?
        switch claims["name"] {
        case nil, .null?: break
        case .string(let text)? where isPrintable(text) && !text.isEmpty && text.utf8.count <= maxSubjectBytes:
            name = text
        default:
            return .failure(.invalidClaims("name is not a short string"))
        }
        var rooms: [String]?
        switch claims["rooms"] {
        case nil, .null?: break
        case .array(let items)? where items.count <= maxRooms:
            var list: [String] = []
            for item in items {
                guard case .string(let room) = item, room.utf8.count <= 64 else {
                    return .failure(.invalidClaims("rooms is not a list of room names"))
                }
                list.append(room)
            }
            rooms = list
        default:
            return .failure(.invalidClaims("rooms is not a list of room names"))
        }
        guard case .number(let lexeme)? = claims["exp"], let expiresAt = Double(lexeme), expiresAt.isFinite else {
            return .failure(.invalidClaims("exp is missing or not a NumericDate"))
        }
        return .success(VerifiedToken(subject: subject, name: name, rooms: rooms, expiresAt: expiresAt))
    }

    /// One segment as a JSON object: strict base64url, valid UTF-8, and no key twice (two
    /// `alg`s or two `sub`s would mean different things to different parsers).
    static func object(_ segment: Substring) -> JSONObject? {
        guard let bytes = Base64URL.decode(segment), let text = String(validating: bytes, as: UTF8.self),
              case .object(let object)? = JSONParser.parse(text, maxBytes: maxTokenBytes) else { return nil }
        var keys = Set<String>()
        for member in object.members where !keys.insert(member.key).inserted { return nil }
        return object
    }

    static func isPrintable(_ text: String) -> Bool {
        !text.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}
