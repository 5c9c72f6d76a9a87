import ConfabProtocol
import Testing
@testable import ConfabClient

/// A server message as the client hands it over: parsed once.
func bytes(_ s: String) -> ServerMessage {
    guard let message = ProtocolV1.decodeMessage(Array(s.utf8)) else {
        Issue.record("undecodable: \(s)")
        return .system("", re: nil)
    }
    return message
}

let welcome = #"{"type":"welcome","user":{"id":"u1","name":"Al"},"room":"lobby","rooms":["lobby"],"token":"T1","resumed":false,"server":"Confab"}"#
let resumedWelcome = #"{"type":"welcome","user":{"id":"u1","name":"Al"},"room":"dev","rooms":["lobby","dev"],"token":"T2","resumed":true,"server":"Confab"}"#

func message(_ room: String, _ seq: Int, _ text: String) -> String {
    #"{"type":"message","room":"\#(room)","seq":\#(seq),"ts":"2026-11-22T10:30:02.000Z","from":{"id":"u2","name":"Bo"},"text":"\#(text)"}"#
}

func shown(_ actions: [ChatAction]) -> [String] {
    actions.compactMap { if case .show(let line) = $0 { return line.text } else { return nil } }
}

func sent(_ actions: [ChatAction]) -> [String] {
    actions.compactMap { if case .send(let json) = $0 { return String(decoding: json, as: UTF8.self) } else { return nil } }
}

/// A session that is connected and welcomed.
func welcomed(room: String? = nil) -> ChatSessionState {
    var state = ChatSessionState(initialRoom: room)
    _ = state.start()
    _ = state.opened()
    _ = state.received(bytes(welcome))
    return state
}

@Suite struct ChatSessionStateTests {
    @Test func startConnectsWithoutTokenAndWelcomeSetsRoomAndPrompt() {
        var state = ChatSessionState()
        #expect(state.start() == [.connect(resume: nil)])
        #expect(state.opened() == [])
        let actions = state.received(bytes(welcome))
        #expect(shown(actions) == ["-- Welcome to Confab, Al! You are in lobby. Type /help for commands."])
        #expect(actions.contains(.prompt(room: "lobby")))
        #expect(state.token == "T1" && state.room == "lobby" && state.name == "Al")
    }

