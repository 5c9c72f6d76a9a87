import ConfabCodec
import Foundation
import Testing
@testable import ConfabChat

/// Accounts: sessions of users who arrived with a verified token (ConnectRequest.account).
@Suite struct AccountTests {
    static let alice = Account(id: "acct-alice", name: "Alice")
    static let bob = Account(id: "acct-bob", name: "Bob")

    @Test func anAccountIsShownUnderItsIdAndName() {
        var h = Harness()
        let effects = h.connect(1, account: Self.alice, name: "Mallory")
        let welcome = effects.delivered(to: 1)
        #expect(welcome.map(\.type) == ["welcome", "users", "history"])
        #expect(welcome[0].user["id"] as? String == "acct-alice")
        #expect(welcome[0].user["name"] as? String == "Alice")
        #expect(welcome[0]["resumed"] as? Bool == false)
        h.connect(2)
        #expect((h.say(1, "hi").delivered(to: 2).first?["from"] as? JSON)?["id"] as? String == "acct-alice")
        h.check()
    }

    @Test func nobodyElseTakesAnAccountsName() {
        var h = Harness()
        h.connect(1, account: Self.alice)
        // Anonymous users: not on connect, not by renaming.
        let anonymous = h.connect(2, name: "alice").delivered(to: 2)
        #expect(anonymous[0].user["name"] as? String != "alice")
        #expect(anonymous.first { $0.type == "error" }?.string("code") == "name_taken")
        #expect(h.request(2, ["type": "name", "name": "ALICE"]).delivered(to: 2).first?.string("code") == "name_taken")
        // Another account whose token names the same: a random name and the error.
        let other = h.connect(3, account: Account(id: "acct-alice-2", name: "Alice")).delivered(to: 3)
        #expect(other[0].user["name"] as? String != "Alice")
        #expect(other[0].user["id"] as? String == "acct-alice-2")
        #expect(other.first { $0.type == "error" }?.string("code") == "name_taken")
        // Gone (goodbye), the name is still the account's.
        h.goodbye(1)
        #expect(h.request(2, ["type": "name", "name": "Alice"]).delivered(to: 2).first?.string("code") == "name_taken")
        #expect(h.machine.nameError("alice")?.code == .nameTaken)
        // And it comes back to it.
        #expect(h.connect(4, account: Self.alice).delivered(to: 4).first?.user["name"] as? String == "Alice")
        h.check()
    }

    @Test func anAnonymousHolderGivesTheNameBack() {
        var h = Harness()
        h.connect(1, name: "Alice")
        h.connect(2, name: "Watcher")
        let effects = h.connect(3, account: Self.alice)
        #expect(effects.delivered(to: 3).first?.user["name"] as? String == "Alice")
        let squatter = effects.delivered(to: 1)
        #expect(squatter.map(\.type) == ["renamed", "error", "presence"])
        #expect(squatter[0].string("oldName") == "Alice")
        let newName = squatter[0].user["name"] as? String
        #expect(newName != nil && newName != "Alice")
        #expect(squatter[1].string("code") == "name_taken")
        // The room sees the rename, then the account's arrival.
        let watcher = effects.delivered(to: 2)
        #expect(watcher.count == 1)
        #expect(watcher.first?.changes.map { $0["event"] as? String } == ["rename", "join"])
        h.check()
    }

    @Test func renamingIsForbiddenUnlessAllowed() {
        var h = Harness()
        h.connect(1, account: Self.alice)
        let refused = h.request(1, ["type": "name", "name": "Alicia", "id": 9]).delivered(to: 1)
        #expect(refused.first?.string("code") == "forbidden")
        #expect(refused.first?.int("re") == 9)

        var open = Harness(ChatConfig(allowAccountRename: true))
        open.connect(1, account: Self.alice)
        open.connect(2)
        #expect(open.request(1, ["type": "name", "name": "Alicia"]).delivered(to: 1).first?.type == "renamed")
        // The account's name moved with it: the old one is free, the new one is the account's.
        #expect(open.request(2, ["type": "name", "name": "Alice"]).delivered(to: 2).first?.type == "renamed")
        open.goodbye(1)
        #expect(open.request(2, ["type": "name", "name": "Alicia"]).delivered(to: 2).first?.string("code") == "name_taken")
        open.check()
    }

