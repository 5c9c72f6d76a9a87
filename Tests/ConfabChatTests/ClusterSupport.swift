import ConfabCodec
import ConfabProtocol
@testable import ConfabChat

/// Several machines as nodes of one cluster, with Redis played in memory: published bus
/// messages go through the wire codec to every other node; posts get the room's next seq,
/// land in its stored history and reach every node, in one order. Deliveries wait for
/// `settle()`, so tests can look at what a node does before the others hear of it.
struct ClusterHarness {
    var nodes: [Harness]
    var up: [Bool]
    /// Redis: per room key, the last seq drawn and the stored history (bus payloads).
    var seqs: [String: UInt64] = [:]
    var stored: [String: [[UInt8]]] = [:]
    /// Resume tokens: token → user id, and each user's current token.
    var tokens: [String: String] = [:]
    var tokenOf: [String: String] = [:]
    /// Names: key → the user holding it.
    var names: [String: String] = [:]
    var accountNames: [String: String] = [:]
    /// Nodes killed: they hear and do nothing.
    var dead: Set<Int> = []
    let historySize: Int
    /// In flight: (to node, event).
    var queue: [(Int, ClusterEvent)] = []
    /// Everything each node did since the last `take()`.
    var effects: [[ChatEffect]]

    init(nodes count: Int, _ config: ChatConfig = ChatConfig(), upNow: Bool = true) {
        historySize = config.historySize
        nodes = (0..<count).map { index in
            var config = config
            config.cluster = ClusterNode(nodeID: "node\(index)")
            return Harness(config, seed: UInt64(42 + index))
        }
        up = Array(repeating: false, count: count)
        effects = Array(repeating: [], count: count)
        if upNow {
            for index in 0..<count { bringUp(index) }
            settle()
        }
    }

    mutating func bringUp(_ node: Int) {
        up[node] = true
        run(node, .cluster(.up, now: nodes[node].now))
    }

    /// The node loses Redis: it hears nothing and what it publishes is lost.
    mutating func takeDown(_ node: Int) {
        up[node] = false
        queue.removeAll { $0.0 == node }
        run(node, .cluster(.down, now: nodes[node].now))
    }

    /// The node dies without a word (kill -9); the others hear Redis declare it down.
    mutating func kill(_ node: Int) {
        dead.insert(node)
        up[node] = false
        queue.removeAll { $0.0 == node }
        for other in nodes.indices where up[other] {
            queue.append((other, .bus(.down(node: "node\(node)"))))
        }
    }

    /// One event on one node, in a turn of its own; its cluster effects go to "Redis".
    @discardableResult
    mutating func run(_ node: Int, _ event: ChatEvent) -> [ChatEffect] {
        guard !dead.contains(node) else { return [] }
        let produced = nodes[node].turn(event)
        effects[node] += produced
        for effect in produced { if case .cluster(let effect) = effect { redis(effect, from: node) } }
        return produced
    }

    @discardableResult
    mutating func connect(_ node: Int, _ connection: ConnectionID, name: String? = nil, resume: String? = nil) -> [ChatEffect] {
        run(node, .connected(connection, ConnectRequest(name: name, resumeToken: resume), now: nodes[node].now))
    }

    @discardableResult
    mutating func request(_ node: Int, _ connection: ConnectionID, _ json: String) -> [ChatEffect] {
        run(node, .received(connection, decodeRequest(json, nodes[node].machine.config), now: nodes[node].now))
    }

    @discardableResult
    mutating func say(_ node: Int, _ connection: ConnectionID, _ text: String, id: Int? = nil) -> [ChatEffect] {
        request(node, connection, #"{"type":"send","text":"\#(text)""# + (id.map { #","id":\#($0)"# } ?? "") + "}")
    }

    private mutating func redis(_ effect: ClusterEffect, from node: Int) {
        guard up[node] else {
            if case .post(let post) = effect { queue.append((node, .postFailed(post))) }
            if case .lookupToken(let token, let connection) = effect { queue.append((node, .tokenOwner(connection, token: token, userID: nil))) }
            if case .claimName(let nameKey, let userID, _, _) = effect {
                queue.append((node, .nameClaim(nameKey, userID: userID, granted: nil, displaced: nil)))
            }
            return
        }
        switch effect {
        case .publish(let message):
            let bytes = ClusterWire.encode(message)
            for other in nodes.indices where other != node && up[other] {
                if let decoded = ClusterWire.decode(bytes) { queue.append((other, .bus(decoded))) }
            }
        case .post(let post):
            let seq = max((seqs[post.roomKey] ?? 0) + 1, post.seqFloor)
            seqs[post.roomKey] = seq
            var payload = post.payload
            payload += Array("\(seq)}".utf8)
            stored[post.roomKey, default: []].append(payload)
            stored[post.roomKey] = Array(stored[post.roomKey, default: []].suffix(historySize))
            for other in nodes.indices where up[other] {
                if let decoded = ClusterWire.decode(payload) { queue.append((other, .bus(decoded))) }
            }
        case .loadHistory(let roomKey):
            let messages = (stored[roomKey] ?? []).compactMap(ClusterWire.decodeStoredMessage)
            queue.append((node, .history(roomKey: roomKey, messages)))
        case .storeToken(let token, let userID):
            if let old = tokenOf[userID] { tokens.removeValue(forKey: old) }
            tokens[token] = userID
            tokenOf[userID] = token
        case .dropToken(let userID):
            if let old = tokenOf.removeValue(forKey: userID) { tokens.removeValue(forKey: old) }
        case .lookupToken(let token, let connection):
            queue.append((node, .tokenOwner(connection, token: token, userID: tokens[token])))
        case .claimName(let nameKey, let userID, let reclaim, let account):
            // As ClusterScripts.claimName.
            let holder = names[nameKey]
            if let owner = accountNames[nameKey], owner != userID {
                queue.append((node, .nameClaim(nameKey, userID: userID, granted: false, displaced: nil)))
            } else if holder == nil || holder == userID || account || (reclaim && userID < holder ?? "") {
                names[nameKey] = userID
                if account { accountNames[nameKey] = userID }
                let displaced = holder == userID ? nil : holder
                queue.append((node, .nameClaim(nameKey, userID: userID, granted: true, displaced: displaced)))
            } else {
                queue.append((node, .nameClaim(nameKey, userID: userID, granted: false, displaced: nil)))
            }
        case .releaseName(let nameKey, let userID):
            if names[nameKey] == userID { names.removeValue(forKey: nameKey) }
            if accountNames[nameKey] == userID { accountNames.removeValue(forKey: nameKey) }
        case .raiseSeq(let roomKey, let atLeast):
            seqs[roomKey] = max(seqs[roomKey] ?? 0, atLeast)
        case .forgetRoom(let roomKey, let lastSeq):
            guard (seqs[roomKey] ?? 0) <= lastSeq else { return }
            seqs.removeValue(forKey: roomKey)
            stored.removeValue(forKey: roomKey)
        }
    }

    /// Delivers everything in flight, and what that causes, until nothing is left.
    mutating func settle() {
        var rounds = 0
        while !queue.isEmpty && rounds < 10_000 {
            rounds += 1
            let (node, event) = queue.removeFirst()
            run(node, .cluster(event, now: nodes[node].now))
        }
    }

    /// What each node did since the last take.
    mutating func take() -> [[ChatEffect]] {
        defer { effects = Array(repeating: [], count: nodes.count) }
        return effects
    }

    func check() { for node in nodes { node.check() } }
}
