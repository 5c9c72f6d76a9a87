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

    public init() {}

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