    @Test func roomsOutsideTheListAreForbidden() {
        var h = Harness()
        let member = Account(id: "acct-m", name: "Member", rooms: ["lobby", "Dev"])
        h.connect(1, account: member)
        #expect(h.request(1, ["type": "join", "room": "dev"]).delivered(to: 1).first?.type == "joined")
        let refused = h.request(1, ["type": "join", "room": "ops", "id": "j"]).delivered(to: 1)
        #expect(refused.first?.string("code") == "forbidden")
        #expect(refused.first?.string("re") == "j")
        #expect(h.machine.roomNames(of: 1) == ["lobby", "dev"])
        // Nor may it list who is in one.
        h.connect(2)
        h.request(2, ["type": "join", "room": "ops"])
        #expect(h.request(1, ["type": "users", "room": "ops"]).delivered(to: 1).first?.string("code") == "forbidden")
        // Accounts without a list, and anonymous users, go anywhere.
        h.connect(3, account: Self.bob)
        #expect(h.request(3, ["type": "join", "room": "ops"]).delivered(to: 3).first?.type == "joined")
        h.check()
    }

    @Test func anAccountNotAllowedInTheHomeRoomStartsInItsFirstRoom() {
        var h = Harness()
        let member = Account(id: "acct-m", name: "Member", rooms: ["bad room", "team-a", "team-b"])
        #expect(h.machine.admissionError(for: ConnectRequest(account: member)) == nil)
        let welcome = h.connect(1, account: member).delivered(to: 1)
        #expect(welcome.first?.string("room") == "team-a")
        #expect(welcome.first?["rooms"] as? [String] == ["team-a"])
        #expect(h.machine.roomMembers(named: "lobby")?.users == 0)
        // It cannot leave its last room for the home room either.
        #expect(h.request(1, ["type": "join", "room": "lobby"]).delivered(to: 1).first?.string("code") == "forbidden")
        h.check()
    }

    @Test func anAccountWithNoRoomIsRefusedBeforeTheUpgrade() {
        let h = Harness()
        for rooms in [[], ["bad room"], ["x/y"]] as [[String]] {
            let refusal = h.machine.admissionError(for: ConnectRequest(account: Account(id: "a", name: "A", rooms: rooms)))
            #expect(refusal?.code == "forbidden")
        }
        // Should it get past admission anyway (rooms filled up meanwhile), it is closed, not stranded.
        var full = Harness(ChatConfig(maxRooms: 1))
        let effects = full.connect(1, account: Account(id: "a", name: "A", rooms: ["elsewhere"]))
        #expect(effects.delivered(to: 1).first?.string("code") == "room_limit")
        #expect(effects.closes.first?.1 == ChatCloseCode.policyViolation)
        #expect(full.machine.userCount == 0)
        _ = h
        full.check()
    }

    @Test func accountsMeetRequireName() {
        let h = Harness(ChatConfig(requireName: true))
        #expect(h.machine.admissionError(for: ConnectRequest())?.code == "name_required")
        #expect(h.machine.admissionError(for: ConnectRequest(account: Self.alice)) == nil)
    }

    @Test func anInvalidAccountNameGetsARandomOneAndTheError() {
        var h = Harness()
        let uuid = Account(id: "3f2b8a4e-0000-4000-8000-1234567890ab", name: "3f2b8a4e-0000-4000-8000-1234567890ab")
        let welcome = h.connect(1, account: uuid).delivered(to: 1)
        #expect(welcome.first?.user["id"] as? String == uuid.id)
        #expect(welcome.first { $0.type == "error" }?.string("code") == "invalid_name")
        h.check()
    }

