import ConfabCodec
import ConfabProtocol

/// This process as one node of a cluster sharing rooms through Redis (docs/CLUSTER.md).
public struct ClusterNode: Sendable, Equatable {
    /// Unique per process start; tags everything this node publishes.
    public var nodeID: String

    public init(nodeID: String) { self.nodeID = nodeID }
}

/// What the cluster's I/O tells the machine.
public enum ClusterEvent: Sendable {
    /// Subscribed to the bus (at start, or again after losing Redis).
    case up
    /// Lost Redis: from now on the node serves its own users alone.
    case down
    /// A message from the bus: another node's news, or any node's chat message.
    case bus(BusMessage)
    /// A room's history as Redis holds it, oldest first (answering `loadHistory`).
    case history(roomKey: String, [ChatMessage])
    /// A post that did not reach Redis: the machine delivers it on this node alone.
    case postFailed(ClusterPost)
    /// Whose resume token this is, answering `lookupToken` (nil: nobody's, or Redis is away).
    case tokenOwner(ConnectionID, token: String, userID: String?)
    /// Redis's answer to `claimName` (`granted` nil: no answer, Redis was lost): `displaced`
    /// is the user who held it and lost it (to an account, or by the rule for names taken
    /// while apart).
    case nameClaim(String, userID: String, granted: Bool?, displaced: String?)
}

/// What the machine asks of the cluster's I/O.
public enum ClusterEffect: Sendable {
    /// To every other node.
    case publish(BusMessage)
    /// Number (the room's next cluster-wide seq), store in the room's history and publish;
    /// it comes back as a bus `message`, to this node too.
    case post(ClusterPost)
    /// Fetch the room's stored history; answered by `ClusterEvent.history`.
    case loadHistory(roomKey: String)
    /// Messages numbered while apart: the room's next seq must stay above `seq`.
    case raiseSeq(roomKey: String, atLeast: UInt64)
    /// Take a name (its case-folded key) for a user, cluster-wide; answered by
    /// `ClusterEvent.nameClaim`. `reclaim`: this node held it before losing Redis; if another
    /// user holds it now, the lesser user id keeps it. `account`: the name is the account's
    /// own (the user id is its `sub`): it is taken from an anonymous holder (`displaced`), and
    /// from then on nobody else gets it, even after the account's session ends.
    case claimName(String, userID: String, reclaim: Bool, account: Bool)
    /// The user no longer holds the name (if it still was theirs; an account's name is its own
    /// again to give up).
    case releaseName(String, userID: String)
    /// Record which user a resume token resumes, so any node can (replacing the user's previous token).
    case storeToken(String, userID: String)
    /// The user's session is over: its token resumes nothing any more.
    case dropToken(userID: String)
    /// Ask whose token this is (a connection resuming a session this node does not host);
    /// answered by `ClusterEvent.tokenOwner`.
    case lookupToken(String, for: ConnectionID)
    /// The room is gone (its last member anywhere left): drop its seq and history, unless a
    /// message was numbered after `lastSeq` (someone is using the room again).
    case forgetRoom(roomKey: String, lastSeq: UInt64)
}

/// A chat message on its way to Redis for its seq.
public struct ClusterPost: Sendable {
    public var roomKey: String
    /// The message without its seq, as the bus carries it up to `"seq":` (ClusterWire).
    public var payload: [UInt8]
    /// The least seq it may get: the next this node expects in the room, so a Redis that
    /// lost the room's count (restarted empty, or the room forgotten meanwhile) never numbers
    /// a message below one already delivered.
    public var seqFloor: UInt64
    /// To deliver it here alone when Redis cannot take it.
    public var room: String
    public var from: ChatUser
    public var text: String
    public var action: Bool
    public var timestamp: Int64
    public var origin: ConnectionID
    public var re: RequestID?
}
