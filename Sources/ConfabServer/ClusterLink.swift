import ConfabChat
import ConfabCodec
import ConfabProtocol
import ConfabReactor
import Logging

/// Cluster mode's I/O (docs/CLUSTER.md): the machine's cluster effects as Redis commands,
/// and Redis's answers and the bus's messages back as cluster events. Loop thread only.
final class ClusterLink {
    let node: String
    let redis: RedisClient
    let reactor: Reactor
    let keys: ClusterKeys
    let historySize: Int
    let nodeTimeoutMs: Int
    private var heartbeat: LoopTimer?
    /// Shutting down: the bus is no longer listened to.
    private var leaving = false
    let logger: Logger
    /// Where events go: the server's `handle`.
    var deliver: (ClusterEvent) -> Void = { _ in }
    /// Bus messages that did not parse (another version, or someone else on the channel).
    private(set) var undecodable = 0

    init(reactor: Reactor, endpoint: RedisEndpoint, keyPrefix: String, node: String, nodeTimeoutSeconds: Int,
         historySize: Int, logger: Logger) {
        self.node = node
        self.reactor = reactor
        self.nodeTimeoutMs = nodeTimeoutSeconds * 1000
        self.keys = ClusterKeys(prefix: keyPrefix)
        self.historySize = historySize
        self.logger = logger
        redis = RedisClient(reactor: reactor, endpoint: endpoint, channels: [keys.bus], logger: logger)
    }

    func start() {
        redis.onUp = { [unowned self] in
            beat()  // at once: a node that dies before its first timed beat must still be missed
            deliver(.up)
        }
        redis.onDown = { [unowned self] _ in deliver(.down) }  // the client logs the outage, the machine what it means
        redis.onMessage = { [unowned self] _, payload in
            guard !leaving else { return }
            guard let message = ClusterWire.decode(payload) else {
                undecodable += 1
                if undecodable == 1 || undecodable % 1000 == 0 {
                    logger.warning("cluster: bus message not understood; ignored", metadata: ["count": "\(undecodable)"])
                }
                return
            }
            deliver(.bus(message))
        }
        redis.start()
        // Three beats per timeout: one lost or late beat never looks like death.
        heartbeat = reactor.every(milliseconds: UInt64(min(1000, nodeTimeoutMs / 3))) { [unowned self] in beat() }
    }

    /// Says this node is alive, and declares dead any node silent for the timeout (in one
    /// script, so each death is announced once, whichever node notices it first).
    private func beat() {
        guard redis.isUp else { return }
        redis.send(ClusterScripts.heartbeat.call(keys: [keys.nodes],
                                                 arguments: [node, String(nodeTimeoutMs), keys.bus].map { Array($0.utf8) })) {
            [unowned self] reply in
            guard case .array(let dead) = reply, !dead.isEmpty else { return }
            let names = dead.compactMap { if case .bulk(let bytes) = $0 { String(decoding: bytes, as: UTF8.self) } else { nil } }
            logger.notice("cluster: declared nodes dead", metadata: ["nodes": "\(names.joined(separator: ","))"])
        }
    }

    /// A clean exit: the other nodes treat this node's users as dropped connections at once
    /// (resumable on them) instead of waiting for the node timeout.
    func leave() {
        leaving = true
        heartbeat?.cancel()
        guard redis.isUp else { return }
        redis.send([Array("ZREM".utf8), Array(keys.nodes.utf8), Array(node.utf8)], reply: nil)
        redis.send([Array("PUBLISH".utf8), Array(keys.bus.utf8), ClusterWire.encode(.down(node: node))], reply: nil)
    }

    var isUp: Bool { redis.isUp }