    /// Two tabs, a phone and a laptop: one account's connections are its devices, each its own
    /// session (rooms, token, grace period) under one user: listed once, announced once.
    @Test func anAccountsDevicesAreOneUser() {
        var h = Harness()
        let laptop = h.connect(1, account: Self.alice).delivered(to: 1)
        h.connect(2, name: "Watcher")
        let phone = h.connect(3, account: Self.alice)
        #expect(phone.closes.isEmpty)
        #expect(phone.delivered(to: 2).isEmpty)  // already here: no presence
        #expect(phone.delivered(to: 1).isEmpty)
        let welcome = phone.delivered(to: 3)
        #expect(welcome.map(\.type) == ["welcome", "users", "history"])
        #expect(welcome[0].user["id"] as? String == "acct-alice" && welcome[0].user["name"] as? String == "Alice")
        #expect(welcome[0]["resumed"] as? Bool == false && welcome[0].string("token") != laptop[0].string("token"))
        #expect(names(welcome[1].json["users"]) == ["Alice", "Watcher"])
        #expect(h.machine.userCount == 2 && h.machine.connectionCount == 3)
        // What one device says, the others see as the account's own message.
        let said = h.say(3, "from my phone")
        for connection: ConnectionID in [1, 2, 3] {
            let from = said.delivered(to: connection).first { $0.type == "message" }?.json["from"] as? JSON
            #expect(from?["id"] as? String == "acct-alice", "connection \(connection)")
        }
        h.check()
    }

    @Test func presenceComesWithTheFirstDeviceInARoomAndGoesWithTheLast() {
        var h = Harness()
        h.connect(1, account: Self.alice)
        h.connect(2, name: "Watcher")
        h.request(2, ["type": "join", "room": "dev"])
        h.connect(3, account: Self.alice)
        #expect(h.request(1, ["type": "join", "room": "dev"]).delivered(to: 2).first?.event == "join")
        // The second device joins, and the first leaves: to the room Alice stays.
        #expect(h.request(3, ["type": "join", "room": "dev"]).delivered(to: 2).isEmpty)
        #expect(h.request(1, ["type": "leave", "room": "dev"]).delivered(to: 2).isEmpty)
        let users = h.request(2, ["type": "users", "room": "dev"]).delivered(to: 2)
        #expect(names(users.first?.json["users"]) == ["Alice", "Watcher"])
        // A dropped device is in its grace period: still there. Then gone: dev loses Alice, the
        // lobby keeps her (device 1).
        h.drop(3)
        let expired = h.tick(after: Int64(h.machine.config.resumeGraceSeconds) * 1000 + 1)
        let watcher = expired.delivered(to: 2)
        #expect(watcher.map(\.type) == ["presence"])
        #expect(watcher.first?.string("room") == "dev" && watcher.first?.event == "leave")
        #expect(names(h.request(2, ["type": "users", "room": "lobby"]).delivered(to: 2).first?.json["users"]) == ["Alice", "Watcher"])
        // The last device says goodbye: the lobby sees her leave.
        #expect(h.goodbye(1).delivered(to: 2).first?.event == "leave")
        #expect(h.machine.userCount == 1)
        h.check()
    }

    /// Resume and take-over stay per connection: a device's token continues that device.
    @Test func aDevicesTokenContinuesThatDevice() {
        var h = Harness()
        let laptop = h.connect(1, account: Self.alice).delivered(to: 1)[0]
        h.request(1, ["type": "join", "room": "dev"])
        h.connect(2, account: Self.alice)
        // The laptop's token on a new connection while the laptop is still connected: it takes
        // the laptop over (4000), the phone stays.
        let effects = h.connect(3, account: Self.alice, resume: laptop.string("token"))
        #expect(effects.closes.map { "\($0.0) \($0.1)" } == ["1 4000"])
        let resumed = effects.delivered(to: 3)
        #expect(resumed.first?["resumed"] as? Bool == true && resumed.first?["rooms"] as? [String] == ["lobby", "dev"])
        #expect(effects.delivered(to: 2).isEmpty)
        // A connection without a token picks up a device in its grace period rather than
        // adding one.
        h.drop(2)
        let picked = h.connect(4, account: Self.alice)
        #expect(picked.delivered(to: 4).first?["rooms"] as? [String] == ["lobby"])
        #expect(h.machine.connectionCount == 2)
        h.check()
    }

