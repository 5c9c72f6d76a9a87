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
        var token = token
        return token.withUTF8 { t in
            for field in fields where Self.namesEqual(field.name, name) {
                var value = field.value
                let found = value.withUTF8 { v in
                    for part in v.split(separator: UInt8(ascii: ",")) {
                        var lo = part.startIndex, hi = part.endIndex
                        while lo < hi, v[lo] == .sp || v[lo] == .ht { lo += 1 }
                        while hi > lo, v[hi - 1] == .sp || v[hi - 1] == .ht { hi -= 1 }
                        if asciiCaseInsensitiveEqual(UnsafeBufferPointer(rebasing: v[lo..<hi]), t) { return true }
                    }
                    return false
                }
                if found { return true }
            }
            return false
        }
    }

    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    static func namesEqual(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        var a = a, b = b
        return a.withUTF8 { pa in b.withUTF8 { pb in asciiCaseInsensitiveEqual(pa, pb) } }
    }
}

@inline(__always)
func asciiLower(_ b: UInt8) -> UInt8 {
    (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b
}

func asciiCaseInsensitiveEqual(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    for i in 0..<a.count where asciiLower(a[i]) != asciiLower(b[i]) { return false }
    return true
}
