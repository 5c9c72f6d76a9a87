import ConfabCodec
import ConfabConfig
import ConfabProtocol
import Testing
@testable import ConfabReactor
@testable import ConfabServer

/// The line chat (`line.enabled`): `nc` users on their own port, bridged into the same rooms
/// as protocol v1 users.
@Suite struct LineBridgeTests {
    private let prompt = "Welcome to TestChat! What is your name? (empty line for a random one)"

    private func lineServer(_ configure: @escaping (inout ConfabConfig) -> Void = { _ in }) throws -> ServerHarness {
        try ServerHarness {
            $0.line.enabled = true
            configure(&$0)
        }
    }

    /// What a line user sees of a message a v1 user received, rendered as the server renders it.
    private func rendered(_ frame: [UInt8]) -> String? {
        guard let message = ProtocolV1.decodeMessage(frame),
              let bytes = LineDialect.encode(message, utcOffsetSeconds: WallClock.utcOffsetSeconds())
        else { return nil }
        return String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "")
    }

    @Test func promptThenNameThenRoomList() throws {
        let h = try lineServer()
        let liner = h.lineUser()
        h.step("the prompt", until: { liner.lines.count == 1 }) { liner.say("  Liner ") }
        h.step("welcome and users", until: { liner.lines.count == 3 }) { liner.say("/rooms") }
        var lineConnections = 0
        h.step("the room list", until: { liner.lines.count == 4 }) {
            lineConnections = h.reactor.connections(endpoint: Endpoint.line.rawValue).count
        }
        try h.run()
        #expect(liner.lines == [
            prompt,
            "-- Welcome to TestChat, Liner! You are in lobby. Type /help for commands.",
            "-- In lobby (1): Liner",
            "-- Rooms: lobby (1)",
        ])
        #expect(lineConnections == 1)
    }

    @Test func emptyNameGetsARandomOne() throws {
        let h = try lineServer()
        let liner = h.lineUser()
        h.step("the prompt", until: { liner.lines.count == 1 }) { liner.say("") }
        h.wait("welcome", until: { liner.lines.count == 3 })
        try h.run()
        let welcome = try Regex("^-- Welcome to TestChat, ([a-z]+-[a-z]+-[0-9]+)! You are in lobby\\. Type /help for commands\\.$")
        #expect(liner.lines[1].wholeMatch(of: welcome) != nil, "\(liner.lines)")
    }

    @Test func lineUserAndV1UserSeeEachOther() throws {
        let h = try lineServer()
        let webby = h.connect("/ws?name=Webby")
        let liner = h.lineUser()
        h.sync(webby)
        h.step("the prompt", until: { liner.lines.count == 1 }) { liner.say("Liner") }
        h.step("Webby hears of Liner", until: { liner.lines.count == 3 && webby.count("presence") == 1 }) {
            liner.say("hello web")
        }
        h.step("Webby gets it, Liner sees it", until: { webby.count("message") == 1 && liner.lines.count == 4 }) {
            webby.send(#"{"type":"send","text":"hello line"}"#)
        }
        h.wait("Liner gets Webby's", until: { webby.count("message") == 2 && liner.lines.count == 5 })
        try h.run()

        #expect(liner.lines[2] == "-- In lobby (2): Webby, Liner")
        let joins = webby.all("presence").flatMap { $0.objects("changes") }
        #expect(joins.map { $0.string("event") } == ["join"])
        #expect(joins.map { $0.object("user")?.string("name") } == ["Liner"])

        let messages = webby.frames.filter { json($0).string("type") == "message" }
        let fromLiner = json(messages[0])
        #expect(fromLiner.string("text") == "hello web")
        #expect(fromLiner.string("room") == "lobby")
        #expect(fromLiner.object("from")?.string("name") == "Liner")
        // Each side's copy of each message is the same message, rendered for lines.
        #expect(liner.lines[3] == rendered(messages[0]))
        #expect(liner.lines[4] == rendered(messages[1]))
        #expect(liner.lines[4].hasSuffix(" [lobby] Webby: hello line"))
    }

    @Test func quitSaysByeClosesAndOthersSeeTheLeave() throws {
        let h = try lineServer()
        let webby = h.connect("/ws?name=Webby")
        let liner = h.lineUser()
        h.sync(webby)
        h.step("the prompt", until: { liner.lines.count == 1 }) { liner.say("Liner") }
        h.step("named", until: { liner.lines.count == 3 && webby.count("presence") == 1 }) { liner.say("  /QUIT ") }
        var users = 0
        h.step("bye and the end", until: { liner.ended && webby.count("presence") == 2 }) { users = h.server.chat.userCount }
        try h.run()
        #expect(liner.lines.last == "-- Bye!")
        #expect(liner.lines.count == 4)
        let changes = webby.all("presence").flatMap { $0.objects("changes") }
        #expect(changes.map { "\($0.string("event") ?? "") \($0.object("user")?.string("name") ?? "")" } == ["join Liner", "leave Liner"])
        #expect(webby.count("message") == 0)
        #expect(users == 1)
    }

    @Test func invalidUTF8LineGetsTheNoticeAndIsNotSent() throws {
        let h = try lineServer()
        let webby = h.connect("/ws?name=Webby")
        let liner = h.lineUser()
        let notice = "!! input must be UTF-8 text; line ignored"
        h.sync(webby)
        // At the prompt: refused, and the prompt still waits for a name.
        h.step("the prompt", until: { liner.lines.count == 1 }) { liner.write([0xC3, 0x28, 13, 10]) }
        h.step("the notice at the prompt", until: { liner.lines.count == 2 }) { liner.say("Liner") }
        h.step("named", until: { liner.lines.count == 4 }) {
            liner.write([0x68, 0x69, 0xFF, 10])
            liner.say("after")
        }
        h.wait("the notice, then the next line", until: { webby.count("message") == 1 && liner.lines.count == 6 })
        h.sync(webby)
        try h.run()
        #expect(liner.lines[1] == notice)
        #expect(liner.lines[2] == "-- Welcome to TestChat, Liner! You are in lobby. Type /help for commands.")
        #expect(liner.lines[4] == notice)
        #expect(liner.lines[5].hasSuffix(" [lobby] Liner: after"))
        #expect(webby.all("message").map { $0.string("text") } == ["after"])
    }

    @Test func overlongLineIsDroppedWithANotice() throws {
        let h = try lineServer { $0.line.maxLineBytes = 32 }
        let liner = h.lineUser()
        h.step("the prompt", until: { liner.lines.count == 1 }) { liner.say("Liner") }
        h.step("named", until: { liner.lines.count == 3 }) {
            liner.say(String(repeating: "x", count: 40))
            liner.say("short")
        }
        h.wait("the notice and the short line", until: { liner.lines.count == 5 })
        try h.run()
        #expect(liner.lines[3] == "!! line longer than 32 bytes; ignored")
        #expect(liner.lines[4].hasSuffix(" [lobby] Liner: short"))
    }

    @Test func hangingUpEndsTheSessionButNotAtThePrompt() throws {
        let h = try lineServer()
        let webby = h.connect("/ws?name=Webby")
        let named = h.lineUser()
        let unnamed = h.lineUser()
        h.sync(webby)
        h.step("prompts", until: { named.lines.count == 1 && unnamed.lines.count == 1 }) { named.say("Liner") }
        h.step("named", until: { named.lines.count == 3 && webby.count("presence") == 1 }) {
            named.close()
            unnamed.close()
        }
        // Webby's two ends are all that is left.
        h.wait("both gone", until: { h.reactor.sessionCount == 2 && webby.count("presence") == 2 })
        h.sync(webby)
        var users = 0
        var naming: Set<ConnectionID> = [1]
        h.step("the end") {
            users = h.server.chat.userCount
            naming = h.server.linesNaming
        }
        try h.run()
        let changes = webby.all("presence").flatMap { $0.objects("changes") }
        #expect(changes.map { "\($0.string("event") ?? "") \($0.object("user")?.string("name") ?? "")" } == ["join Liner", "leave Liner"])
        #expect(users == 1)
        #expect(naming.isEmpty)
    }
}
