/// Raw-mode terminal input, one byte at a time: printable text (UTF-8, split anywhere
/// across reads), Backspace, Ctrl-U, Ctrl-W, Enter, Ctrl-C, Ctrl-D. Escape sequences
/// (arrow keys…) are swallowed. Returns what happened; the driver redraws and acts.
public struct LineEditor: Sendable {
    public enum Action: Sendable, Equatable {
        /// The line changed; redraw the prompt and `text`.
        case edited
        /// Enter: this line was submitted (the buffer is now empty).
        case submit(String)
        /// Ctrl-C.
        case interrupt
        /// Ctrl-D on an empty line.
        case endOfInput
        /// Nothing to do (Backspace on an empty line, Ctrl-D with text…).
        case bell
    }

    private enum Escape: Sendable { case none, started, csi }

    public private(set) var text = ""
    private var partial: [UInt8] = []
    private var escape = Escape.none

    public init() {}

    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) -> [Action] where Bytes.Element == UInt8 {
        var actions: [Action] = []
        for byte in bytes {
            if let action = feed(byte) {
                // Collapse consecutive edits into one redraw.
                if action == .edited, actions.last == .edited { continue }
                actions.append(action)
            }
        }
        return actions
    }

    private mutating func feed(_ byte: UInt8) -> Action? {
        switch escape {
        case .started:
            escape = byte == UInt8(ascii: "[") || byte == UInt8(ascii: "O") ? .csi : .none
            return nil
        case .csi:
            // Parameters and intermediates are 0x20–0x3F; the final byte ends it.
            if (0x40...0x7E).contains(byte) { escape = .none }
            return nil
        case .none:
            break
        }
        if !partial.isEmpty || byte >= 0x80 {
            return feedUTF8(byte)
        }
        switch byte {
        case 0x0D, 0x0A:
            let line = text
            text = ""
            return .submit(line)
        case 0x03:
            return .interrupt
        case 0x04:
            return text.isEmpty ? .endOfInput : .bell
        case 0x7F, 0x08:
            guard !text.isEmpty else { return .bell }
            text.removeLast()
            return .edited
        case 0x15:
            guard !text.isEmpty else { return .bell }
            text = ""
            return .edited
        case 0x17:
            guard !text.isEmpty else { return .bell }
            while text.last == " " { text.removeLast() }
            while let last = text.last, last != " " { text.removeLast() }
            return .edited
        case 0x1B:
            escape = .started
            return nil
        case 0x09:
            text.append(" ")
            return .edited
        case 0x20...0x7E:
            text.unicodeScalars.append(Unicode.Scalar(byte))
            return .edited
        default:
            return nil
        }
    }

    private mutating func feedUTF8(_ byte: UInt8) -> Action? {
        if partial.isEmpty {
            // A stray continuation byte or an invalid lead byte: drop it.
            guard (0xC2...0xF4).contains(byte) else { return nil }
            partial = [byte]
            return nil
        }
        guard byte & 0xC0 == 0x80 else {
            // The sequence broke off: drop it and read this byte afresh.
            partial = []
            return feed(byte)
        }
        partial.append(byte)
        let lead = partial[0]
        let needed = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
        guard partial.count == needed else { return nil }
        let decoded = String(validating: partial, as: UTF8.self)
        partial = []
        guard let decoded else { return nil }
        text += decoded
        return .edited
    }
}

/// Splits piped input into lines (LF or CRLF); keeps a trailing partial line for later.
public struct LineSplitter: Sendable {
    private var buffer: [UInt8] = []

    public init() {}

    public mutating func feed(_ bytes: [UInt8]) -> [String] {
        buffer += bytes
        var lines: [String] = []
        var start = 0
        for index in buffer.indices where buffer[index] == 0x0A {
            var end = index
            if end > start && buffer[end - 1] == 0x0D { end -= 1 }
            lines.append(String(decoding: buffer[start..<end], as: UTF8.self))
            start = index + 1
        }
        buffer.removeFirst(start)
        return lines
    }

    /// At end of input: the last line if it had no newline.
    public mutating func finish() -> String? {
        defer { buffer = [] }
        guard !buffer.isEmpty else { return nil }
        return String(decoding: buffer, as: UTF8.self)
    }
}
