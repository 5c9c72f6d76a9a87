import ConfabCodec

/// The line chat (`nc HOST PORT`): one typed line is one request, and what the server sends
/// is rendered as text lines, CRLF-terminated.
public enum LineDialect {
    /// A line's text; nil when it is not UTF-8 (reported to the user, never guessed at).
    public static func text(_ line: [UInt8]) -> String? {
        UTF8Validator.isValid(line) ? String(decoding: line, as: UTF8.self) : nil
    }

    /// A chat line as a request: a message, or the `/command` it spells. nil for a blank line.
    public static func request(_ text: String) -> Result<ChatRequest, ChatError>? {
        guard !PlainText.trim(text).isEmpty else { return nil }
        return Commands.request(send: text, room: nil, action: false)
    }

    /// What a line user sees of a message, or nil when it shows nothing (`ack`).
    public static func encode(_ message: ServerMessage, utcOffsetSeconds: Int) -> [UInt8]? {
        let lines = ChatText.render(message, utcOffsetSeconds: utcOffsetSeconds)
        guard !lines.isEmpty else { return nil }
        var bytes: [UInt8] = []
        for line in lines { append(line.text, to: &bytes) }
        return bytes
    }

    /// One server notice as a line (the prompt, `/quit`'s goodbye, shutdown).
    public static func notice(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        append(text, to: &bytes)
        return bytes
    }

    private static func append(_ text: String, to bytes: inout [UInt8]) {
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\r")) }
            bytes.append(byte)
        }
        bytes.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n")])
    }
}