    @Test func renamingAnAccountRenamesEveryDeviceAndTellsEachRoomOnce() {
        var h = Harness(ChatConfig(allowAccountRename: true))
        h.connect(1, account: Self.alice)
        h.connect(2, account: Self.alice)
        h.connect(3, name: "Watcher")
        h.request(2, ["type": "join", "room": "dev"])
        h.request(3, ["type": "join", "room": "dev"])
        let effects = h.request(1, ["type": "name", "name": "Ally"])
        #expect(effects.delivered(to: 1).map(\.type) == ["renamed"])
        #expect(effects.delivered(to: 2).first?.type == "renamed")
        let watcher = effects.delivered(to: 3).filter { $0.type == "presence" }
        #expect(watcher.map { $0.string("room") ?? "" }.sorted() == ["dev", "lobby"])
        #expect(watcher.allSatisfy { $0.event == "rename" && $0.changes.count == 1 })
        // The name is the account's: its own devices may show it, a new device gets it.
        #expect(h.request(2, ["type": "name", "name": "ally"]).delivered(to: 2).first?.type == "renamed")
        #expect(h.connect(4, account: Self.alice).delivered(to: 4).first?.user["name"] as? String == "ally")
        #expect(h.request(3, ["type": "name", "name": "Ally"]).delivered(to: 3).first?.string("code") == "name_taken")
        h.check()
    }

    @Test func resumeTokensDoNotCrossBetweenAccountsAndAnonymousUsers() {
        var h = Harness()
        let anonymousToken = h.welcome(1, name: "Anon").string("token")
        h.drop(1)
        // An account showing an anonymous session's token starts its own session.
        let account = h.connect(2, account: Self.alice, resume: anonymousToken).delivered(to: 2)
        #expect(account.first?["resumed"] as? Bool == false)
        #expect(account.first?.user["name"] as? String == "Alice")
        let accountToken = account.first?.string("token")
        h.drop(2)
        // An anonymous connection showing an account's token does not become the account.
        let anonymous = h.connect(3, resume: accountToken).delivered(to: 3)
        #expect(anonymous.first?["resumed"] as? Bool == false)
        #expect(anonymous.first?.user["id"] as? String != "acct-alice")
        #expect(h.machine.admissionError(for: ConnectRequest(resumeToken: accountToken)) == nil)
        // The account gets its session back (it is in its grace period).
        let back = h.connect(4, account: Self.alice).delivered(to: 4)
        #expect(back.first?.user["id"] as? String == "acct-alice" && back.first?.string("token") != accountToken)
        #expect(h.machine.userCount == 3 && h.machine.connectionCount == 2)
        h.check()
    }

    @Test func aNewerTokenBringsItsRoomList() {
        var h = Harness()
        h.connect(1, account: Account(id: "m", name: "M", rooms: ["lobby", "dev"]))
        h.drop(1)
        h.connect(2, account: Account(id: "m", name: "M", rooms: ["lobby"]))
        #expect(h.request(2, ["type": "join", "room": "dev"]).delivered(to: 2).first?.string("code") == "forbidden")
        h.check()
    }

    @Test func randomAccountTrafficKeepsTheInvariants() {
        for seed in 0..<40 as Range<UInt64> {
            var h = Harness(ChatConfig(maxRooms: 5, maxRoomsPerUser: 3, roomCapacity: 4, resumeGraceSeconds: 2,
                                       allowAccountRename: seed % 2 == 0), seed: seed)
            var random = SplitMix64(seed: seed)
            let accounts = [Self.alice, Self.bob, Account(id: "acct-c", name: "Alice", rooms: ["dev", "ops"]),
                            Account(id: "acct-d", name: "Dee", rooms: [])]
            var open: [ConnectionID] = []
            var next: ConnectionID = 1
            for _ in 0..<300 {
                h.now += Int64(random.next(upperBound: 700 as UInt64))
                let choice = random.next(upperBound: 8 as UInt64)
                if choice < 3 || open.isEmpty {
                    let account = random.next(upperBound: 3 as UInt64) == 0 ? nil : accounts[Int(random.next(upperBound: 4 as UInt64))]
                    let name = ["Alice", "Bob", "Dee", nil][Int(random.next(upperBound: 4 as UInt64))]
                    if h.machine.admissionError(for: ConnectRequest(name: name, account: account)) == nil {
                        let effects = h.connect(next, account: account, name: name)
                        open.removeAll { c in effects.closes.contains { $0.0 == c } }
                        if !effects.closes.contains(where: { $0.0 == next }) { open.append(next) }
                        next += 1
                    }
                } else {
                    let connection = open[Int(random.next(upperBound: UInt64(open.count)))]
                    switch choice {
                    case 3: h.request(connection, ["type": "join", "room": ["dev", "ops", "lobby", "x"][Int(random.next(upperBound: 4 as UInt64))]])
                    case 4: h.request(connection, ["type": "name", "name": ["Alice", "Bob", "Zed"][Int(random.next(upperBound: 3 as UInt64))]])
                    case 5: h.drop(connection); open.removeAll { $0 == connection }
                    case 6: h.goodbye(connection); open.removeAll { $0 == connection }
                    default: h.tick(after: 1000)
                    }
                }
                let problems = h.machine.invariantViolations()
                if !problems.isEmpty {
                    Issue.record("seed \(seed): \(problems)")
                    return
                }
            }
        }
    }
}

