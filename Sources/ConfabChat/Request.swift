/// A client request after decoding, whether it came as JSON or as a `/command` in a `send`.
enum ChatRequest: Equatable, Sendable {
    case send(text: String, room: String?, action: Bool)
    case name(String)
    case join(String)
    case leave(String?)
    case rooms
    case users(String?)
    case help
}

/// The outcome of decoding one text frame. `re` is the request's `id` already encoded as JSON
/// (a number's exact lexeme or a re-escaped string), ready to echo.
struct DecodedRequest: Sendable {
    var re: [UInt8]?
    var result: Result<ChatRequest, ChatError>
}

enum RequestDecoder {
    static func decode(_ text: String, maxBytes: Int) -> DecodedRequest {
        guard text.utf8.count <= maxBytes else {
            return DecodedRequest(re: nil, result: .failure(ChatError(.messageTooLong, "request larger than \(maxBytes) bytes")))
        }
        guard let value = JSONParser.parse(text, maxBytes: maxBytes), case .object(let object) = value else {
            return DecodedRequest(re: nil, result: .failure(ChatError(.invalidJSON, "expected a JSON object")))
        }
        var re: [UInt8]?
        switch object["id"] {
        case nil, .null?:
            break
        case .number(let lexeme)?:
            re = Array(lexeme.utf8)
        case .string(let id)?:
            re = JSONWriter.quoted(id)
        case .some:
            return DecodedRequest(re: nil, result: .failure(ChatError(.invalidRequest, "id must be a string or a number")))
        }
        return DecodedRequest(re: re, result: request(from: object))
    }

    private static func request(from object: JSONObject) -> Result<ChatRequest, ChatError> {
        guard case .string(let type)? = object["type"] else {
            return .failure(ChatError(.invalidRequest, "type must be a string"))
        }
        do {
            switch type {
            case "send":
                let text = try requiredString(object, "text")
                let room = try optionalString(object, "room")
                var action = false
                switch object["action"] {
                case nil, .null?: break
                case .bool(let flag)?: action = flag
                case .some: throw ChatError(.invalidRequest, "action must be a boolean")
                }
                return .success(.send(text: text, room: room, action: action))
            case "name":
                return .success(.name(try requiredString(object, "name")))
            case "join":
                return .success(.join(try requiredString(object, "room")))
            case "leave":
                return .success(.leave(try optionalString(object, "room")))
            case "rooms":
                return .success(.rooms)
            case "users":
                return .success(.users(try optionalString(object, "room")))
            case "help":
                return .success(.help)
            default:
                return .failure(ChatError(.unknownType, "unknown request type; see /help"))
            }
        } catch let error as ChatError {
            return .failure(error)
        } catch {
            return .failure(ChatError(.invalidRequest, "malformed request"))
        }
    }

    private static func requiredString(_ object: JSONObject, _ key: String) throws -> String {
        guard case .string(let value)? = object[key] else {
            throw ChatError(.invalidRequest, "\(key) must be a string")
        }
        return value
    }

    private static func optionalString(_ object: JSONObject, _ key: String) throws -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case .some: throw ChatError(.invalidRequest, "\(key) must be a string")
        }
    }
}
