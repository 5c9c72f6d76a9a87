import ConfabCodec
import Testing
@testable import ConfabChat

/// Random sequences over three nodes, with deliveries delayed at random and nodes losing
/// Redis and coming back. Once everything is delivered and every node is up, every node
/// lists the same people in every room; throughout, each node's state is consistent and
/// every connection sees each room's messages in strictly increasing seq. Clients also come
/// back with old tokens through any node, so sessions move between nodes, some while a node
/// is apart and misses the move.
@Suite struct ClusterPropertyTests {
    static let rooms = ["lobby", "dev", "ops"]
    static let names = ["ann", "ben", "cy", "dee", "eve"]
    /// Signed-in users: their devices come and go on any node, several at once.
    static let accounts = [Account(id: "acct-ann", name: "ann"), Account(id: "acct-zed", name: "Zed")]

    @Test func nodesAgreeOnEveryRoomAfterRandomSequences() {
        var agreedRuns = 0
        var coverage = (deliveries: 0, outages: 0, remoteUsers: 0, resumes: 0, devices: 0)
        let seeds: Range<UInt64> = 0..<60  // 400 passed once; 60 keep the suite quick
        for seed in seeds {
            if run(seed: seed, &coverage) { agreedRuns += 1 }
        }
        #expect(agreedRuns == seeds.count)
        // The interesting paths ran: messages across nodes, outages, users listed elsewhere.
        #expect(coverage.deliveries > 5000)
        #expect(coverage.outages > 30)
        #expect(coverage.remoteUsers > 300)
        #expect(coverage.resumes > 50)
        #expect(coverage.devices > 300)
    }

    private func run(seed: UInt64, _ coverage: inout (deliveries: Int, outages: Int, remoteUsers: Int, resumes: Int, devices: Int)) -> Bool {
        var random = SplitMix64(seed: seed &* 31 &+ 7)
        var config = ChatConfig(historySize: 5, maxRooms: 10, resumeGraceSeconds: 2,
                                ratePerSecond: 0, presenceFullListMax: seed % 2 == 0 ? 200 : 3)
        config.rateBurst = 1000
        var cluster = ClusterHarness(nodes: 3, config)
        var open: [[ConnectionID]] = [[], [], []]
        var next: ConnectionID = 1
        var lastSeq: [ConnectionID: [String: Int]] = [:]
        var tokens: [String] = []
        func pick<T>(_ items: [T]) -> T { items[Int(random.next(upperBound: UInt64(items.count)))] }
        for step in 0..<300 {
            let node = Int(random.next(upperBound: UInt64(3)))
            cluster.nodes[node].now += Int64(random.next(upperBound: UInt64(300)))
            let someone = open[node].isEmpty ? nil : pick(open[node])
            switch (random.next(upperBound: UInt64(12)), someone) {
            case (0...1, _), (_, nil):
                cluster.connect(node, next, name: random.next(upperBound: UInt64(2)) == 0 ? pick(Self.names) : nil)
                open[node].append(next)
                next += 1
            case (2, let c?):
                cluster.run(node, .disconnected(c, random.next(upperBound: UInt64(2)) == 0 ? .goodbye : .dropped("reset"),
                                                 now: cluster.nodes[node].now))
                open[node].removeAll { $0 == c }
            case (3...4, let c?):
                cluster.request(node, c, #"{"type":"join","room":"\#(pick(Self.rooms))"}"#)
            case (5, let c?):
                cluster.request(node, c, #"{"type":"leave","room":"\#(pick(Self.rooms))"}"#)
            case (6, let c?):
                cluster.request(node, c, #"{"type":"name","name":"\#(pick(Self.names))\#(random.next(upperBound: UInt64(3)))"}"#)
            case (7, _):
                if cluster.up[node] && random.next(upperBound: UInt64(4)) == 0 {
                    cluster.takeDown(node)
                    coverage.outages += 1
                }
                else if !cluster.up[node] { cluster.bringUp(node) }
            case (8, _):
                cluster.run(node, .tick(now: cluster.nodes[node].now))
            case (10, _) where random.next(upperBound: UInt64(2)) == 0:
                cluster.run(node, .connected(next, ConnectRequest(account: pick(Self.accounts)), now: cluster.nodes[node].now))
                open[node].append(next)
                next += 1
                coverage.devices += 1
            case (9, _) where !tokens.isEmpty:
                // A client comes back with its token through any node, perhaps another one.
                cluster.connect(node, next, resume: pick(tokens))
                open[node].append(next)
                next += 1
            case (_, let c?):
                cluster.say(node, c, "hi")
            }
            if random.next(upperBound: UInt64(3)) == 0 { cluster.settle() }
            // Typed, not decoded: thousands of effects per run.
            for effects in cluster.take() {
                for effect in effects {
                    switch effect {
                    case .send(let c, let outbound):
                        if case .joined(let room, _) = outbound.message { lastSeq[c, default: [:]][room.lowercased()] = 0 }
                        if case .welcome(let welcome) = outbound.message {
                            tokens.append(welcome.token)
                            if welcome.resumed { coverage.resumes += 1 }
                        }
                    case .broadcast(let recipients, _, let outbound):
                        guard case .message(let message) = outbound.message else { continue }
                        let room = message.room.lowercased(), seq = Int(message.seq)
                        for c in recipients {
                            if seq <= lastSeq[c, default: [:]][room, default: 0] {
                                Issue.record("seed \(seed): connection \(c) got seq \(seq) in \(room) after \(lastSeq[c]?[room] ?? 0)")
                                return false
                            }
                            lastSeq[c, default: [:]][room] = seq
                            coverage.deliveries += 1
                        }
                    default:
                        continue
                    }
                }
            }
            for machine in cluster.nodes.map(\.machine) where step % 5 == 0 {
                let problems = machine.invariantViolations()
                if !problems.isEmpty {
                    Issue.record("seed \(seed): \(problems)")
                    return false
                }
            }
        }
        for node in 0..<3 where !cluster.up[node] { cluster.bringUp(node) }
        cluster.settle()
        coverage.remoteUsers += cluster.nodes.map { $0.machine.roomUserIDs(named: "lobby")?.count ?? 0 }.reduce(0, +)
            - cluster.nodes.map(\.machine.userCount).reduce(0, +)
        for room in Self.rooms {
            let views = cluster.nodes.map { $0.machine.roomUserIDs(named: room) ?? [] }
            if views[0] != views[1] || views[1] != views[2] {
                Issue.record("seed \(seed): room \(room) listed differently: \(views)")
                return false
            }
        }
        return true
    }
}
