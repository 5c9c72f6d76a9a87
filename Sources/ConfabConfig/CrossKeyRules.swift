/// Rules that involve two keys, checked once every layer is applied. The error points at
/// whichever of the two keys a layer set (the first one if both), where that layer put it.
enum CrossKeyRules {
    typealias Origin = (source: ConfigSource, line: Int?, found: String)

    static func check(_ config: ConfabConfig, origin: (String) -> Origin?) throws(ConfigError) {
        /// Each side of a broken rule: its key and what it should have been given the other.
        func fail(_ first: (path: String, expected: String),
                  _ second: (path: String, expected: String)) -> ConfigError {
            let fallback: Origin = (.file("<defaults>"), nil,
                                    quoted(ConfigKey.named(first.path)?.value(in: config) ?? ""))
            let side = origin(first.path) != nil || origin(second.path) == nil ? first : second
            let from = origin(side.path) ?? fallback
            return ConfigError(kind: .crossKey, source: from.source, line: from.line,
                               keyPath: side.path, expected: side.expected, found: from.found)
        }
        let ws = config.websocket
        // A client must get at least one ping before it can be judged idle.
        if ws.idleTimeoutSeconds <= ws.pingIntervalSeconds {
            throw fail(("websocket.idleTimeoutSeconds",
                        "more seconds than websocket.pingIntervalSeconds (\(ws.pingIntervalSeconds))"),
                       ("websocket.pingIntervalSeconds",
                        "fewer seconds than websocket.idleTimeoutSeconds (\(ws.idleTimeoutSeconds))"))
        }
        // Configured rooms always exist, so they must fit under the server's room limit.
        let chat = config.chat
        if chat.rooms.count > chat.maxRooms {
            throw fail(("chat.maxRooms", "at least as many rooms as chat.rooms lists (\(chat.rooms.count))"),
                       ("chat.rooms", "at most chat.maxRooms (\(chat.maxRooms)) rooms"))
        }
        // Two endpoints on one path: one of them could never be reached.
        if let echo = config.diagnostics.echoPath, echo == config.server.wsPath {
            throw fail(("diagnostics.echoPath", "a path other than server.wsPath (\(config.server.wsPath))"),
                       ("server.wsPath", "a path other than diagnostics.echoPath (\(echo))"))
        }
        if let pixide = config.compat.pixidePath {
            if pixide == config.server.wsPath {
                throw fail(("compat.pixidePath", "a path other than server.wsPath (\(config.server.wsPath))"),
                           ("server.wsPath", "a path other than compat.pixidePath (\(pixide))"))
            }
            if let echo = config.diagnostics.echoPath, pixide == echo {
                throw fail(("compat.pixidePath", "a path other than diagnostics.echoPath (\(echo))"),
                           ("diagnostics.echoPath", "a path other than compat.pixidePath (\(pixide))"))
            }
        }
    }
}
