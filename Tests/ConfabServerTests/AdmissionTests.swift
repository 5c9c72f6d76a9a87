import ConfabCodec
import ConfabConfig
import Testing
@testable import ConfabReactor
@testable import ConfabServer

/// Admission on a real server: the per-IP limit counts open WebSockets from 127.0.0.1 and
/// gives a slot back when one closes; refused upgrades never hold one.
@Suite struct AdmissionTests {
    @Test func perIPLimitRefusesThenAdmitsAfterAClose() throws {
        let h = try ServerHarness { $0.server.maxConnectionsPerIP = 2 }
        let first = h.raw()
        let second = h.raw()
        let third = h.raw()
        var fourth: RawClient!
        var openAtEnd: [String: Int] = [:]
        h.step("two upgrades") {
            first.upgrade("/ws?name=One")
            second.upgrade("/ws?name=Two")
        }
        h.step("two 101s", until: { first.responses().first?.status == 101 && second.responses().first?.status == 101 }) {
            third.upgrade("/ws?name=Three")
        }
        h.step("the third refused", until: { third.responses().count == 1 }) {
            #expect(h.server.admission.openByIP == ["127.0.0.1": 2])
            first.close()
        }
        h.step("the first's slot released", until: { h.server.admission.openByIP == ["127.0.0.1": 1] }) {
            fourth = h.raw()
            fourth.upgrade("/ws?name=Four")
        }
        h.step("the fourth answered", until: { fourth.responses().count == 1 }) { openAtEnd = h.server.admission.openByIP }
        try h.run()
        let refused = try #require(third.responses().first)
        #expect(refused.status == 503)
        #expect(refused.text == "too many connections from 127.0.0.1\n")
        #expect(fourth.responses().first?.status == 101)
        #expect(openAtEnd == ["127.0.0.1": 2])
        #expect(h.server.counters.refused == ["max_connections_per_ip": 1])
    }

    @Test func slotIsReleasedOnACleanCloseToo() throws {
        let h = try ServerHarness { $0.server.maxConnectionsPerIP = 1 }
        let alice = h.connect("/ws?name=Alice")
        var bob: WSClient!
        var openAtEnd: [String: Int] = [:]
        h.sync(alice)
        h.step("Alice holds the only slot", until: { h.server.admission.openByIP == ["127.0.0.1": 1] }) {
            alice.close(code: CloseCode.normalClosure, reason: "bye")
        }
        h.step("released", until: { h.server.admission.openByIP.isEmpty }) { bob = h.connect("/ws?name=Bob") }
        h.sync(bob)
        h.step("the end") { openAtEnd = h.server.admission.openByIP }
        try h.run()
        #expect(alice.closed == .local(code: 1000, reason: "bye"))
        #expect(bob.types.first == "welcome")
        #expect(openAtEnd == ["127.0.0.1": 1])
    }

    @Test func refusedUpgradesHoldNoSlot() throws {
        let h = try ServerHarness {
            $0.server.maxConnectionsPerIP = 1
            $0.chat.requireName = true
        }
        let nameless = h.raw()
        let named = h.raw()
        h.step("a refused upgrade") { nameless.upgrade("/ws") }
        h.step("its 400", until: { nameless.responses().count == 1 }) { named.upgrade("/ws?name=Ann") }
        var openAtEnd: [String: Int] = [:]
        h.step("the next one answered", until: { named.responses().count == 1 }) { openAtEnd = h.server.admission.openByIP }
        try h.run()
        #expect(nameless.responses().first?.status == 400)
        #expect(named.responses().first?.status == 101)
        #expect(openAtEnd == ["127.0.0.1": 1])
    }

    @Test func lineUsersAreNotCountedPerIP() throws {
        let h = try ServerHarness {
            $0.server.maxConnectionsPerIP = 1
            $0.line.enabled = true
        }
        let liner = h.lineUser()
        let ws = h.raw()
        h.step("the line prompt", until: { liner.lines.count == 1 }) { ws.upgrade("/ws?name=Ann") }
        h.wait("the upgrade answered", until: { ws.responses().count == 1 })
        try h.run()
        #expect(ws.responses().first?.status == 101)
    }

