import Foundation

/// The few fields of a server message the terminal client acts on (rendering is
/// `ChatText`'s job). Parsed with Foundation: the terminal client reads a handful of
/// messages a second, so a general parser is fine here; `confab load` scans instead.
public struct ServerFields: Sendable, Equatable {
    public var type = ""
    public var room: String?
    /// `left.current`: the current room after leaving.
    public var current: String?
    public var token: String?
    public var resumed = false
    /// `re` of a direct reply, as text (we only send string ids).
    public var re: String?
    public var userName: String?
    public var code: String?
    /// `users.users[].name`.
    public var userNames: [String]?
    /// `presence.event` and `presence.oldName`.
    public var event: String?
    public var oldName: String?
    /// `welcome.server`.
    public var serverName: String?

    public init(type: String) { self.type = type }

    public static func parse(_ json: [UInt8]) -> ServerFields? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any],
              let type = object["type"] as? String else { return nil }
        var fields = ServerFields(type: type)
        fields.room = object["room"] as? String
        fields.current = object["current"] as? String
        fields.token = object["token"] as? String
        fields.resumed = object["resumed"] as? Bool ?? false
        if let re = object["re"] as? String { fields.re = re }
        else if let re = object["re"] as? NSNumber { fields.re = re.stringValue }
        fields.userName = (object["user"] as? [String: Any])?["name"] as? String
        fields.code = object["code"] as? String
        fields.userNames = (object["users"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        fields.event = object["event"] as? String
        fields.oldName = object["oldName"] as? String
        fields.serverName = object["server"] as? String
        return fields
    }
}
