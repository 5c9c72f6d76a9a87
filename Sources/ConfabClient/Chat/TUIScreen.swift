import ConfabProtocol

/// Who is in each room, for the `--tui` side panel. A room that lists everyone is set by
/// `users` and kept current by `presence`; a large one shows its `occupancy` count and the
/// people seen lately (a page of `users`, recent arrivals). Keys are lowercased room names.
public struct Roster: Sendable, Equatable {
    public struct Room: Sendable, Equatable {
        public var names: [String] = []
        public var count = 0
        /// `names` is everyone (small room), kept current by presence.
        public var complete = true
    }

    public private(set) var rooms: [String: Room] = [:]
    /// Names shown for a large room.
    static let partialNames = 50

    public init() {}

    public mutating func apply(_ message: ServerMessage) {
        switch message {
        case .users(let list, _):
            // A name looked up changes nothing; a page of a large room is shown as a sample.
            guard list.name == nil else { return }
            rooms[list.room.lowercased()] = Room(names: list.users.map(\.name), count: list.count, complete: list.full)
        case .presence(let room, let changes):
            let key = room.lowercased()
            guard var entry = rooms[key], entry.complete else { return }
            for change in changes {
                let name = change.user.name
                switch change.event {
                case .join: if !entry.names.contains(name) { entry.names.append(name) }
                case .leave: entry.names.removeAll { $0 == name }
                case .rename: entry.names = entry.names.map { $0 == change.oldName ? name : $0 }
                }
            }
            entry.count = entry.names.count
            rooms[key] = entry
        case .occupancy(let room, let count, let recent):
            let key = room.lowercased()
            var entry = rooms[key] ?? Room()
            let arrived = recent.map(\.name)
            entry.names = Array((arrived.reversed() + entry.names.filter { !arrived.contains($0) }).prefix(Self.partialNames))
            entry.count = count
            entry.complete = false
            rooms[key] = entry
        case .left(let room, _, _):
            rooms[room.lowercased()] = nil
        default:
            break
        }
    }

    public func users(in room: String?) -> [String] {
        guard let room, let entry = rooms[room.lowercased()] else { return [] }
        return entry.complete ? entry.names.sorted { $0.lowercased() < $1.lowercased() } : entry.names
    }

    /// How many are in the room (more than `users(in:)` shows when it is large).
    public func count(in room: String?) -> Int {
        guard let room else { return 0 }
        return rooms[room.lowercased()]?.count ?? 0
    }
}

/// `--tui`: the whole screen as one string of ANSI sequences — a header with the room,
/// messages above (wrapped, newest at the bottom), the room's users on the right, the
/// input line at the bottom. Pure: the driver writes it after each change.
public struct TUIScreen: Sendable {
    public var columns: Int
    public var rows: Int
    public var colour: Bool

    public init(columns: Int, rows: Int, colour: Bool) {
        self.columns = columns
        self.rows = rows
        self.colour = colour
    }

    public static let enter = "\u{1B}[?1049h\u{1B}[H\u{1B}[2J"
    public static let leave = "\u{1B}[?1049l"

    var sideWidth: Int { columns >= 60 ? min(24, columns / 4) : 0 }
    var messageWidth: Int { max(10, columns - (sideWidth > 0 ? sideWidth + 1 : 0)) }

    /// Splits a line into pieces of at most `width` characters (explicit newlines kept).
    static func wrap(_ text: String, width: Int) -> [String] {
        var out: [String] = []
        for part in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var rest = Substring(part)
            repeat {
                out.append(String(rest.prefix(width)))
                rest = rest.dropFirst(width)
            } while !rest.isEmpty
        }
        return out
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? String(text.prefix(width)) : text + String(repeating: " ", count: width - text.count)
    }

    /// `online` is the room's member count; more than `users` lists in a large room.
    public func render(header: String, lines: [ShownLine], users: [String], online: Int? = nil, prompt: String,
                       input: String) -> String {
        let body = max(1, rows - 3)
        var wrapped: [(ChatText.Kind, String)] = []
        for line in lines.suffix(body) {
            for piece in Self.wrap(TerminalScreen.sanitized(line.text), width: messageWidth) { wrapped.append((line.kind, piece)) }
        }
        let visible = Array(wrapped.suffix(body))
        let total = max(online ?? users.count, users.count)
        let title = total > users.count ? "\(ChatText.grouped(total)) online" : "Users (\(users.count))"
        var side: [String] = sideWidth > 0 ? [title] + users.map { " " + $0 } : []
        if side.count > body { side = Array(side.prefix(body - 1)) + [" …"] }
        var out = "\u{1B}[?25l\u{1B}[H"
        out += (colour ? "\u{1B}[7m" : "") + Self.pad(" " + TerminalScreen.sanitized(header), columns) + (colour ? "\u{1B}[0m" : "") + "\r\n"
        for row in 0..<body {
            let index = row - (body - visible.count)
            var text = ""
            if index >= 0 {
                let (kind, piece) = visible[index]
                let screen = TerminalScreen(interactive: false, colour: colour)
                text = screen.styled(ShownLine(kind: kind, text: Self.pad(piece, messageWidth)))
            } else {
                text = Self.pad("", messageWidth)
            }
            out += text
            if sideWidth > 0 {
                out += (colour ? "\u{1B}[2m│\u{1B}[0m" : "|") + Self.pad(row < side.count ? TerminalScreen.sanitized(side[row]) : "", sideWidth)
            }
            out += "\u{1B}[K\r\n"
        }
        out += String(repeating: "─", count: columns) + "\r\n"
        let inputRoom = max(columns - prompt.count - 1, 8)
        let shown = input.count <= inputRoom ? input : "…" + String(input.suffix(inputRoom - 1))
        out += prompt + TerminalScreen.sanitized(shown) + "\u{1B}[K\u{1B}[?25h"
        return out
    }
}

