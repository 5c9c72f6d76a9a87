import ConfabProtocol
import Testing
@testable import ConfabClient

@Suite struct RosterTests {
    func fields(_ json: String) -> ServerMessage { bytes(json) }

    @Test func usersThenPresenceKeepTheRoomCurrent() {
        var roster = Roster()
        roster.apply(fields(#"{"type":"users","room":"Lobby","users":[{"id":"a","name":"Al"},{"id":"b","name":"bo"}]}"#))
        roster.apply(fields(#"{"type":"presence","room":"lobby","changes":[{"event":"join","user":{"id":"c","name":"Cy"}}]}"#))
        roster.apply(fields(#"{"type":"presence","room":"lobby","changes":[{"event":"rename","user":{"id":"b","name":"Bob"},"oldName":"bo"}]}"#))
        roster.apply(fields(#"{"type":"presence","room":"lobby","changes":[{"event":"leave","user":{"id":"a","name":"Al"}}]}"#))
        #expect(roster.users(in: "LOBBY") == ["Bob", "Cy"])
        roster.apply(fields(#"{"type":"left","room":"lobby","current":"dev"}"#))
        #expect(roster.users(in: "lobby") == [])
    }
}

@Suite struct TUIScreenTests {
    @Test func wrapsLongLinesAndKeepsExplicitNewlines() {
        #expect(TUIScreen.wrap("abcdefg", width: 3) == ["abc", "def", "g"])
        #expect(TUIScreen.wrap("ab\ncd", width: 10) == ["ab", "cd"])
        #expect(TUIScreen.wrap("", width: 3) == [""])
    }

    @Test func layoutHasHeaderMessagesUsersAndInput() {
        let screen = TUIScreen(columns: 60, rows: 6, colour: false)
        let lines = (1...5).map { ShownLine(kind: .message, text: "line \($0)") }
        let out = screen.render(header: "Confab — [dev] — Al", lines: lines, users: ["Al", "Bo"], prompt: "[dev] > ", input: "hi")
        let rows = out.components(separatedBy: "\r\n")
        #expect(rows.count == 6)
        #expect(rows[0].contains(" Confab — [dev] — Al"))
        // Three message rows (6 - header - rule - input): the newest lines, users on the right.
        #expect(rows[1].contains("line 3") && rows[1].contains("|Users (2)"))
        #expect(rows[2].contains("line 4") && rows[2].contains("| Al"))
        #expect(rows[3].contains("line 5") && rows[3].contains("| Bo"))
        #expect(rows[4].hasPrefix("───"))
        #expect(rows[5].hasPrefix("[dev] > hi"))
    }
}
