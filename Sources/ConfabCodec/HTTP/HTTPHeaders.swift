/// An ordered header list. Names keep their original spelling; lookups are
/// ASCII case-insensitive (RFC 9110 §5.1) without allocating lowercased copies.
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public private(set) var fields: [Field]

    public init() { fields = [] }

    public init(_ pairs: [(String, String)]) {
        fields = pairs.map { Field(name: $0.0, value: $0.1) }
    }

    /// Keeps literal order and duplicates, unlike a Dictionary.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }

    public mutating func add(name: String, value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// Removes every field with this name.
    public mutating func remove(name: String) {
        fields.removeAll { Self.namesEqual($0.name, name) }
    }

    /// The first value for `name`, if any.
    public subscript(name: String) -> String? {
        for field in fields where Self.namesEqual(field.name, name) { return field.value }
        return nil
    }

    public func values(_ name: String) -> [String] {
        fields.filter { Self.namesEqual($0.name, name) }.map(\.value)
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }

    /// Whether any `name` field carries `token` in its comma-separated list
    /// (e.g. `Connection: keep-alive, Upgrade`), compared case-insensitively.
    public func hasToken(_ name: String, _ token: String) -> Bool {
        for field in fields where Self.namesEqual(field.name, name) {
            for part in field.value.utf8.split(separator: UInt8(ascii: ",")) {
                if Self.asciiEqualTrimmed(part, token.utf8) { return true }
            }
        }
        return false
    }

    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    static func namesEqual(_ a: String, _ b: String) -> Bool {
        asciiCaseInsensitiveEqual(a.utf8, b.utf8)
    }

    private static func asciiEqualTrimmed(_ part: Substring.UTF8View, _ token: String.UTF8View) -> Bool {
        var slice = part[...]
        while let f = slice.first, f == 0x20 || f == 0x09 { slice = slice.dropFirst() }
        while let l = slice.last, l == 0x20 || l == 0x09 { slice = slice.dropLast() }
        return asciiCaseInsensitiveEqual(slice, token)
    }
}

@inline(__always)
func asciiLower(_ b: UInt8) -> UInt8 {
    (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b
}

func asciiCaseInsensitiveEqual<A: Collection<UInt8>, B: Collection<UInt8>>(_ a: A, _ b: B) -> Bool {
    guard a.count == b.count else { return false }
    for (x, y) in zip(a, b) where asciiLower(x) != asciiLower(y) { return false }
    return true
}
