import ConfabChat
import ConfabConfig

extension ChatConfig {
    /// The state machine's view of the `chat` section; `logLevel` spares it building
    /// log lines nobody will see.
    init(_ settings: ChatSettings, serverName: String, logLevel: LogLevel) {
        self.init()
        self.serverName = serverName
        switch logLevel {
        case .trace, .debug: minimumLogLevel = .debug
        case .info: minimumLogLevel = .info
        case .notice: minimumLogLevel = .notice
        case .warning: minimumLogLevel = .warning
        case .error, .critical: minimumLogLevel = .error
        }
        historySize = settings.historySize
        maxMessageBytes = settings.maxMessageBytes
        rooms = settings.rooms
        reservedNames = settings.reservedNames
        requireName = settings.requireName
        maxRooms = settings.maxRooms
        maxRoomsPerUser = settings.maxRoomsPerUser
        roomCapacity = settings.roomCapacity
        resumeGraceSeconds = settings.resumeGraceSeconds
        ratePerSecond = settings.rate.perSecond
        rateBurst = settings.rate.burst
        rateDisconnectAfter = settings.rate.disconnectAfter
        presenceFullListMax = settings.presence.fullListMax
        presenceIntervalMs = settings.presence.intervalMs
    }
}
