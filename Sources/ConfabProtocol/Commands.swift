/// `/commands` typed in a `send` text. Each maps onto the structured request with the same
/// effects. A text starting with `//` is not a command: it is sent with one `/` removed.
public enum Commands {
    public static let help = """
        Commands: /join ROOM, /leave [ROOM], /rooms, /users [ROOM], /find NAME, /name NEW, /me ACTION, /help. \
        Start a message with // to send a literal /.
        """

    /// What a `send` of `text` asks for: a message, or the command it spells.
    public static func request(send text: String, room: String?, action: Bool) -> Result<ChatRequest, ChatError> {
        guard !action, text.utf8.first == UInt8(ascii: "/") else {
            return .success(.send(text: text, room: room, action: action))
        }
        if text.utf8.dropFirst().first == UInt8(ascii: "/") {
            return .success(.send(text: String(text.dropFirst()), room: room, action: false))  // "//x" sends "/x"
        }
        return parse(text, room: room)
    }

    /// `text` starts with `/`. `room` is the `send`'s room, used by `/me`.
    static func parse(_ text: String, room: String?) -> Result<ChatRequest, ChatError> {
        let body = text.dropFirst()
        let word: Substring
        let argument: String
        if let space = body.firstIndex(where: { $0.isWhitespace }) {
            word = body[..<space]
            argument = PlainText.trim(body[space...])
        } else {
            word = body
            argument = ""
        }
        switch word.lowercased() {
        case "join":
            guard !argument.isEmpty else { return .failure(ChatError(.invalidRoom, "usage: /join ROOM")) }
            return .success(.join(argument))
        case "leave":
            return .success(.leave(argument.isEmpty ? nil : argument))
        case "rooms":
            return .success(.rooms(watch: nil))
        case "users":
            return .success(.users(room: argument.isEmpty ? nil : argument, UsersQuery()))
        case "find":
            guard !argument.isEmpty else { return .failure(ChatError(.invalidName, "usage: /find NAME")) }
            return .success(.users(room: room, UsersQuery(name: argument)))
        case "name", "nick":
            guard !argument.isEmpty else { return .failure(ChatError(.invalidName, "usage: /name NEW")) }
            return .success(.name(argument))
        case "me":
            return .success(.send(text: argument, room: room, action: true))
        case "help":
            return .success(.help)
        default:
            return .failure(ChatError(.unknownCommand, "unknown command /\(word.prefix(32)); try /help"))
        }
    }
}