    @Test func initialRoomIsJoinedAfterTheFirstWelcome() {
        var state = ChatSessionState(initialRoom: "dev")
        _ = state.start()
        _ = state.opened()
        #expect(sent(state.received(bytes(welcome))) == [#"{"type":"send","text":"/join dev","id":"c1"}"#])
        let joined = state.received(bytes(#"{"type":"joined","room":"dev","re":"c1"}"#))
        #expect(joined.contains(.prompt(room: "dev")))
        #expect(state.room == "dev" && state.pending.isEmpty)
    }

    @Test func currentRoomFollowsJoinedAndLeft() {
        var state = welcomed()
        _ = state.received(bytes(#"{"type":"joined","room":"dev"}"#))
        #expect(state.room == "dev")
        let left = state.received(bytes(#"{"type":"left","room":"dev","current":"lobby"}"#))
        #expect(state.room == "lobby")
        #expect(left.contains(.prompt(room: "lobby")))
        #expect(shown(left) == ["-- You left dev; now in lobby."])
    }

    @Test func typedLinesAreSentWithIdsAndCommandsAsText() {
        var state = welcomed()
        #expect(sent(state.line("hello \"you\"")) == [#"{"type":"send","text":"hello \"you\"","id":"c1"}"#])
        #expect(sent(state.line("/join dev\r")) == [#"{"type":"send","text":"/join dev","id":"c2"}"#])
        #expect(state.line("   ") == [])
        #expect(state.pending == [RequestID(string: "c1"), RequestID(string: "c2")])
    }

    @Test func messagesAreDedupedByRoomAndSeqAcrossHistoryReplays() {
        var state = welcomed()
        #expect(shown(state.received(bytes(message("lobby", 1, "a")))).count == 1)
        #expect(shown(state.received(bytes(message("lobby", 2, "b")))).count == 1)
        #expect(shown(state.received(bytes(message("dev", 1, "other room")))).count == 1)
        let history = #"{"type":"history","room":"lobby","messages":[\#(message("lobby", 1, "a")),\#(message("lobby", 2, "b")),\#(message("lobby", 3, "c"))]}"#
        #expect(shown(state.received(bytes(history))) == ["10:30:02 [lobby] Bo: c"])
        #expect(shown(state.received(bytes(message("LOBBY", 3, "again")))) == [])
    }

    @Test func aHistoryThatNoLongerHoldsWhatWasMissedSaysHowManyAreGone() {
        var state = welcomed()
        _ = state.received(bytes(#"{"type":"history","room":"lobby","lastSeq":2,"messages":[\#(message("lobby", 1, "a")),\#(message("lobby", 2, "b"))]}"#))
        _ = state.received(bytes(message("lobby", 3, "c")))
        // resumed after 9 more: the history keeps the last 3 (10..12)
        let kept = (10...12).map { message("lobby", $0, "k\($0)") }.joined(separator: ",")
        let back = shown(state.received(bytes(#"{"type":"history","room":"lobby","lastSeq":12,"messages":[\#(kept)]}"#)))
        #expect(back == ["-- 6 messages you missed in lobby are no longer available",
                         "10:30:02 [lobby] Bo: k10", "10:30:02 [lobby] Bo: k11", "10:30:02 [lobby] Bo: k12"])
        // with no history kept (historySize 0), lastSeq alone tells
        #expect(shown(state.received(bytes(#"{"type":"history","room":"lobby","lastSeq":13,"messages":[]}"#)))
                == ["-- 1 message you missed in lobby is no longer available"])
        #expect(shown(state.received(bytes(#"{"type":"history","room":"lobby","lastSeq":13,"messages":[]}"#))) == [])
        #expect(shown(state.received(bytes(message("lobby", 14, "live")))).count == 1)
    }

    @Test func aFirstHistoryIsThePastNotAGap() {
        var state = welcomed()
        let first = #"{"type":"history","room":"dev","lastSeq":40,"messages":[\#(message("dev", 40, "x"))]}"#
        #expect(shown(state.received(bytes(first))) == ["10:30:02 [dev] Bo: x"])
        // an empty room's lastSeq counts as seen: the next live message is not a gap
        #expect(shown(state.received(bytes(#"{"type":"history","room":"ops","lastSeq":7,"messages":[]}"#))) == [])
        #expect(shown(state.received(bytes(#"{"type":"history","room":"ops","lastSeq":8,"messages":[\#(message("ops", 8, "y"))]}"#)))
                == ["10:30:02 [ops] Bo: y"])
    }

    @Test func leavingARoomForgetsItsSeqSoARejoinShowsItsHistory() {
        var state = welcomed()
        _ = state.received(bytes(message("dev", 5, "x")))
        _ = state.received(bytes(#"{"type":"left","room":"dev","current":"lobby"}"#))
        #expect(shown(state.received(bytes(message("dev", 5, "x")))).count == 1)
    }

    @Test func unplannedDropReconnectsWithBackoffAndResumesWithTheToken() {
        var state = welcomed()
        state.jitter = 0
        let actions = state.closed(.failed("connection reset"))
        #expect(actions.contains(.startTimer(.reconnect, milliseconds: 250)))
        #expect(state.phase == .waitingToReconnect)
        #expect(state.reconnectDue() == [.connect(resume: "T1")])
        _ = state.opened()
        _ = state.received(bytes(resumedWelcome))
        #expect(state.token == "T2" && state.room == "dev" && state.backoff.attempt == 0)
    }

    @Test func serverShutdownReconnectsButPolicyCloseAndTakeoverDoNot() {
        var a = welcomed()
        #expect(a.closed(.server(code: 1001, reason: "shutting down")).contains { if case .startTimer(.reconnect, _) = $0 { true } else { false } })
        var b = welcomed()
        #expect(b.closed(.server(code: 1008, reason: "rate")) == [.exit(status: 1, message: "the server closed the connection: policy violation (1008)")])
        var c = welcomed()
        #expect(c.closed(.server(code: 4000, reason: "")).first == .exit(status: 1, message: "the server closed the connection: session resumed elsewhere (4000)"))
    }

    @Test func aRefusedTokenEndsTheClientButAFullServerIsRetried() {
        var expired = welcomed()
        expired.jitter = 0
        _ = expired.closed(.failed("connection reset"))
        _ = expired.reconnectDue()
        #expect(expired.closed(.refused(status: 401, reason: "Unauthorized (token_expired)"))
                == [.exit(status: 1, message: "the server refused the token: handshake refused (401): Unauthorized (token_expired)")])
        var full = welcomed()
        _ = full.closed(.failed("connection reset"))
        _ = full.reconnectDue()
        #expect(full.closed(.refused(status: 503, reason: "Service Unavailable")).contains { if case .startTimer(.reconnect, _) = $0 { true } else { false } })
    }

    @Test func firstConnectFailureExitsWithStatusOne() {
        var state = ChatSessionState(serverDescription: "127.0.0.1:1")
        _ = state.start()
        #expect(state.closed(.failed("ECONNREFUSED")) == [.exit(status: 1, message: "cannot connect to 127.0.0.1:1: ECONNREFUSED")])
    }

    @Test func quitClosesWith1000AndExitsZeroWhenClosed() {
        var state = welcomed()
        #expect(state.quit() == [.close(code: 1000, reason: "bye")])
        #expect(state.closed(.local) == [.exit(status: 0, message: nil)])
    }

    @Test func slashQuitWaitsForOutstandingReplies() {
        var state = welcomed()
        _ = state.line("hello")
        #expect(state.line("/QUIT") == [.startTimer(.drain, milliseconds: ChatSessionState.drainMs)])
        let acked = state.received(bytes(#"{"type":"ack","re":"c1","room":"lobby","seq":1}"#))
        #expect(acked == [.close(code: 1000, reason: "bye")])
    }

    @Test func endOfInputWithNothingPendingClosesAtOnce() {
        var state = welcomed()
        #expect(state.inputEnd() == [.close(code: 1000, reason: "bye")])
    }

    @Test func drainDeadlineClosesEvenWithoutReplies() {
        var state = welcomed()
        _ = state.line("hello")
        _ = state.inputEnd()
        #expect(state.drainDeadline() == [.close(code: 1000, reason: "bye")])
    }

    @Test func linesTypedBeforeTheWelcomeAreSentInOrderAfterIt() {
        var state = ChatSessionState()
        _ = state.start()
        #expect(state.line("one") == [])
        #expect(state.line("/quit") == [])
        #expect(state.line("two") == [])
        _ = state.inputEnd()
        _ = state.opened()
        let actions = state.received(bytes(welcome))
        // "/quit" stops what follows it from being sent; the close waits for c1's ack.
        #expect(sent(actions) == [#"{"type":"send","text":"one","id":"c1"}"#])
        #expect(state.received(bytes(#"{"type":"ack","re":"c1"}"#)) == [.close(code: 1000, reason: "bye")])
    }

    @Test func dropAfterEndOfInputExitsInsteadOfReconnecting() {
        var state = welcomed()
        _ = state.line("x")
        _ = state.inputEnd()
        let actions = state.closed(.failed("reset"))
        #expect(actions.last == .exit(status: 0, message: nil))
    }

    @Test func givesUpAfterTooManyFailedReconnects() {
        var state = welcomed()
        var last: [ChatAction] = []
        for _ in 0...ChatSessionState.maxReconnectAttempts {
            last = state.closed(.failed("refused"))
            if state.phase == .finished { break }
            _ = state.reconnectDue()
        }
        #expect(last.first == .exit(status: 1, message: "gave up reconnecting to server: refused"))
    }
}

/// A restart nobody notices: the server closes with 1012, the client comes back after a short
/// random delay, and when the new process does not know its token it rejoins its rooms.
@Suite struct ServerRestartTests {
    /// Welcomed, then in dev and ops with dev current, having left the lobby.
    func inRooms() -> ChatSessionState {
        var state = welcomed()
        _ = state.received(bytes(#"{"type":"joined","room":"ops"}"#))
        _ = state.received(bytes(#"{"type":"joined","room":"dev"}"#))
        _ = state.received(bytes(#"{"type":"left","room":"lobby","current":"dev"}"#))
        _ = state.received(bytes(message("dev", 7, "before the restart")))
        return state
    }

    @Test func a1012ReconnectsAfterARandomDelayOfAFewSeconds() {
        for (jitter, expected) in [(0.0, 250), (0.5, 1375), (0.999999, 2499)] as [(Double, UInt64)] {
            var state = inRooms()
            state.jitter = jitter
            let actions = state.closed(.server(code: 1012, reason: "service restart"))
            #expect(actions.contains(.startTimer(.reconnect, milliseconds: expected)), "jitter \(jitter): \(actions)")
            #expect(state.reconnectDue() == [.connect(resume: "T1")])
        }
    }

    @Test func aRefusedResumeRejoinsTheRoomsAndTheCurrentOne() {
        var state = inRooms()
        #expect(state.rooms == ["ops", "dev"])
        _ = state.closed(.server(code: 1012, reason: "service restart"))
        _ = state.reconnectDue()
        _ = state.line("typed while away")
        _ = state.opened()
        let fresh = #"{"type":"welcome","user":{"id":"u9","name":"Al"},"room":"lobby","rooms":["lobby"],"token":"N1","resumed":false,"server":"Confab"}"#
        let actions = state.received(bytes(fresh))
        #expect(shown(actions).contains("-- new session (the server restarted or the old one expired); back to ops, dev"))
        // In order: the rooms, back to dev (the last join makes it current), out of the lobby,
        // and only then the line typed meanwhile, so it lands in dev.
        #expect(sent(actions) == [
            #"{"type":"join","room":"ops","id":"c1"}"#,
            #"{"type":"join","room":"dev","id":"c2"}"#,
            #"{"type":"leave","room":"lobby","id":"c3"}"#,
            #"{"type":"send","text":"typed while away","id":"c4"}"#,
        ])
        _ = state.received(bytes(#"{"type":"joined","room":"ops","re":"c1"}"#))
        _ = state.received(bytes(#"{"type":"joined","room":"dev","re":"c2"}"#))
        _ = state.received(bytes(#"{"type":"left","room":"lobby","current":"dev","re":"c3"}"#))
        #expect(state.rooms == ["ops", "dev"] && state.room == "dev")
    }

    @Test func theCurrentRoomIsJoinedAgainWhenAnotherJoinMovedIt() {
        var state = welcomed()
        _ = state.received(bytes(#"{"type":"joined","room":"dev"}"#))
        _ = state.received(bytes(#"{"type":"joined","room":"lobby"}"#))  // a switch back: current lobby
        _ = state.closed(.failed("reset"))
        _ = state.reconnectDue()
        _ = state.opened()
        let fresh = #"{"type":"welcome","user":{"id":"u9","name":"Al"},"room":"lobby","rooms":["lobby"],"token":"N1","resumed":false,"server":"Confab"}"#
        #expect(sent(state.received(bytes(fresh))) == [
            #"{"type":"join","room":"dev","id":"c1"}"#,
            #"{"type":"join","room":"lobby","id":"c2"}"#,
        ])
    }

    @Test func aSuccessfulResumeRejoinsNothing() {
        var state = inRooms()
        _ = state.closed(.server(code: 1012, reason: ""))
        _ = state.reconnectDue()
        _ = state.opened()
        let resumed = #"{"type":"welcome","user":{"id":"u1","name":"Al"},"room":"dev","rooms":["ops","dev"],"token":"T2","resumed":true,"server":"Confab"}"#
        #expect(sent(state.received(bytes(resumed))) == [])
    }

    @Test func aRestartedServersMessagesShowThoughTheirSeqsStartOver() {
        var state = inRooms()
        // The same process replaying what was shown (an expired session): not repeated.
        #expect(shown(state.received(bytes(message("dev", 7, "before the restart")))) == [])
        // A new process: seq 1 again, but later.
        let later = #"{"type":"message","room":"dev","seq":1,"ts":"2026-11-22T10:31:00.000Z","from":{"id":"u2","name":"Bo"},"text":"after"}"#
        #expect(shown(state.received(bytes(later))) == ["10:31:00 [dev] Bo: after"])
        #expect(shown(state.received(bytes(later))) == [])
    }
}