    func apply(_ effect: ClusterEffect) {
        switch effect {
        case .publish(let message):
            redis.send([Array("PUBLISH".utf8), Array(keys.bus.utf8), ClusterWire.encode(message)], reply: nil)
        case .post(let post):
            let arguments = ClusterScripts.post.call(
                keys: [keys.seq(post.roomKey), keys.history(post.roomKey)],
                arguments: [post.payload, Array(String(post.seqFloor).utf8), Array(String(historySize).utf8), Array(keys.bus.utf8)])
            redis.send(arguments) { [unowned self] reply in
                if case .error(let reason) = reply {
                    logger.warning("cluster: message not posted through Redis", metadata: ["reason": "\(reason)"])
                    deliver(.postFailed(post))
                }
            }
        case .loadHistory(let roomKey):
            guard historySize > 0 else { return }
            redis.send([Array("LRANGE".utf8), Array(keys.history(roomKey).utf8), Array("0".utf8), Array("-1".utf8)]) {
                [unowned self] reply in
                guard case .array(let items) = reply else { return }
                let messages = items.compactMap { item -> ChatMessage? in
                    guard case .bulk(let bytes) = item else { return nil }
                    return ClusterWire.decodeStoredMessage(bytes)
                }
                deliver(.history(roomKey: roomKey, messages))
            }
        case .storeToken(let token, let userID):
            redis.send(ClusterScripts.storeToken.call(keys: [keys.tokens, keys.tokenOf],
                                                      arguments: [Array(token.utf8), Array(userID.utf8)]), reply: nil)
        case .dropToken(let userID):
            redis.send(ClusterScripts.dropToken.call(keys: [keys.tokens, keys.tokenOf], arguments: [Array(userID.utf8)]),
                       reply: nil)
        case .lookupToken(let token, let connection):
            redis.send([Array("HGET".utf8), Array(keys.tokens.utf8), Array(token.utf8)]) { [unowned self] reply in
                var owner: String?
                if case .bulk(let bytes) = reply { owner = String(decoding: bytes, as: UTF8.self) }
                deliver(.tokenOwner(connection, token: token, userID: owner))
            }
        case .claimName(let nameKey, let userID, let reclaim, let account):
            let arguments = [nameKey, userID, reclaim ? "1" : "0", account ? "1" : "0"].map { Array($0.utf8) }
            redis.send(ClusterScripts.claimName.call(keys: [keys.names, keys.accountNames], arguments: arguments)) { [unowned self] reply in
                var granted: Bool?
                var displaced: String?
                if case .array(let items) = reply, case .integer(let won)? = items.first {
                    granted = won == 1
                    if items.count > 1, case .bulk(let holder) = items[1] { displaced = String(decoding: holder, as: UTF8.self) }
                }
                deliver(.nameClaim(nameKey, userID: userID, granted: granted, displaced: displaced))
            }
        case .releaseName(let nameKey, let userID):
            redis.send(ClusterScripts.releaseName.call(keys: [keys.names, keys.accountNames],
                                                       arguments: [Array(nameKey.utf8), Array(userID.utf8)]),
                       reply: nil)
        case .raiseSeq(let roomKey, let atLeast):
            redis.send(ClusterScripts.raiseSeq.call(keys: [keys.seq(roomKey)], arguments: [Array(String(atLeast).utf8)]),
                       reply: nil)
        case .forgetRoom(let roomKey, let lastSeq):
            redis.send(ClusterScripts.forgetRoom.call(keys: [keys.seq(roomKey), keys.history(roomKey)],
                                                      arguments: [Array(String(lastSeq).utf8)]), reply: nil)
        }
    }

    func close() {
        heartbeat?.cancel()
        redis.close()
    }

    /// A node id for this process start: `n-` and 10 random base-32 characters.
    static func newNodeID() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var random = SystemRandomNumberGenerator()
        return "n-" + String((0..<10).map { _ in alphabet[Int(random.next(upperBound: UInt64(alphabet.count)))] })
    }
}

/// Every Redis key and channel Confab uses, under the configured prefix (docs/CLUSTER.md).
struct ClusterKeys {
    let prefix: String

    /// The one pub/sub channel every node listens to.
    var bus: String { prefix + "bus" }
    /// A room's last seq (a counter) and its recent messages (a list of bus messages).
    func seq(_ roomKey: String) -> String { prefix + "room:" + roomKey + ":seq" }
    func history(_ roomKey: String) -> String { prefix + "room:" + roomKey + ":history" }
    /// Live nodes, scored by their last heartbeat (Redis's clock, in ms).
    var nodes: String { prefix + "nodes" }
    /// Resume tokens: token → user id, and user id → its current token.
    var tokens: String { prefix + "tokens" }
    var tokenOf: String { prefix + "tokenOf" }
    /// Names taken: case-folded name → the user holding it.
    var names: String { prefix + "names" }
    var accountNames: String { prefix + "accountNames" }
}
