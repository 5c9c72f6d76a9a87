import ConfabCodec
import ConfabProtocol

/// The whole chat brain: rooms, names, history, presence, rate limits and session resume.
/// A value type driven by `handle(_:into:)`; time and randomness come in from outside, effects
/// go out as a list the reactor carries out. See docs/PROTOCOL.md for the wire protocol.
///
/// Names, user ids and resume tokens (192 bits, URL-safe) are drawn from `random`: tests pass a
/// seeded `SplitMix64`, the server `EntropyPool` (the kernel's CSPRNG).
public struct ChatMachine {
    var core: ChatCore

    public init(config: ChatConfig, random: some RandomNumberGenerator) {
        core = ChatCore(config: config, random: random)
    }

    /// The configuration in force, after clamping nonsensical values.
    public var config: ChatConfig { core.config }

    /// Applies one event, appending effects (the caller reuses the array).
    public mutating func handle(_ event: ChatEvent, into effects: inout [ChatEffect]) {
        core.handle(event, into: &effects)
    }

    /// Convenience for tests.
    public mutating func handle(_ event: ChatEvent) -> [ChatEffect] {
        var effects: [ChatEffect] = []
        core.handle(event, into: &effects)
        return effects
    }

    /// The reason to refuse an upgrade, so the server can answer 400 before upgrading: with
    /// `requireName` a missing, invalid or taken name; always, a home room at `roomCapacity`;
    /// for an account whose `rooms` leave it nowhere to start, `forbidden` (403) or the full or
    /// limited room. nil when the connection is welcome. A connection that continues a session
    /// (a valid resume token, an account with a session) is always admitted.
    public func admissionError(for request: ConnectRequest) -> ChatRefusal? {
        core.admissionError(for: request)
    }

    /// Presence or room-list changes wait for a `.flush`.
    public var hasPendingPresence: Bool { core.hasPendingPresence }

    /// Why a new session could not be named `name` now (`invalid_name`, `name_taken`), or nil
    /// when it could. For dialects that name the user in a request and refuse rather than
    /// fall back to a random name; valid until the next event.
    public func nameError(_ name: String) -> ChatError? {
        if case .failure(let error) = core.checkName(name, for: nil) { return error }
        return nil
    }

    /// This node's users, including those in their resume grace period: an account on several
    /// devices counts once (in a cluster, the other nodes' users are listed but not counted).
    public var userCount: Int {
        core.sessions.count - (core.cluster?.remoteCount ?? 0) - core.accounts.count + Set(core.accounts.values.map(\.id)).count
    }
    public var connectionCount: Int { core.connections.count }
    public var roomCount: Int { core.rooms.count }
}

/// Test hooks, forwarded to the core.
extension ChatMachine {
    func invariantViolations() -> [String] { core.invariantViolations() }
    func roomMembers(named name: String) -> (users: Int, connections: [ConnectionID])? { core.roomMembers(named: name) }
    func roomNames(of connection: ConnectionID) -> [String] { core.roomNames(of: connection) }
    func historyCount(of name: String) -> Int? { core.historyCount(of: name) }
    var pendingSmallRooms: Int { core.pendingSmallRooms }
    func isLarge(_ room: String) -> Bool? { core.roomByKey[Names.key(room)].flatMap { core.rooms[$0]?.isLarge } }
    func userID(of connection: ConnectionID) -> String? { core.connections[connection].flatMap { core.sessions[$0]?.userID } }
    func roomUserIDs(named name: String) -> Set<String>? { core.roomUserIDs(named: name) }
}
