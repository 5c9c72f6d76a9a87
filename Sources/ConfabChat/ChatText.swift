/// Server messages as lines a person reads: `10:30:02 [lobby] Alice: hello`. The line chat
/// renders with it on the server, and `confab chat` in the terminal, so both look alike.
public enum ChatText {
    public enum Kind: Sendable, Equatable {
        /// Someone's chat message (`/me` actions included).
        case message
        /// Joins, leaves, renames: quiet lines.
        case presence
        /// Replies and notices from the server (welcome, users, rooms, help…).
        case system
        /// An `error` reply.
        case error
    }

    public struct Line: Sendable, Equatable {
        public var kind: Kind
        public var text: String
        /// The room and seq of a chat message, for de-duplication after a resume.
        public var room: String?
        public var seq: Int?
    }

    /// The lines for one server message (none for `ack` and unknown types), with clock
    /// times shifted by `utcOffsetSeconds` from the UTC `ts`.
    public static func render(_ json: [UInt8], utcOffsetSeconds: Int = 0) -> [Line] {
        guard case .object(let object)? = JSONParser.parse(bytes: json) else { return [] }
        return render(object, utcOffsetSeconds: utcOffsetSeconds)
    }

    static func render(_ m: JSONObject, utcOffsetSeconds: Int) -> [Line] {
        let room = m.string("room") ?? ""
        switch m.string("type") ?? "" {
        case "message":
            return message(m, utcOffsetSeconds: utcOffsetSeconds)
        case "history":
            guard case .array(let items)? = m["messages"] else { return [] }
            return items.flatMap { item -> [Line] in
                guard case .object(let message) = item else { return [] }
                return Self.message(message, utcOffsetSeconds: utcOffsetSeconds)
            }
        case "presence":
            let name = m.user?.string("name") ?? "someone"
            let text: String
            switch m.string("event") ?? "" {
            case "join": text = "\(name) joined"
            case "leave": text = "\(name) left"
            case "rename": text = "\(m.string("oldName") ?? "someone") is now known as \(name)"
            default: return []
            }
            return [Line(kind: .presence, text: "[\(room)] -- \(text)")]
        case "welcome":
            let name = m.user?.string("name") ?? "?"
            let resumed = m["resumed"] == .bool(true) ? " (session resumed)" : ""
            return [system("Welcome to \(m.string("server") ?? "Confab"), \(name)! You are in \(room).\(resumed) Type /help for commands.")]
        case "users":
            guard case .array(let users)? = m["users"] else { return [] }
            let names = users.compactMap { user -> String? in
                guard case .object(let object) = user else { return nil }
                return object.string("name")
            }
            return [system("In \(room) (\(names.count)): \(names.joined(separator: ", "))")]
        case "rooms":
            guard case .array(let rooms)? = m["rooms"] else { return [] }
            let listed = rooms.compactMap { entry -> String? in
                guard case .object(let object) = entry, let name = object.string("name") else { return nil }
                return "\(name) (\(object.number("users") ?? "0"))"
            }
            return [system("Rooms: \(listed.joined(separator: ", "))")]
        case "joined":
            return [system("You joined \(room).")]
        case "left":
            return [system("You left \(room); now in \(m.string("current") ?? "?").")]
        case "renamed":
            return [system("You are now known as \(m.user?.string("name") ?? "?").")]
        case "system":
            return (m.string("text") ?? "").split(separator: "\n", omittingEmptySubsequences: false).map { system(String($0)) }
        case "error":
            return [Line(kind: .error, text: "!! \(m.string("message") ?? "error") (\(m.string("code") ?? "?"))")]
        default:
            return []
        }
    }

    private static func message(_ m: JSONObject, utcOffsetSeconds: Int) -> [Line] {
        let room = m.string("room") ?? ""
        let name = m.user(key: "from")?.string("name") ?? "?"
        let time = clock(m.string("ts"), offset: utcOffsetSeconds)
        let seq = m.number("seq").flatMap { Int($0) }
        let lines = (m.string("text") ?? "").split(separator: "\n", omittingEmptySubsequences: false)
        let head = m["action"] == .bool(true) ? "* \(name) \(lines.first ?? "")" : "\(name): \(lines.first ?? "")"
        // Continuation lines of a multi-line message are indented under the first.
        let indent = String(repeating: " ", count: time.count + room.count + 4)
        let text = ([time + " [\(room)] " + head] + lines.dropFirst().map { indent + $0 }).joined(separator: "\n")
        return [Line(kind: .message, text: text, room: room, seq: seq)]
    }

    private static func system(_ text: String) -> Line { Line(kind: .system, text: "-- " + text) }

    /// "2026-11-22T10:30:02.123Z" → "10:30:02" in the reader's time zone.
    static func clock(_ timestamp: String?, offset: Int) -> String {
        guard let timestamp, timestamp.utf8.count >= 19 else { return "--:--:--" }
        let digits = Array(timestamp.utf8)
        func number(_ at: Int) -> Int? {
            let tens = Int(digits[at]) - 48, ones = Int(digits[at + 1]) - 48
            return (0...9).contains(tens) && (0...9).contains(ones) ? tens * 10 + ones : nil
        }
        guard let hours = number(11), let minutes = number(14), let seconds = number(17) else { return "--:--:--" }
        let day = 86_400
        let local = ((hours * 3600 + minutes * 60 + seconds + offset) % day + day) % day
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(local / 3600)):\(two(local / 60 % 60)):\(two(local % 60))"
    }
}

extension JSONObject {
    func string(_ key: String) -> String? {
        if case .string(let value)? = self[key] { return value }
        return nil
    }

    func number(_ key: String) -> String? {
        if case .number(let value)? = self[key] { return value }
        return nil
    }

    var user: JSONObject? { user(key: "user") }

    func user(key: String) -> JSONObject? {
        if case .object(let value)? = self[key] { return value }
        return nil
    }
}
