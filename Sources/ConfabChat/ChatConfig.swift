/// Chat policy. Defaults are conservative for one small server; `ConfabConfig` validates ranges,
/// and the machine clamps anything nonsensical instead of trapping.
public struct ChatConfig: Sendable, Equatable {
    /// Messages kept per room; 50 fills a screen of context for a newcomer.
    public var historySize: Int
    /// UTF-8 bytes of a message `text`; 4 KiB is a long paragraph, well below frame limits.
    public var maxMessageBytes: Int
    /// Rooms that always exist. The first is where every new session starts.
    public var rooms: [String]
    /// Names nobody may take (compared case-insensitively), so users cannot pose as the server.
    public var reservedNames: [String]
    /// Refuse the upgrade (see `admissionError`) unless a valid, free `?name=` is given.
    public var requireName: Bool
    /// Rooms on the server, configured ones included; bounds memory held by idle rooms.
    public var maxRooms: Int
    /// Rooms one user may be in at once; bounds per-user fan-out.
    public var maxRoomsPerUser: Int
    /// Members per room, sessions in their grace period included.
    public var roomCapacity: Int
    /// How long a dropped session stays resumable; 30 s covers a page reload or a network hop.
    public var resumeGraceSeconds: Int
    /// Token bucket refill per second over every request; <= 0 disables rate limiting.
    public var ratePerSecond: Double
    /// Token bucket size: a short burst (pasting, reconnect replay) is fine.
    public var rateBurst: Int
    /// Refusals in a row that end the session with close 1008.
    public var rateDisconnectAfter: Int
    /// Above this many members a room stops listing everyone and announcing each arrival:
    /// a joiner gets a page of members, the room an `occupancy` update per interval.
    public var presenceFullListMax: Int
    /// How often a large room's `occupancy` (and the room list's `roomsChanged`) may go out.
    public var presenceIntervalMs: Int
    /// Log effects below this level are not produced at all (saves the string building).
    public var minimumLogLevel: ChatLogLevel
    /// Shown by clients (the `server` field of `welcome`).
    public var serverName: String
    /// nil: one process, all state here. Set: one node of a cluster (docs/CLUSTER.md).
    public var cluster: ClusterNode?
    /// Account users may rename themselves; off, their name is the token's (`forbidden`).
    public var allowAccountRename: Bool

    public init(
        historySize: Int = 50,
        maxMessageBytes: Int = 4096,
        rooms: [String] = ["lobby"],
        reservedNames: [String] = ["system", "server", "admin"],
        requireName: Bool = false,
        maxRooms: Int = 1000,
        maxRoomsPerUser: Int = 20,
        roomCapacity: Int = 10_000,
        resumeGraceSeconds: Int = 30,
        ratePerSecond: Double = 5.0,
        rateBurst: Int = 20,
        rateDisconnectAfter: Int = 20,
        presenceFullListMax: Int = 200,
        presenceIntervalMs: Int = 1000,
        minimumLogLevel: ChatLogLevel = .info,
        serverName: String = "Confab",
        cluster: ClusterNode? = nil,
        allowAccountRename: Bool = false
    ) {
        self.historySize = historySize
        self.maxMessageBytes = maxMessageBytes
        self.rooms = rooms
        self.reservedNames = reservedNames
        self.requireName = requireName
        self.maxRooms = maxRooms
        self.maxRoomsPerUser = maxRoomsPerUser
        self.roomCapacity = roomCapacity
        self.resumeGraceSeconds = resumeGraceSeconds
        self.ratePerSecond = ratePerSecond
        self.rateBurst = rateBurst
        self.rateDisconnectAfter = rateDisconnectAfter
        self.presenceFullListMax = presenceFullListMax
        self.presenceIntervalMs = presenceIntervalMs
        self.minimumLogLevel = minimumLogLevel
        self.serverName = serverName
        self.cluster = cluster
        self.allowAccountRename = allowAccountRename
    }

    /// A large room turns small again only below this (hysteresis: three quarters of
    /// `presenceFullListMax`), so a room at the threshold does not flap between the modes.
    public var presenceSmallBelow: Int { presenceFullListMax - presenceFullListMax / 4 }

    /// Members per `users` page when the client does not say.
    public static let usersPageSize = 50

    /// Largest request text the machine parses. A `text` of maxMessageBytes may legally be
    /// written with six-byte `\u00XX` escapes, plus room for the envelope.
    public var maxRequestBytes: Int { min(max(0, maxMessageBytes), 1 << 20) * 6 + 1024 }
}