    /// A line session ending gives back no WebSocket's slot.
    @Test func lineHangUpReleasesNoSlot() throws {
        let h = try ServerHarness {
            $0.server.maxConnectionsPerIP = 1
            $0.line.enabled = true
        }
        let ws = h.raw()
        let liner = h.lineUser()
        let second = h.raw()
        var openAfterHangUp: [String: Int] = [:]
        h.step("upgrade") { ws.upgrade("/ws?name=Ann") }
        h.step("101 and the line prompt", until: { ws.responses().count == 1 && liner.lines.count == 1 }) { liner.say("Liner") }
        h.step("the line user named", until: { liner.lines.count == 3 }) { liner.close() }
        // The server's end of the line session is gone: Ann's is the only session left.
        h.step("the line session ended", until: { h.reactor.sessionCount == 1 }) {
            openAfterHangUp = h.server.admission.openByIP
            second.upgrade("/ws?name=Ben")
        }
        h.wait("the second upgrade answered", until: { second.responses().count == 1 })
        try h.run()
        #expect(ws.responses().first?.status == 101)
        #expect(openAfterHangUp == ["127.0.0.1": 1])
        #expect(second.responses().first?.status == 503)
    }

    /// Behind a trusted proxy every user has their own address: the per-IP limit counts the
    /// forwarded client, and the slot goes back to that client when it closes.
    @Test func aTrustedProxysClientsAreCountedApart() throws {
        let h = try ServerHarness {
            $0.server.maxConnectionsPerIP = 1
            $0.server.trustedProxies = [IPNetwork("127.0.0.0/8")!]
        }
        let ann = h.raw(), ben = h.raw(), annAgain = h.raw()
        var openWithBoth: [String: Int] = [:]
        h.step("two users behind the proxy") {
            ann.upgrade("/ws?name=Ann", headers: [("X-Forwarded-For", "203.0.113.1")])
            ben.upgrade("/ws?name=Ben", headers: [("X-Forwarded-For", "6.6.6.6, 203.0.113.2")])
        }
        h.step("both admitted", until: { ann.responses().count == 1 && ben.responses().count == 1 }) {
            openWithBoth = h.server.admission.openByIP
            annAgain.upgrade("/ws?name=Ann2", headers: [("X-Forwarded-For", "203.0.113.1")])
        }
        h.step("Ann's second refused", until: { annAgain.responses().count == 1 }) { ann.close() }
        h.wait("Ann's slot back", until: { h.server.admission.openByIP == ["203.0.113.2": 1] })
        try h.run()
        #expect(ann.responses().first?.status == 101)
        #expect(ben.responses().first?.status == 101)
        #expect(openWithBoth == ["203.0.113.1": 1, "203.0.113.2": 1])
        #expect(annAgain.responses().first?.status == 503)
        #expect(annAgain.responses().first?.text == "too many connections from 203.0.113.1\n")
        #expect(h.server.counters.forwardedHeaders == ["believed": 3])
    }

    /// From a peer that is not a trusted proxy the header is ignored (and counted).
    @Test func anUntrustedPeersHeaderIsIgnored() throws {
        let h = try ServerHarness {
            $0.server.maxConnectionsPerIP = 1
            $0.server.trustedProxies = [IPNetwork("10.0.0.0/8")!]
        }
        let first = h.raw(), second = h.raw()
        h.step("two upgrades claiming different addresses") {
            first.upgrade("/ws?name=One", headers: [("X-Forwarded-For", "203.0.113.1")])
        }
        h.step("the first admitted", until: { first.responses().count == 1 }) {
            second.upgrade("/ws?name=Two", headers: [("X-Forwarded-For", "203.0.113.2")])
        }
        h.wait("the second answered", until: { second.responses().count == 1 })
        try h.run()
        #expect(first.responses().first?.status == 101)
        #expect(second.responses().first?.status == 503)
        #expect(second.responses().first?.text == "too many connections from 127.0.0.1\n")
        #expect(h.server.counters.forwardedHeaders == ["ignored": 2])
    }
}
