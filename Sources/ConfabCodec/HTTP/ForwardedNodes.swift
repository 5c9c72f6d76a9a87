/// The client-address hops a request's forwarding header lists, leftmost (the original
/// client) first, as each proxy appended them. Only the address of each hop is kept:
/// brackets and ports go (`[2001:db8::1]:4711` → `2001:db8::1`, `192.0.2.1:80` →
/// `192.0.2.1`); what is not an address (`unknown`, `_hidden`, garbage) stays as it was,
/// for the caller to treat as a hop it cannot place. Several header lines are one list,
/// in order (RFC 9110 §5.3).
public enum ForwardedNodes {
    /// `X-Forwarded-For: 203.0.113.7, 10.0.0.2`.
    public static func xForwardedFor(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
            .map { node(trimmedOWS($0)) }
    }

    /// RFC 7239 `Forwarded: for=192.0.2.60;proto=https, for="[2001:db8:cafe::17]:4711"`:
    /// the `for` parameter of each element (an element without one is a hop without an
    /// address). Quoted strings may hold commas and semicolons; `\` escapes one character.
    public static func forwarded(_ values: [String]) -> [String] {
        var hops: [String] = []
        for value in values {
            for element in split(Substring(value), on: ",") {
                var found = ""
                for pair in split(element, on: ";") {
                    let trimmed = trimmedOWS(pair)
                    guard let equals = trimmed.firstIndex(of: "="),
                          trimmed[..<equals].lowercased() == "for" else { continue }
                    found = unquoted(trimmed[trimmed.index(after: equals)...])
                    break
                }
                hops.append(node(found[...]))
            }
        }
        return hops
    }

    /// Splits on `separator` outside quoted strings.
    static func split(_ text: Substring, on separator: Character) -> [Substring] {
        var parts: [Substring] = []
        var start = text.startIndex
        var inQuotes = false, escaped = false
        for index in text.indices {
            let character = text[index]
            if escaped { escaped = false; continue }
            if inQuotes, character == "\\" { escaped = true; continue }
            if character == "\"" { inQuotes.toggle(); continue }
            if !inQuotes, character == separator {
                parts.append(text[start..<index])
                start = text.index(after: index)
            }
        }
        parts.append(text[start...])
        return parts
    }

    static func unquoted(_ text: Substring) -> String {
        guard text.count >= 2, text.first == "\"", text.last == "\"" else { return String(text) }
        var out = ""
        var escaped = false
        for character in text.dropFirst().dropLast() {
            if !escaped, character == "\\" { escaped = true; continue }
            escaped = false
            out.append(character)
        }
        return out
    }

    /// The address part of one node: `[v6]:port` → `v6`, `[v6]` → `v6`, `v4:port` → `v4`.
    static func node(_ text: Substring) -> String {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            return String(text[text.index(after: text.startIndex)..<close])
        }
        if let colon = text.firstIndex(of: ":"), text.lastIndex(of: ":") == colon {
            return String(text[..<colon])  // one colon: IPv4 (or a name) with a port
        }
        return String(text)
    }

    static func trimmedOWS(_ text: Substring) -> Substring {
        let isOWS: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !isOWS($0) }), let last = text.lastIndex(where: { !isOWS($0) }) else {
            return text[text.endIndex...]
        }
        return text[first...last]
    }
}
