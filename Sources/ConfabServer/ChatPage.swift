/// The chat page as served: `web/index.html` with this server's `server.wsPath` written
/// into its `<meta name="confab-ws-path" content="…">`, so the page never guesses its
/// WebSocket path. (The page resolves it relative to its own address, which is what makes
/// it work behind a proxy that serves Confab under a prefix.) A page without the tag is
/// served as it is.
enum ChatPage {
    static let marker = Array(#"<meta name="confab-ws-path" content=""#.utf8)

    static func render(_ page: [UInt8], wsPath: String) -> [UInt8] {
        guard let start = find(marker, in: page[...]),
              let end = page[(start + marker.count)...].firstIndex(of: UInt8(ascii: "\"")) else { return page }
        return Array(page[..<(start + marker.count)]) + Array(escaped(wsPath).utf8) + Array(page[end...])
    }

    private static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = haystack.startIndex
        while i <= haystack.endIndex - needle.count {
            if haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    /// For a double-quoted attribute (the path is validated config, but an attribute is
    /// no place to trust that).
    static func escaped(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(character)
            }
        }
        return out
    }
}
