/// `chat.*`: rooms, names, history and per-user limits of the room state machine.
public struct ChatSettings: Sendable, Equatable {
    /// Enough scroll-back to follow a conversation on joining; costs little memory per room.
    public var historySize = 50
    /// A long paragraph fits; a pasted file does not.
    public var maxMessageBytes = 4_096
    /// Everyone lands in `lobby`; configured rooms always exist.
    public var rooms = ["lobby"]
    /// Names that would let a user pass for the server itself.
    public var reservedNames = ["system", "server", "admin"]
    /// Off: a random name is friendlier for a first visit than a refused connection.
    public var requireName = false
    /// Bounds memory used by user-created rooms on a public server.
    public var maxRooms = 1_000
    /// Generous for people, small enough that one client cannot create most of `maxRooms`.
    public var maxRoomsPerUser = 20
    /// Equal to the default `server.maxConnections`: a room never limits a default server.
    public var roomCapacity = 10_000
    /// Covers a page reload or a short network change without ghost users lingering long.
    public var resumeGraceSeconds = 30
    /// Request rate limit per user.
    public var rate = RateSettings()
    /// How rooms tell who is there.
    public var presence = PresenceSettings()

    public init() {}

    /// `chat.presence.*`: full lists and a line per arrival in small rooms, counts in large ones.
    public struct PresenceSettings: Sendable, Equatable {
        /// A list of 200 names is still readable, and announcing each arrival to 200 people
        /// is cheap; beyond it both cost the room's size per join.
        public var fullListMax = 200
        /// Once a second is as often as a person reads a member count.
        public var intervalMs = 1_000

        public init() {}
    }

    /// `chat.rate.*`: a token bucket over every request a user makes.
    public struct RateSettings: Sendable, Equatable {
        /// Faster than anyone types, slower than any flood script.
        public var perSecond = 5.0
        /// Lets a paste of a few lines or a burst of commands through at once.
        public var burst = 20
        /// A client that keeps ignoring `rate_limited` this many times in a row is a bot: cut it.
        public var disconnectAfter = 20

        public init() {}
    }
}
