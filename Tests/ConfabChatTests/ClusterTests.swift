import ConfabCodec
import ConfabProtocol
import Testing
@testable import ConfabChat

/// Nodes of one cluster behave as one server: messages, order, presence, `users`, rooms,
/// names and history across nodes, and a node that loses Redis and comes back.
@Suite struct ClusterTests {
    @Test func aMessageReachesEveryNodeOnceWithOneSeqAndTheSenderIsAcked() {
        var cluster = ClusterHarness(nodes: 2)
        cluster.connect(0, 1, name: "ann")
        cluster.connect(1, 101, name: "ben")
        cluster.settle()
        _ = cluster.take()
        let sent = cluster.say(0, 1, "hello", id: 7)
        // Nothing is delivered before Redis numbers it.
        #expect(sent.types(to: 1).isEmpty)
        cluster.settle()
        let effects = cluster.take()
        let annGot = effects[0].delivered(to: 1)
        #expect(annGot.map(\.type) == ["message", "ack"])
        #expect(annGot.first?.int("seq") == 1)
        #expect(annGot.last?.int("seq") == 1)
        let benGot = effects[1].delivered(to: 101)
        #expect(benGot.map(\.type) == ["message"])
        #expect(benGot.first?.string("text") == "hello")
        #expect((benGot.first?["from"] as? JSON)?["name"] as? String == "ann")
        cluster.check()
    }

    @Test func everyNodeSeesARoomsMessagesInOneOrder() {
        var cluster = ClusterHarness(nodes: 3)
        for node in 0..<3 { cluster.connect(node, ConnectionID(100 * node + 1)) }
        cluster.settle()
        _ = cluster.take()
        // Interleaved sends, all in flight at once.
        for round in 0..<5 {
            for node in 0..<3 { cluster.say(node, ConnectionID(100 * node + 1), "m\(round)-\(node)") }
        }
        cluster.settle()
        let effects = cluster.take()
        let orders = (0..<3).map { node in
            effects[node].delivered(to: ConnectionID(100 * node + 1)).filter { $0.type == "message" }
                .map { "\($0.int("seq") ?? 0):\($0.string("text") ?? "")" }
        }
        #expect(orders[0].count == 15)
        #expect(orders[0] == orders[1])
        #expect(orders[1] == orders[2])
        #expect(orders[0].map { Int($0.split(separator: ":")[0]) ?? 0 } == Array(1...15))
        cluster.check()
    }

