import ConfabCodec
import ConfabConfig
import ConfabProtocol
import Testing
@testable import ConfabReactor
@testable import ConfabServer

/// The machine's effects carried out through the reactor: what protocol v1 clients receive,
/// byte for byte where it matters, and when (presence at the end of a loop turn).
@Suite struct ChatEffectsTests {
    @Test func newClientGetsWelcomeUsersAndHistory() throws {
        let h = try ServerHarness()
        let bob = h.connect("/ws?name=Bob")
        var alice: WSClient!
        h.sync(bob)
        h.step("Bob says first") { bob.send(#"{"type":"send","text":"first"}"#) }
        h.step("Bob's message", until: { bob.count("message") == 1 }) { alice = h.connect("/ws?name=Alice") }
        let end = h.sync(alice)
        h.wait("Bob hears of Alice", until: { bob.count("presence") == 1 })
        try h.run()

        #expect(alice.types(before: end) == ["welcome", "users", "history"])
        let welcome = alice.objects[0]
        let user = try #require(welcome.object("user"))
        let aliceID = try #require(user.string("id"))
        #expect(user.string("name") == "Alice")
        #expect(welcome.string("room") == "lobby")
        #expect(welcome.array("rooms") == [.string("lobby")])
        #expect(welcome.string("token")?.utf8.count == 32)
        #expect(welcome.bool("resumed") == false)
        #expect(welcome.string("server") == "TestChat")

        let bobID = try #require(bob.objects[0].object("user")?.string("id"))
        #expect(alice.texts[1] == #"{"type":"users","room":"lobby","mode":"full","count":2,"users":[{"id":"\#(bobID)","name":"Bob"},{"id":"\#(aliceID)","name":"Alice"}]}"#)
        // History holds Bob's message exactly as it was broadcast.
        let bobsMessage = try #require(bob.texts.first { json($0).string("type") == "message" })
        #expect(alice.texts[2] == #"{"type":"history","room":"lobby","lastSeq":1,"messages":["# + bobsMessage + "]}")
        // Bob learns of the arrival; Alice is not told of herself.
        #expect(bob.all("presence").count == 1)
        #expect(bob.texts.last { json($0).string("type") == "presence" }
                == #"{"type":"presence","room":"lobby","changes":[{"event":"join","user":{"id":"\#(aliceID)","name":"Alice"}}]}"#)
        #expect(alice.count("presence") == 0)
    }

    @Test func broadcastReachesEveryoneWithIdenticalBytes() throws {
        let h = try ServerHarness()
        let alice = h.connect("/ws?name=Alice")
        let bob = h.connect("/ws?name=Bob")
        h.sync(alice)
        h.sync(bob)
        var aliceBefore = 0
        var bobBefore = 0
        h.step("Alice sends") {
            aliceBefore = alice.frames.count
            bobBefore = bob.frames.count
            alice.send(#"{"type":"send","text":"hello, everyone","id":"m1"}"#)
        }
        h.wait("the ack and Bob's copy", until: { alice.index(ofReplyTo: "m1") != nil && bob.frames.count > bobBefore })
        let end = h.sync(bob)
        try h.run()

        let aliceGot = Array(alice.texts[aliceBefore...])
        let bobGot = Array(bob.types[bobBefore...])
        #expect(aliceGot.count == 2)
        #expect(bobGot == ["message", "system"])  // the message, then the sync reply
        #expect(bob.index(ofReplyTo: end) == bob.frames.count - 1)
        let message = try #require(aliceGot.first)
        #expect(json(message).string("type") == "message")
        #expect(json(message).string("text") == "hello, everyone")
        #expect(json(message).object("from")?.string("name") == "Alice")
        // One encoding for all: the same bytes to the sender and to the others.
        #expect(alice.frames[aliceBefore] == bob.frames[bobBefore])
        #expect(aliceGot.last == #"{"type":"ack","re":"m1","room":"lobby","seq":1}"#)
        #expect(h.server.counters.messagesIn == 4)  // three syncs and the send
    }

    /// Two upgrades written in one tick reach the server in one loop turn: a third user gets
    /// one presence holding both joins.
    @Test func joinsOfOneLoopTurnReachOthersAsOnePresence() throws {
        let h = try ServerHarness()
        let carol = h.connect("/ws?name=Carol")
        h.sync(carol)
        var ann: RawClient!
        var ben: RawClient!
        h.step("two raw connections") {
            ann = h.raw()
            ben = h.raw()
        }
        // Carol's two ends, and the server's ends of Ann's and Ben's sockets.
        h.step("both accepted", until: { h.reactor.connectionCount == 4 }) {
            ann.upgrade("/ws?name=Ann")
            ben.upgrade("/ws?name=Ben")
        }
        h.wait("both upgraded", until: { ann.responses().first?.status == 101 && ben.responses().first?.status == 101 })
        let end = h.sync(carol)
        try h.run()

        let presence = carol.all("presence")
        #expect(presence.count == 1, "\(carol.texts)")
        let changes = try #require(presence.first).objects("changes")
        #expect(changes.map { $0.string("event") } == ["join", "join"])
        #expect(Set(changes.compactMap { $0.object("user")?.string("name") }) == ["Ann", "Ben"])
        #expect(Array(carol.types(before: end).suffix(1)) == ["presence"])
    }

    /// The other side of the same rule: joins in different turns are different messages.
    @Test func joinsOfSeparateTurnsAreSeparatePresence() throws {
        let h = try ServerHarness()
        let carol = h.connect("/ws?name=Carol")
        h.sync(carol)
        var ann: RawClient!
        var ben: RawClient!
        h.step("Ann") {
            ann = h.raw()
            ann.upgrade("/ws?name=Ann")
        }
        h.step("Carol hears of Ann", until: { carol.count("presence") == 1 }) {
            ben = h.raw()
            ben.upgrade("/ws?name=Ben")
        }
        h.wait("Carol hears of Ben", until: { carol.count("presence") == 2 })
        h.sync(carol)
        try h.run()
        let names = carol.all("presence").map { $0.objects("changes").compactMap { $0.object("user")?.string("name") } }
        #expect(names == [["Ann"], ["Ben"]])
    }

    /// A resume takes the session over: the machine's `.close` effect closes the old
    /// connection with 4000.
    @Test func resumeElsewhereClosesTheOldConnection() throws {
        let h = try ServerHarness()
        let first = h.connect("/ws?name=Alice")
        var second: WSClient!
        h.sync(first)
        h.step("resume with the token") {
            let token = first.objects[0].string("token") ?? ""
            second = h.connect("/ws?resume=\(token)")
        }
        h.wait("the old connection closed, the new one welcomed", until: { first.closed != nil && second.count("welcome") == 1 })
        try h.run()
        #expect(first.closed == .peerClosed(code: 4000, reason: "session resumed elsewhere"))
        let welcome = try #require(second.all("welcome").first)
        #expect(welcome.bool("resumed") == true)
        #expect(welcome.object("user") == first.objects[0].object("user"))
        #expect(welcome.string("token") != first.objects[0].string("token"))
    }

    /// Close 1000 is a goodbye (leave at once); 1001 starts the grace period (still listed).
    @Test func goodbyeEndsTheSessionAndADropKeepsIt() throws {
        let h = try ServerHarness()
        let alice = h.connect("/ws?name=Alice")
        let bob = h.connect("/ws?name=Bob")
        let cy = h.connect("/ws?name=Cy")
        for client in [alice, bob, cy] { h.sync(client) }
        h.step("Bob and Cy leave") {
            bob.close(code: CloseCode.normalClosure, reason: "bye")
            cy.close(code: CloseCode.goingAway, reason: "reload")
        }
        // The server has ended both WebSockets: only Alice's two ends are left.
        h.step("the server saw both closes", until: { h.reactor.sessionCount == 2 }) {
            alice.send(#"{"type":"users","id":"who"}"#)
        }
        h.wait("who is here", until: { alice.index(ofReplyTo: "who") != nil })
        try h.run()
        let users = try #require(alice.all("users").last)
        #expect(users.objects("users").compactMap { $0.string("name") } == ["Alice", "Cy"])
        let leaves = alice.all("presence").flatMap { $0.objects("changes") }.filter { $0.string("event") == "leave" }
        #expect(leaves.compactMap { $0.object("user")?.string("name") } == ["Bob"])
    }

    @Test func malformedRequestGetsAnErrorAndBinaryCloses1003() throws {
        let h = try ServerHarness()
        let client = h.raw()
        h.step("upgrade") { client.upgrade("/ws?name=Ann") }
        h.step("welcome, users, history", until: { client.messages.count == 3 }) {
            client.sendFrame(.text, Array("not json".utf8))
        }
        h.step("an error", until: { client.messages.count == 4 }) { client.sendFrame(.binary, [1, 2, 3]) }
        h.wait("the close", until: { client.messages.count == 5 })
        try h.run()
        guard case .text(let error) = client.messages[3] else {
            Issue.record("expected an error, got \(client.messages)")
            return
        }
        #expect(json(error).string("type") == "error")
        #expect(json(error).string("code") == "invalid_json")
        #expect(client.messages[4] == .close(code: 1003, reason: "binary messages are not supported"))
        #expect(h.server.counters.protocolErrors == [1003: 1])
    }

    @Test func echoEndpointEchoesAndGetsNoChat() throws {
        let h = try ServerHarness { $0.diagnostics.echoPath = "/echo" }
        let echo = h.connect("/echo")
        h.step("open", until: { echo.opened }) { echo.send("héllo, echo") }
        h.wait("echo", until: { echo.frames.count == 1 })
        try h.run()
        #expect(echo.texts == ["héllo, echo"])
        #expect(h.server.chat.userCount == 0)
    }

    @Test func pixideUserAndV1UserShareARoom() throws {
        let h = try ServerHarness { $0.compat.pixidePath = "/pixide" }
        let vee = h.connect("/ws?name=Vee")
        let pix = h.connect("/pixide")
        h.sync(vee)
        h.step("PixIDE open", until: { pix.opened }) { pix.send(#"{"type":"join","userId":"Pix","roomId":"lobby"}"#) }
        h.step("joined", until: { pix.frames.count == 1 && vee.count("presence") == 1 }) {
            vee.send(#"{"type":"send","text":"hi pix"}"#)
        }
        h.wait("Vee's message", until: { pix.frames.count == 2 })
        try h.run()
        #expect(pix.texts[0] == #"{"type":"joined","roomId":"lobby","userId":"Pix","message":"Joined room: lobby"}"#)
        let joins = vee.all("presence").flatMap { $0.objects("changes") }
        #expect(joins.map { $0.object("user")?.string("name") } == ["Pix"])
        let message = json(pix.texts[1])
        #expect(message.string("type") == "chat_message")
        #expect(message.string("userId") == "Vee")
        #expect(message.string("content") == "hi pix")
    }
}
