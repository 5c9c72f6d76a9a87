import ConfabChat
import ConfabConfig

extension ChatConfig {
    /// The state machine's view of the `chat` section.
    init(_ settings: ChatSettings) {
        self.init()
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
    }
}