    @Test func presenceUsersAndRoomCountsSpanTheNodes() {
        var cluster = ClusterHarness(nodes: 2)
        cluster.connect(0, 1, name: "ann")
        cluster.settle()
        _ = cluster.take()
        cluster.connect(1, 101, name: "ben")
        cluster.settle()
        let effects = cluster.take()
        // Ann, on the other node, hears of Ben's arrival; Ben's own list shows both.
        let presence = effects[0].delivered(to: 1).filter { $0.type == "presence" }
        #expect(presence.count == 1)
        #expect(presence.first?.changes.first?["event"] as? String == "join")
        #expect((presence.first?.changes.first?["user"] as? JSON)?["name"] as? String == "ben")
        let list = effects[1].delivered(to: 101).first { $0.type == "users" }
        #expect(names(list?["users"]) == ["ann", "ben"])
        let rooms = cluster.request(0, 1, #"{"type":"rooms"}"#).delivered(to: 1).first { $0.type == "rooms" }
        let lobby = (rooms?["rooms"] as? [JSON])?.first { $0["name"] as? String == "lobby" }
        #expect(lobby?["users"] as? Int == 2)
        // Only this node's sessions count as its users.
        #expect(cluster.nodes[0].machine.userCount == 1)
        cluster.check()
    }

    @Test func roomsCreatedOnOneNodeExistOnAllAndGoWithTheirLastMember() {
        var cluster = ClusterHarness(nodes: 2)
        cluster.connect(0, 1, name: "ann")
        cluster.connect(1, 101, name: "ben")
        cluster.request(0, 1, #"{"type":"join","room":"dev"}"#)
        cluster.settle()
        #expect(cluster.nodes[1].machine.roomUserIDs(named: "dev")?.count == 1)
        cluster.request(1, 101, #"{"type":"join","room":"DEV"}"#)
        cluster.say(1, 101, "in dev")
        cluster.settle()
        _ = cluster.take()
        #expect(cluster.nodes[0].machine.roomUserIDs(named: "dev")?.count == 2)
        #expect(cluster.seqs["dev"] == 1)
        // Ben says goodbye, Ann leaves: the room is gone everywhere, and its Redis state with it.
        cluster.run(1, .disconnected(101, .goodbye, now: cluster.nodes[1].now))
        cluster.request(0, 1, #"{"type":"leave","room":"dev"}"#)
        cluster.settle()
        let effects = cluster.take()
        #expect(cluster.nodes[0].machine.roomUserIDs(named: "dev") == nil)
        #expect(cluster.nodes[1].machine.roomUserIDs(named: "dev") == nil)
        let forgets = effects.flatMap { $0 }.filter { if case .cluster(.forgetRoom("dev", 1)) = $0 { true } else { false } }
        #expect(forgets.count == 2)
        #expect(cluster.stored["dev"] == nil)
        #expect(cluster.seqs["dev"] == nil)
        cluster.check()
    }

    @Test func aRoomInUseAgainIsNotForgottenByANodeThatSawItEmpty() {
        var cluster = ClusterHarness(nodes: 2)
        cluster.connect(0, 1, name: "ann")
        cluster.connect(1, 101, name: "ben")
        cluster.request(0, 1, #"{"type":"join","room":"dev"}"#)
        cluster.say(0, 1, "first")
        cluster.settle()
        // Ann leaves; before node 1 hears of it, Ben joins and posts.
        cluster.request(0, 1, #"{"type":"leave","room":"dev"}"#)
        cluster.request(1, 101, #"{"type":"join","room":"dev"}"#)
        cluster.say(1, 101, "second")
        cluster.settle()
        _ = cluster.take()
        #expect(cluster.seqs["dev"] == 2)
        cluster.connect(1, 102)
        cluster.request(1, 102, #"{"type":"join","room":"dev"}"#)
        cluster.say(1, 102, "third")
        cluster.settle()
        let seqs = cluster.take()[1].delivered(to: 101).filter { $0.type == "message" }.compactMap { $0.int("seq") }
        #expect(seqs == [3])
        cluster.check()
    }

    @Test func namesAndRenamesAreSeenAcrossNodes() {
        var cluster = ClusterHarness(nodes: 2)
        cluster.connect(0, 1, name: "ann")
        cluster.connect(1, 101, name: "ben")
        cluster.settle()
        let taken = cluster.request(1, 101, #"{"type":"name","name":"ANN"}"#).delivered(to: 101)
        #expect(taken.first?.string("code") == "name_taken")
        cluster.request(0, 1, #"{"type":"name","name":"anna"}"#)
        cluster.settle()
        let effects = cluster.take()
        let rename = effects[1].delivered(to: 101).last { $0.type == "presence" }
        #expect(rename?.changes.first?["event"] as? String == "rename")
        #expect(rename?.changes.first?["oldName"] as? String == "ann")
        // The old name is free everywhere (a rename waits for Redis to grant it); the new one is not.
        cluster.request(1, 101, #"{"type":"name","name":"ann"}"#)
        cluster.settle()
        #expect(cluster.take()[1].delivered(to: 101).first?.type == "renamed")
        #expect(cluster.request(1, 101, #"{"type":"name","name":"anna"}"#).delivered(to: 101).first?.string("code") == "name_taken")
        cluster.check()
    }

    @Test func twoNodesRacingForOneNameOneWinsTheOtherIsTold() {
        var cluster = ClusterHarness(nodes: 2)
        cluster.connect(0, 1, name: "ann")
        cluster.connect(1, 101, name: "ben")
        cluster.settle()
        _ = cluster.take()
        // Both ask before either node hears of the other's rename.
        cluster.request(0, 1, #"{"type":"name","name":"zed","id":1}"#)
        cluster.request(1, 101, #"{"type":"name","name":"Zed","id":2}"#)
        cluster.settle()
        let effects = cluster.take()
        #expect(effects[0].delivered(to: 1).first { $0["re"] != nil }?.type == "renamed")
        let lost = effects[1].delivered(to: 101).first { $0["re"] != nil }
        #expect(lost?.type == "error")
        #expect(lost?.string("code") == "name_taken")
        #expect(cluster.names["zed"] == (cluster.nodes[0].machine.userID(of: 1) ?? "?"))
        cluster.check()
    }

    @Test func namesTakenOnTwoNodesWhileApartGoToTheLesserUserID() {
        var cluster = ClusterHarness(nodes: 2, upNow: false)
        // Both nodes start apart from Redis; each gives "max" to its first user.
        cluster.connect(0, 1, name: "max")
        cluster.connect(1, 101, name: "max")
        let ids = [cluster.nodes[0].machine.userID(of: 1) ?? "", cluster.nodes[1].machine.userID(of: 101) ?? ""]
        cluster.bringUp(0)
        cluster.bringUp(1)
        cluster.settle()
        let effects = cluster.take()
        let winner = ids[0] < ids[1] ? 0 : 1
        let loser = 1 - winner
        let loserConnection: ConnectionID = loser == 0 ? 1 : 101
        let told = effects[loser].delivered(to: loserConnection)
        #expect(told.contains { $0.type == "error" && $0.string("code") == "name_taken" })
        #expect(told.last { $0.type == "renamed" }.map { ($0.user["name"] as? String) != "max" } == true)
        #expect(cluster.names["max"] == ids[winner])
        #expect(cluster.nodes[0].machine.roomUserIDs(named: "lobby") == cluster.nodes[1].machine.roomUserIDs(named: "lobby"))
        cluster.check()
    }

    @Test func aSessionThatEndsLeavesEveryNode() {
        var cluster = ClusterHarness(nodes: 2)
        cluster.connect(0, 1, name: "ann")
        cluster.connect(1, 101, name: "ben")
        cluster.settle()
        _ = cluster.take()
        cluster.run(0, .disconnected(1, .goodbye, now: cluster.nodes[0].now))
        cluster.settle()
        let leave = cluster.take()[1].delivered(to: 101).first { $0.type == "presence" }
        #expect(leave?.changes.first?["event"] as? String == "leave")
        #expect(cluster.nodes[1].machine.roomUserIDs(named: "lobby")?.count == 1)
        cluster.check()
    }

    @Test func aNodeArrivingLaterLearnsEveryoneAndIsLearned() {
        var cluster = ClusterHarness(nodes: 2, upNow: false)
        cluster.bringUp(0)
        cluster.connect(0, 1, name: "ann")
        cluster.say(0, 1, "before ben's node")
        cluster.settle()
        // Node 1 has a user before it reaches Redis (started while Redis was away).
        cluster.connect(1, 101, name: "ben")
        cluster.bringUp(1)
        cluster.settle()
        #expect(cluster.nodes[0].machine.roomUserIDs(named: "lobby")?.count == 2)
        #expect(cluster.nodes[1].machine.roomUserIDs(named: "lobby")?.count == 2)
        // Its newcomers get the history Redis holds.
        let history = cluster.connect(1, 102).delivered(to: 102).first { $0.type == "history" }
        #expect(((history?["messages"] as? [JSON]) ?? []).compactMap { $0["text"] as? String } == ["before ben's node"])
        cluster.check()
    }

    @Test func aNodeApartFromRedisKeepsChattingLocallyAndCatchesUpAfter() {
        var cluster = ClusterHarness(nodes: 2)
        cluster.connect(0, 1, name: "ann")
        cluster.connect(0, 2, name: "amy")
        cluster.connect(1, 101, name: "ben")
        cluster.say(1, 101, "one")
        cluster.settle()
        cluster.takeDown(0)
        _ = cluster.take()
        // Local chat goes on, numbered after what the node saw.
        cluster.say(0, 1, "while apart", id: 1)
        cluster.settle()
        let apart = cluster.take()
        #expect(apart[0].delivered(to: 2).first { $0.type == "message" }?.int("seq") == 2)
        #expect(apart[0].delivered(to: 1).contains { $0.type == "ack" })
        #expect(apart[1].delivered(to: 101).allSatisfy { $0.type != "message" })
        // Amy leaves while apart; back on the bus, node 1 learns it from the hello.
        cluster.run(0, .disconnected(2, .goodbye, now: cluster.nodes[0].now))
        cluster.bringUp(0)
        cluster.settle()
        _ = cluster.take()
        #expect(cluster.nodes[1].machine.roomUserIDs(named: "lobby")?.count == 2)
        // Seq never goes back: the next message is numbered after the one sent apart.
        cluster.say(1, 101, "back")
        cluster.settle()
        #expect(cluster.take()[0].delivered(to: 1).first { $0.type == "message" }?.int("seq") == 3)
        cluster.check()
    }

    @Test func joinsIntoALargeRoomFromOtherNodesAreCountedNotAnnounced() {
        var config = ChatConfig()
        config.presenceFullListMax = 4
        var cluster = ClusterHarness(nodes: 2, config)
        cluster.connect(0, 1, name: "ann")
        for index in 0..<6 { cluster.connect(1, ConnectionID(101 + index)) }
        cluster.settle()
        _ = cluster.take()
        #expect(cluster.nodes[0].machine.isLarge("lobby") == true)
        cluster.connect(1, 200)
        cluster.settle()
        cluster.nodes[0].now += 1000
        cluster.run(0, .tick(now: cluster.nodes[0].now))
        let got = cluster.take()[0].delivered(to: 1)
        #expect(!got.contains { $0.type == "presence" })
        #expect(got.last { $0.type == "occupancy" }?.int("count") == 8)
        cluster.check()
    }
}

/// Sessions across nodes: resume anywhere, take-over from another node, and nodes that die.
@Suite struct ClusterSessionTests {
    @Test func aSessionResumesOnAnotherNodeWithItsNameRoomsAndHistory() {
        var cluster = ClusterHarness(nodes: 2)
        let welcome = cluster.connect(0, 1, name: "ann").delivered(to: 1).first
        let token = welcome?.string("token") ?? ""
        let annID = welcome?.user["id"] as? String
        cluster.request(0, 1, #"{"type":"join","room":"dev"}"#)
        cluster.connect(1, 101, name: "ben")
        cluster.settle()
        cluster.run(0, .disconnected(1, .dropped("reset"), now: cluster.nodes[0].now))
        cluster.say(1, 101, "while ann was away")
        cluster.settle()
        _ = cluster.take()
        // The client comes back through node 1.
        cluster.connect(1, 102, resume: token)
        cluster.settle()
        let effects = cluster.take()
        let got = effects[1].delivered(to: 102)
        #expect(got.first?.type == "welcome")
        #expect(got.first?["resumed"] as? Bool == true)
        #expect(got.first?.user["id"] as? String == annID)
        #expect(got.first?.user["name"] as? String == "ann")
        #expect((got.first?["rooms"] as? [String]) == ["lobby", "dev"])
        #expect(got.first?.string("room") == "dev")
        let lobbyHistory = got.first { $0.type == "history" && $0.string("room") == "lobby" }
        #expect(((lobbyHistory?["messages"] as? [JSON]) ?? []).compactMap { $0["text"] as? String } == ["while ann was away"])
        // No presence anywhere: to the others Ann never left.
        #expect(!effects.flatMap { $0 }.contains { if case .broadcast(_, _, let m) = $0 { m.text.contains("presence") } else { false } })
        // The old node lists her as node 1's now; the old token is spent.
        #expect(cluster.nodes[0].machine.userCount == 0)
        #expect(cluster.nodes[1].machine.userCount == 2)
        #expect(cluster.tokens[token] == nil)
        cluster.check()
    }

    @Test func resumingOnAnotherNodeClosesTheStillOpenOldConnectionWith4000() {
        var cluster = ClusterHarness(nodes: 2)
        let token = cluster.connect(0, 1, name: "ann").delivered(to: 1).first?.string("token") ?? ""
        cluster.settle()
        cluster.connect(1, 101, resume: token)
        cluster.settle()
        let effects = cluster.take()
        #expect(effects[0].closes.map { "\($0.0) \($0.1)" } == ["1 4000"])
        // Its later disconnect ends nothing and tells nobody.
        let after = cluster.run(0, .disconnected(1, .dropped("closed"), now: cluster.nodes[0].now))
        cluster.settle()
        #expect(after.withoutLogs.isEmpty)
        #expect(cluster.nodes[1].machine.roomUserIDs(named: "lobby")?.count == 1)
        cluster.check()
    }

    @Test func aServerRequiringNamesAdmitsATokenFromAnotherNodeWithoutOne() {
        var config = ChatConfig()
        config.requireName = true
        var cluster = ClusterHarness(nodes: 2, config)
        let token = cluster.connect(0, 1, name: "ann").delivered(to: 1).first?.string("token") ?? ""
        cluster.settle()
        #expect(cluster.nodes[1].machine.admissionError(for: ConnectRequest(resumeToken: token)) == nil)
        #expect(cluster.nodes[1].machine.admissionError(for: ConnectRequest())?.code == "name_required")
    }

    @Test func anUnknownTokenStartsANewSessionAfterAsking() {
        var cluster = ClusterHarness(nodes: 2)
        let parked = cluster.connect(1, 101, resume: String(repeating: "A", count: 32))
        #expect(parked.delivered(to: 101).isEmpty)
        cluster.settle()
        #expect(cluster.take()[1].delivered(to: 101).first?["resumed"] as? Bool == false)
        cluster.check()
    }

    @Test func aDeadNodesUsersAreResumableElsewhereThenLeaveEverywhere() {
        var config = ChatConfig()
        config.resumeGraceSeconds = 10
        var cluster = ClusterHarness(nodes: 3, config)
        let annToken = cluster.connect(0, 1, name: "ann").delivered(to: 1).first?.string("token") ?? ""
        cluster.connect(0, 2, name: "amy")
        cluster.connect(1, 101, name: "ben")
        cluster.connect(2, 201, name: "cy")
        cluster.settle()
        _ = cluster.take()
        cluster.kill(0)
        cluster.settle()
        // Nobody leaves yet: they are dropped connections, resumable anywhere.
        #expect(cluster.nodes[1].machine.roomUserIDs(named: "lobby")?.count == 4)
        cluster.connect(2, 202, resume: annToken)
        cluster.settle()
        #expect(cluster.take()[2].delivered(to: 202).first?["resumed"] as? Bool == true)
        // When the grace period ends, Amy (not resumed) leaves on every node; Ann stays.
        for node in 1...2 {
            cluster.nodes[node].now += 10_001
            cluster.run(node, .tick(now: cluster.nodes[node].now))
        }
        cluster.settle()
        let effects = cluster.take()
        let leaves = effects[1].delivered(to: 101).filter { $0.type == "presence" }.flatMap(\.changes)
        #expect(leaves.compactMap { ($0["user"] as? JSON)?["name"] as? String } == ["amy"])
        #expect(cluster.nodes[1].machine.roomUserIDs(named: "lobby")?.count == 3)
        #expect(cluster.nodes[2].machine.roomUserIDs(named: "lobby")?.count == 3)
        cluster.check()
    }
}
