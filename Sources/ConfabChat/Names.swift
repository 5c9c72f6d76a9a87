import ConfabProtocol

/// User and room name rules, and the random readable names given on connect.
enum Names {
    static let maxUserNameLength = 24
    static let maxRoomNameLength = 32

    /// Identity for names and rooms: case-insensitive, original case kept for display.
    static func key(_ name: String) -> String { name.lowercased() }

    /// A user name: 1–24 characters after trimming; letters, digits, `-`, `_`, `.` and inner spaces.
    /// Returns the trimmed name, or nil when invalid.
    static func validUserName(_ raw: String) -> String? {
        let trimmed = PlainText.trim(raw)
        var count = 0
        for scalar in trimmed.unicodeScalars {
            count += 1
            guard count <= maxUserNameLength else { return nil }
            let properties = scalar.properties
            let allowed = properties.isAlphabetic
                || properties.numericType == .decimal
                || scalar == "-" || scalar == "_" || scalar == "." || scalar == " "
            guard allowed, !properties.isWhitespace || scalar == " " else { return nil }
        }
        return count == 0 ? nil : trimmed
    }

    /// A room name: 1–32 ASCII letters, digits, `-`, `_` (ASCII so names are safe in URLs and logs).
    static func isValidRoomName(_ name: String) -> Bool {
        var count = 0
        for byte in name.utf8 {
            count += 1
            guard count <= maxRoomNameLength else { return false }
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                continue
            default:
                return false
            }
        }
        return count > 0
    }


    static func isBlank(_ text: String) -> Bool {
        // Fast path: any ASCII byte that is not whitespace settles it without Unicode tables.
        for byte in text.utf8 where byte < 0x80 {
            switch byte {
            case 0x09...0x0D, 0x20: continue
            default: return false
            }
        }
        return text.unicodeScalars.allSatisfy { $0.properties.isWhitespace }
    }

    /// `quiet-otter-42`: 50 × 50 × 90 combinations; the caller retries when one is taken.
    static func random<R: RandomNumberGenerator>(using random: inout R) -> String {
        let adjective = adjectives[Int(random.next(upperBound: UInt64(adjectives.count)))]
        let animal = animals[Int(random.next(upperBound: UInt64(animals.count)))]
        let number = 10 + random.next(upperBound: UInt64(90))
        return "\(adjective)-\(animal)-\(number)"
    }

    static let adjectives = [
        "quiet", "brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "kind", "lively",
        "merry", "nice", "proud", "silly", "witty", "zesty", "bold", "bright", "clever", "cosy",
        "daring", "fair", "fuzzy", "glad", "grand", "humble", "keen", "lucky", "mellow", "mighty",
        "nimble", "noble", "plucky", "polite", "quick", "rapid", "sunny", "swift", "tidy", "vivid",
        "warm", "wise", "young", "zippy", "breezy", "chirpy", "dapper", "frosty", "golden", "snowy",
    ]

    static let animals = [
        "otter", "badger", "beaver", "bison", "camel", "crane", "dingo", "eagle", "falcon", "ferret",
        "gecko", "goose", "heron", "hippo", "ibis", "jackal", "koala", "lemur", "llama", "lynx",
        "marten", "moose", "newt", "ocelot", "orca", "panda", "parrot", "puffin", "quail", "rabbit",
        "raven", "robin", "salmon", "seal", "shrew", "sloth", "stork", "tapir", "tiger", "toucan",
        "turtle", "viper", "walrus", "weasel", "whale", "wombat", "yak", "zebra", "fox", "owl",
    ]
}

/// Opaque ids and tokens from the injected generator, URL-safe base64 without padding.
enum Tokens {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func isAlphabet(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"): return true
        default: return false
        }
    }

    /// 64 bits as 11 characters.
    static func encode(_ value: UInt64) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(11)
        var bits = value
        for _ in 0..<11 {
            out.append(alphabet[Int(bits & 63)])
            bits >>= 6
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `words` × 64 random bits, 6 bits per character (192 bits → 32 characters).
    static func random<R: RandomNumberGenerator>(words: Int, using random: inout R) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(words * 11)
        var bits: UInt64 = 0
        var available = 0
        var remaining = words * 64
        while remaining >= 6 {
            if available < 6 {
                bits = random.next()
                available = 64
            }
            out.append(alphabet[Int(bits & 63)])
            bits >>= 6
            available -= 6
            remaining -= 6
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A resume token: 32 URL-safe characters (192 random bits), kept as their 32 ASCII bytes in
/// four words, so a session holds it inline and `tokenOwners` indexes it without a String.
struct ResumeToken: Hashable {
    private var words: (UInt64, UInt64, UInt64, UInt64)
    static let length = 32

    /// Held by sessions hosted on other nodes, which this node cannot resume. Never drawn:
    /// drawn tokens are made of alphabet bytes, never zero.
    static let unissued = ResumeToken(words: (0, 0, 0, 0))

    private init(words: (UInt64, UInt64, UInt64, UInt64)) { self.words = words }

    /// 64 bits of the token for `TokenIndex` (every word mixed in, so no byte is ignored).
    var digest: UInt64 {
        (words.0 &* 0x9E37_79B9_7F4A_7C15) ^ (words.1 &* 0xC2B2_AE3D_27D4_EB4F) ^ (words.2 &* 0x1656_67B1_9E37_79F9) ^ words.3
    }

    init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == Self.length, bytes.allSatisfy(Tokens.isAlphabet) else { return nil }
        func word(_ at: Int) -> UInt64 {
            (0..<8).reduce(0) { $0 | UInt64(bytes[at * 8 + $1]) << (8 * UInt64($1)) }
        }
        words = (word(0), word(1), word(2), word(3))
    }

    var string: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.length)
        for word in [words.0, words.1, words.2, words.3] {
            for index in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: word >> (8 * UInt64(index)))) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2 && lhs.words.3 == rhs.words.3
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}

/// User ids unique by construction: a never-reused number through a bijective mix keyed by
/// random constants, so no set of ids is kept to rule out repeats, and ids do not reveal the count.
struct UserIDs {
    private let k0: UInt64, k1: UInt64, k2: UInt64

    init<R: RandomNumberGenerator>(using random: inout R) {
        k0 = random.next()
        k1 = random.next() | 1  // odd: multiplying by it is invertible
        k2 = random.next() | 1
    }

    func id(for number: UInt64) -> String {
        // Each step (xor with a constant, xor-shift right, multiply by an odd number) is a bijection.
        var x = number ^ k0
        x = (x ^ (x >> 31)) &* k1
        x = (x ^ (x >> 29)) &* k2
        x ^= x >> 32
        return "u" + Tokens.encode(x)
    }
}