extension Harness {
    @discardableResult
    mutating func connect(_ connection: ConnectionID, account: Account?, name: String? = nil, resume: String? = nil) -> [ChatEffect] {
        turn(.connected(connection, ConnectRequest(name: name, resumeToken: resume, account: account), now: now))
    }
}

/// Accounts in cluster mode: devices on several nodes are one user everywhere, and the
/// account's name is its own on every node.
@Suite struct ClusterAccountTests {
    @Test func devicesOnTwoNodesAreOneUser() {
        var cluster = ClusterHarness(nodes: 2)
        let alice = Account(id: "acct-alice", name: "Alice")
        cluster.run(0, .connected(1, ConnectRequest(account: alice), now: cluster.nodes[0].now))
        cluster.connect(1, 50, name: "Watcher")
        cluster.request(1, 50, #"{"type":"join","room":"dev"}"#)
        cluster.settle()
        _ = cluster.take()
        // A second device, through the other node: nobody is closed, nobody sees an arrival.
        let phone = cluster.run(1, .connected(101, ConnectRequest(account: alice), now: cluster.nodes[1].now))
        cluster.settle()
        let welcome = phone.delivered(to: 101).first
        #expect(welcome?.user["id"] as? String == "acct-alice" && welcome?.user["name"] as? String == "Alice")
        #expect(welcome?["resumed"] as? Bool == false)
        var later = cluster.take()
        #expect((phone + later[0] + later[1]).closes.isEmpty)
        #expect((phone + later[1]).delivered(to: 50).isEmpty)
        for node in 0..<2 {
            #expect(cluster.nodes[node].machine.roomUserIDs(named: "lobby") == ["acct-alice", cluster.nodes[1].machine.userID(of: 50)!])
        }
        // What the phone says, the laptop on the other node gets as the account's own.
        cluster.say(1, 101, "from the phone")
        cluster.settle()
        later = cluster.take()
        #expect((later[0].delivered(to: 1).first { $0.type == "message" }?.json["from"] as? JSON)?["id"] as? String == "acct-alice")
        // Presence with the first device in a room, anywhere; none with the second.
        cluster.request(0, 1, #"{"type":"join","room":"dev"}"#)
        cluster.settle()
        #expect(cluster.take()[1].delivered(to: 50).first?.event == "join")
        cluster.request(1, 101, #"{"type":"join","room":"dev"}"#)
        cluster.request(0, 1, #"{"type":"leave","room":"dev"}"#)
        cluster.settle()
        #expect(cluster.take()[1].delivered(to: 50).filter { $0.type == "presence" }.isEmpty)
        #expect(cluster.nodes[0].machine.roomUserIDs(named: "dev")?.contains("acct-alice") == true)
        // The laptop says goodbye: Alice stays (the phone). Then the phone: she leaves both rooms.
        cluster.run(0, .disconnected(1, .goodbye, now: cluster.nodes[0].now))
        cluster.settle()
        #expect(cluster.take()[1].delivered(to: 50).filter { $0.type == "presence" }.isEmpty)
        cluster.run(1, .disconnected(101, .goodbye, now: cluster.nodes[1].now))
        cluster.settle()
        let left = cluster.take()[1].delivered(to: 50).filter { $0.event == "leave" }.map { $0.string("room") ?? "" }
        #expect(left.sorted() == ["dev", "lobby"])
        for node in 0..<2 { #expect(cluster.nodes[node].machine.roomUserIDs(named: "lobby")?.contains("acct-alice") == false) }
        cluster.check()
    }

    /// A rename (auth.allowRename) on one node renames the account's devices on every node.
    @Test func aRenameReachesTheDevicesOnOtherNodes() {
        var config = ChatConfig()
        config.allowAccountRename = true
        var cluster = ClusterHarness(nodes: 2, config)
        let alice = Account(id: "acct-alice", name: "Alice")
        cluster.run(0, .connected(1, ConnectRequest(account: alice), now: cluster.nodes[0].now))
        cluster.run(1, .connected(101, ConnectRequest(account: alice), now: cluster.nodes[1].now))
        cluster.connect(1, 50, name: "Watcher")
        cluster.settle()
        _ = cluster.take()
        cluster.request(0, 1, #"{"type":"name","name":"Ally","id":3}"#)
        cluster.settle()
        let later = cluster.take()
        #expect(later[0].delivered(to: 1).first { $0.type == "renamed" }?.int("re") == 3)
        #expect(later[1].delivered(to: 101).first { $0.type == "renamed" }?.user["name"] as? String == "Ally")
        #expect(later[1].delivered(to: 50).filter { $0.event == "rename" }.count == 1)
        #expect(cluster.nodes[1].machine.nameError("ally")?.code == .nameTaken)
        cluster.check()
    }

    /// The account's name stays its own across the cluster while it is away.
    @Test func anAbsentAccountsNameIsRefusedOnEveryNode() {
        var cluster = ClusterHarness(nodes: 2)
        let alice = Account(id: "acct-alice", name: "Alice")
        cluster.run(0, .connected(1, ConnectRequest(account: alice), now: cluster.nodes[0].now))
        cluster.connect(1, 50, name: "Watcher")
        cluster.settle()
        cluster.run(0, .disconnected(1, .goodbye, now: cluster.nodes[0].now))
        cluster.settle()
        _ = cluster.take()
        cluster.request(1, 50, #"{"type":"name","name":"alice","id":7}"#)
        cluster.settle()
        let refused = cluster.take()[1].delivered(to: 50).first { $0.int("re") == 7 }
        #expect(refused?.string("code") == "name_taken")
        // Back, on the other node: the name is granted to it again.
        let back = cluster.run(1, .connected(51, ConnectRequest(account: alice), now: cluster.nodes[1].now))
        cluster.settle()
        #expect(back.delivered(to: 51).first?.user["name"] as? String == "Alice")
        #expect(cluster.take()[1].delivered(to: 51).allSatisfy { $0.type != "renamed" })
        cluster.check()
    }

    /// An anonymous user who took the account's name before the account came, on any node,
    /// gives it up to the account, as on one node.
    @Test func anAnonymousHolderOnAnyNodeGivesTheNameBack() {
        for squatterNode in 0..<2 {
            var cluster = ClusterHarness(nodes: 2)
            cluster.connect(squatterNode, 50, name: "Alice")
            cluster.settle()
            _ = cluster.take()
            let arrival = cluster.run(0, .connected(1, ConnectRequest(account: Account(id: "acct-alice", name: "Alice")),
                                                    now: cluster.nodes[0].now))
            cluster.settle()
            #expect(arrival.delivered(to: 1).first?.user["name"] as? String == "Alice", "squatter on node \(squatterNode)")
            let squatter = (arrival + cluster.take()[squatterNode]).delivered(to: 50)
            #expect(squatter.first { $0.type == "error" }?.string("code") == "name_taken", "squatter on node \(squatterNode)")
            let renamed = squatter.first { $0.type == "renamed" }?.user["name"] as? String
            #expect(renamed != nil && renamed != "Alice", "squatter on node \(squatterNode)")
            // Both nodes agree on who is who.
            for node in 0..<2 {
                #expect(cluster.nodes[node].machine.nameError("alice")?.code == .nameTaken)
            }
            cluster.check()
        }
    }
}
