import Testing
@testable import ConfabClient

@Suite struct LineEditorTests {
    @Test func printableTextAndEnter() {
        var editor = LineEditor()
        #expect(editor.feed(Array("hi".utf8)) == [.edited])
        #expect(editor.text == "hi")
        #expect(editor.feed([0x0D]) == [.submit("hi")])
        #expect(editor.text == "")
    }

    @Test func utf8SplitAcrossReads() {
        var editor = LineEditor()
        let bytes = Array("é€😀".utf8)
        var actions: [LineEditor.Action] = []
        for byte in bytes { actions += editor.feed([byte]) }
        #expect(editor.text == "é€😀")
        #expect(actions == [.edited, .edited, .edited])
        // Backspace removes a whole character, not a byte.
        _ = editor.feed([0x7F])
        #expect(editor.text == "é€")
    }

    @Test func invalidBytesAreDropped() {
        var editor = LineEditor()
        _ = editor.feed([0x61, 0xFF, 0x80, 0xC3, 0x62])
        #expect(editor.text == "ab")
    }

    @Test func backspaceCtrlUAndCtrlW() {
        var editor = LineEditor()
        #expect(editor.feed([0x7F]) == [.bell])
        _ = editor.feed(Array("one two  ".utf8))
        #expect(editor.feed([0x17]) == [.edited])
        #expect(editor.text == "one ")
        #expect(editor.feed([0x15]) == [.edited])
        #expect(editor.text == "")
    }

    @Test func ctrlCAndCtrlD() {
        var editor = LineEditor()
        #expect(editor.feed([0x04]) == [.endOfInput])
        _ = editor.feed(Array("x".utf8))
        #expect(editor.feed([0x04]) == [.bell])
        #expect(editor.feed([0x03]) == [.interrupt])
    }

    @Test func escapeSequencesAreSwallowed() {
        var editor = LineEditor()
        _ = editor.feed([0x61, 0x1B, 0x5B, 0x41, 0x1B, 0x5B, 0x31, 0x3B, 0x35, 0x43, 0x62])
        #expect(editor.text == "ab")
    }
}

@Suite struct LineSplitterTests {
    @Test func lfCrlfAndPartialLines() {
        var splitter = LineSplitter()
        #expect(splitter.feed(Array("a\r\nb\nc".utf8)) == ["a", "b"])
        #expect(splitter.feed(Array("d\n".utf8)) == ["cd"])
        #expect(splitter.feed(Array("tail".utf8)) == [])
        #expect(splitter.finish() == "tail")
        #expect(splitter.finish() == nil)
    }
}

@Suite struct TerminalScreenTests {
    @Test func pipedOutputIsPlainLines() {
        let screen = TerminalScreen(interactive: false, colour: false)
        #expect(screen.print(ShownLine(kind: .error, text: "!! no"), room: "lobby", input: "ab") == "!! no\n")
        #expect(screen.redraw(room: "lobby", input: "x") == "")
    }

    @Test func interactiveOutputClearsThePromptAndRedrawsTheInput() {
        let screen = TerminalScreen(interactive: true, colour: false)
        #expect(screen.print(ShownLine(kind: .message, text: "hi"), room: "dev", input: "typ")
            == "\r\u{1B}[2Khi\n[dev] > typ")
    }

    @Test func controlCharactersFromMessagesCannotDriveTheTerminal() {
        #expect(TerminalScreen.sanitized("a\u{1B}[2Jb\u{07}\u{9B}c\td\ne") == "a\u{FFFD}[2Jb\u{FFFD}\u{FFFD}c d\ne")
        #expect(TerminalScreen.sanitized("plain é 😀") == "plain é 😀")
        let screen = TerminalScreen(interactive: false, colour: false)
        #expect(screen.print(ShownLine(kind: .message, text: "x\u{1B}]0;pwned\u{07}"), room: nil, input: "") == "x\u{FFFD}]0;pwned\u{FFFD}\n")
    }

    @Test func longInputShowsItsEndWithoutWrapping() {
        let screen = TerminalScreen(interactive: true, colour: false, columns: 20)
        // "[dev] > " is 8 columns: 11 are left for the input, one kept free for the cursor.
        #expect(screen.redraw(room: "dev", input: "short") == "\r\u{1B}[2K[dev] > short")
        #expect(screen.redraw(room: "dev", input: "abcdefghijklmnopqrstuvwxyz") == "\r\u{1B}[2K[dev] > …qrstuvwxyz")
    }

    @Test func coloursByKind() {
        let screen = TerminalScreen(interactive: false, colour: true)
        #expect(screen.styled(ShownLine(kind: .error, text: "!! x")) == "\u{1B}[1;31m!! x\u{1B}[0m")
        #expect(screen.styled(ShownLine(kind: .message, text: "m")) == "m")
    }
}

@Suite struct ServerURLTests {
    @Test func parsesHostPortPathAndQuery() throws {
        let url = try ServerURL(parsing: "ws://127.0.0.1:8080/ws?name=Al")
        #expect(url.host == "127.0.0.1" && url.port == 8080 && url.path == "/ws")
        #expect(url.target(adding: [("resume", "a+b/c")]) == "/ws?name=Al&resume=a%2Bb%2Fc")
        #expect(url.target(adding: [("name", "Bé")]) == "/ws?name=B%C3%A9")
        #expect(try ServerURL(parsing: "ws://example.org").path == "/ws")
        #expect(try ServerURL(parsing: "ws://[::1]:9/x").hostHeader == "[::1]:9")
    }

    @Test func refusesOtherSchemesAndBadPorts() {
        #expect(throws: ServerURL.ParseError.scheme("wss://x")) { try ServerURL(parsing: "wss://x") }
        #expect(throws: ServerURL.ParseError.port("ws://x:99999/ws")) { try ServerURL(parsing: "ws://x:99999/ws") }
        #expect(throws: ServerURL.ParseError.host("ws://:80/")) { try ServerURL(parsing: "ws://:80/") }
    }
}
