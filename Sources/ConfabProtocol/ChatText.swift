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
        /// When a chat message was sent (epoch ms): with `seq`, what tells a message of a
        /// restarted server (its seqs start over) from one already shown.
        public var timestamp: Int64?
    }

    /// The lines for one server message (none for `ack`), with clock times shifted by
    /// `utcOffsetSeconds` from UTC.
    public static func render(_ message: ServerMessage, utcOffsetSeconds: Int = 0) -> [Line] {
        switch message {
        case .message(let chat):
            return [line(chat, utcOffsetSeconds: utcOffsetSeconds)]
        case .history(_, let messages, _):
            return messages.map { line($0, utcOffsetSeconds: utcOffsetSeconds) }
        case .presence(let room, let changes):
            return changes.map { change in
                let text: String
                switch change.event {
                case .join: text = "\(change.user.name) joined"
                case .leave: text = "\(change.user.name) left"
                case .rename: text = "\(change.oldName ?? "someone") is now known as \(change.user.name)"
                }
                return Line(kind: .presence, text: "[\(room)] -- \(text)")
            }
        case .occupancy, .roomsChanged:
            // Periodic counts: a status bar's business, too frequent for a line each.
            return []
        case .welcome(let welcome):
            let resumed = welcome.resumed ? " (session resumed)" : ""
            return [system("Welcome to \(welcome.server), \(welcome.user.name)! You are in \(welcome.room).\(resumed) Type /help for commands.")]
        case .users(let list, _):
            let names = list.users.map(\.name).joined(separator: ", ")
            if let name = list.name {
                return [system(list.users.isEmpty ? "\(name) is not in \(list.room)." : "\(names) is in \(list.room).")]
            }
            if list.full && list.isEveryone {
                return [system("In \(list.room) (\(list.count)): \(names)")]
            }
            let more = list.next == nil ? "" : ", …"
            return [system("In \(list.room) (\(grouped(list.count)) online, \(list.users.count) shown): \(names)\(more) — /find NAME looks someone up")]
        case .rooms(let rooms, _):
            return [system("Rooms: \(rooms.map { "\($0.name) (\($0.users))" }.joined(separator: ", "))")]
        case .joined(let room, _):
            return [system("You joined \(room).")]
        case .left(let room, let current, _):
            return [system("You left \(room); now in \(current).")]
        case .renamed(let user, _, _):
            return [system("You are now known as \(user.name).")]
        case .system(let text, _):
            return text.split(separator: "\n", omittingEmptySubsequences: false).map { system(String($0)) }
        case .error(let error, _, _):
            return [Line(kind: .error, text: "!! \(error.message) (\(error.code.rawValue))")]
        case .ack:
            return []
        }
    }

    private static func line(_ m: ChatMessage, utcOffsetSeconds: Int) -> Line {
        let time = clock(epochMilliseconds: m.timestamp, offset: utcOffsetSeconds)
        let lines = m.text.split(separator: "\n", omittingEmptySubsequences: false)
        let head = m.action ? "* \(m.from.name) \(lines.first ?? "")" : "\(m.from.name): \(lines.first ?? "")"
        // Continuation lines of a multi-line message are indented under the first.
        let indent = String(repeating: " ", count: time.count + m.room.count + 4)
        let text = ([time + " [\(m.room)] " + head] + lines.dropFirst().map { indent + $0 }).joined(separator: "\n")
        return Line(kind: .message, text: text, room: m.room, seq: Int(clamping: m.seq), timestamp: m.timestamp)
    }

    private static func system(_ text: String) -> Line { Line(kind: .system, text: "-- " + text) }

    /// 10234 → "10,234".
    public static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return value < 0 ? "-" + out : out
    }

    /// "10:30:02" in the reader's time zone.
    static func clock(epochMilliseconds ms: Int64, offset: Int) -> String {
        let day: Int64 = 86_400
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let local = Int(((seconds + Int64(offset)) % day + day) % day)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(local / 3600)):\(two(local / 60 % 60)):\(two(local % 60))"
    }
}
