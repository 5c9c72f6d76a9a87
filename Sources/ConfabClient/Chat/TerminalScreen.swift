import Foundation
import ConfabProtocol

/// The bytes written to the terminal, as pure functions: a line printed above the prompt
/// without garbling the input being typed, the prompt itself, colours by kind.
public struct TerminalScreen: Sendable {
    /// Interactive: clear the prompt line before printing and redraw it after.
    public var interactive: Bool
    public var colour: Bool

    /// Terminal columns; the input shown is cut to fit, so the prompt line never wraps
    /// (a wrapped line could not be cleared with one erase-line).
    public var columns: Int

    public init(interactive: Bool, colour: Bool, columns: Int = 80) {
        self.interactive = interactive
        self.colour = colour
        self.columns = columns
    }

    static let clearLine = "\r\u{1B}[2K"
    static let reset = "\u{1B}[0m"

    public static func prompt(room: String?) -> String { "[\(room ?? "…")] > " }

    /// `line` printed above the prompt; the prompt and the partial input are drawn again.
    public func print(_ line: ShownLine, room: String?, input: String) -> String {
        let body = styled(line) + "\n"
        guard interactive else { return body }
        // Output processing stays on in raw mode, so "\n" still returns the carriage.
        return Self.clearLine + body + promptLine(room: room, input: input)
    }

    /// Redraws the prompt line (after an edit or a room change).
    public func redraw(room: String?, input: String) -> String {
        guard interactive else { return "" }
        return Self.clearLine + promptLine(room: room, input: input)
    }

    /// The input line once Enter is pressed: moves down, leaving the prompt clean.
    public func submitted(room: String?) -> String {
        guard interactive else { return "" }
        return Self.clearLine
    }

    func promptLine(room: String?, input: String) -> String {
        let prompt = Self.prompt(room: room)
        // Show the end of a long input (where the cursor is), with "…" for the hidden start.
        let room = max(columns - prompt.count - 1, 8)
        let shown = input.count <= room ? input : "…" + String(input.suffix(room - 1))
        return (colour ? "\u{1B}[1m" + prompt + Self.reset : prompt) + Self.sanitized(shown)
    }

    public func styled(_ line: ShownLine) -> String {
        let text = Self.sanitized(line.text)
        guard colour else { return text }
        switch line.kind {
        case .message: return text
        case .presence: return "\u{1B}[2m" + text + Self.reset
        case .system: return "\u{1B}[36m" + text + Self.reset
        case .error: return "\u{1B}[1;31m" + text + Self.reset
        }
    }

    /// Other people's text must not drive our terminal: C0 controls (but newline; a tab
    /// becomes a space), DEL and C1 controls are shown as U+FFFD, so no escape sequence
    /// from a message can clear the screen, move the cursor or retitle the window.
    public static func sanitized(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\t" { out.append(" ") }
            else if isControl(scalar) { out.append("\u{FFFD}") }
            else { out.append(scalar) }
        }
        return String(out)
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\n") || (0x7F...0x9F).contains(scalar.value)
    }
}
