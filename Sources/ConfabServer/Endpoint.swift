/// The WebSocket endpoints the server speaks, as tags the reactor hands back.
enum Endpoint: Int {
    /// `server.wsPath`: protocol v1 chat.
    case chat = 0
    /// `diagnostics.echoPath`: echoes every message through the same codec and limits.
    case echo = 1
    /// `line.port`: plain-text line chat, bridged into the same state machine.
    case line = 2
    /// `compat.pixidePath`: PixIDE's chat protocol, bridged into the same state machine.
    case pixide = 3
}
