import ConfabCodec
import Foundation
import Testing
@testable import ConfabChat
import ConfabProtocol

typealias Machine = ChatMachine
typealias JSON = [String: Any]

/// Decodes one outbound message with Foundation, independently of our own parser.
func decode(_ message: OutboundMessage) -> JSON {
    guard let object = try? JSONSerialization.jsonObject(with: Data(message.json)) as? JSON else {
        Issue.record("not a JSON object: \(message.text)")
        return [:]
    }
    return object
}

/// A message as delivered to one connection, with its raw text for exact checks.
struct Delivered {
    var json: JSON
    var text: String
    var type: String { json["type"] as? String ?? "?" }
    subscript(key: String) -> Any? { json[key] }
    var string: (String) -> String? { { json[$0] as? String } }
    var int: (String) -> Int? { { (json[$0] as? NSNumber)?.intValue } }
    var user: JSON { json["user"] as? JSON ?? [:] }
    /// A `presence` message's changes, in order.
    var changes: [JSON] { json["changes"] as? [JSON] ?? [] }
    /// The event of a `presence` message's first change.
    var event: String? { changes.first?["event"] as? String }
}

extension Array where Element == ChatEffect {
    /// Everything `connection` receives, in order: direct sends and broadcasts it is part of.
    func delivered(to connection: ConnectionID) -> [Delivered] {
        compactMap { effect in
            switch effect {
            case .send(let target, let message) where target == connection:
                return Delivered(json: decode(message), text: message.text)
            case .broadcast(let recipients, let except, let message)
                where recipients.contains(connection) && except != connection:
                return Delivered(json: decode(message), text: message.text)
            default:
                return nil
            }
        }
    }

    func types(to connection: ConnectionID) -> [String] { delivered(to: connection).map(\.type) }

    var closes: [(ConnectionID, UInt16, String)] {
        compactMap { if case .close(let c, let code, let reason) = $0 { return (c, code, reason) } else { return nil } }
    }

    var logs: [(ChatLogLevel, String)] {
        compactMap { if case .log(let level, let text) = $0 { return (level, text) } else { return nil } }
    }

    var withoutLogs: [ChatEffect] { filter { if case .log = $0 { return false } else { return true } } }
}

/// Drives a machine with a seeded generator and a fake clock.
struct Harness {
    var machine: Machine
    var now: Int64 = 1_700_000_000_000

    init(_ config: ChatConfig = ChatConfig(), seed: UInt64 = 42) {
        machine = Machine(config: config, random: SplitMix64(seed: seed))
    }

    @discardableResult
    mutating func connect(_ connection: ConnectionID, name: String? = nil, resume: String? = nil) -> [ChatEffect] {
        turn(.connected(connection, ConnectRequest(name: name, resumeToken: resume), now: now))
    }

    @discardableResult
    mutating func raw(_ connection: ConnectionID, _ text: String) -> [ChatEffect] {
        turn(.received(connection, decodeRequest(text, machine.config), now: now))
    }

    /// Sends a request built with JSONSerialization (so escaping is Foundation's).
    @discardableResult
    mutating func request(_ connection: ConnectionID, _ object: JSON) -> [ChatEffect] {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return raw(connection, String(decoding: data, as: UTF8.self))
    }

    @discardableResult
    mutating func say(_ connection: ConnectionID, _ text: String) -> [ChatEffect] {
        request(connection, ["type": "send", "text": text])
    }

    @discardableResult
    mutating func drop(_ connection: ConnectionID, _ reason: String = "tcp reset") -> [ChatEffect] {
        turn(.disconnected(connection, .dropped(reason), now: now))
    }

    @discardableResult
    mutating func goodbye(_ connection: ConnectionID) -> [ChatEffect] {
        turn(.disconnected(connection, .goodbye, now: now))
    }

    /// One event in a loop turn of its own, as the server runs it: the event, then the
    /// turn's end, when coalesced presence goes out. Tests of coalescing call the machine.
    mutating func turn(_ event: ChatEvent) -> [ChatEffect] {
        machine.handle(event) + machine.handle(.flush(now: now))
    }

    @discardableResult
    mutating func tick(after milliseconds: Int64) -> [ChatEffect] {
        now += milliseconds
        return turn(.tick(now: now))
    }

    /// Connects and returns the welcome message.
    mutating func welcome(_ connection: ConnectionID, name: String? = nil, resume: String? = nil) -> Delivered {
        connect(connection, name: name, resume: resume).delivered(to: connection).first
            ?? Delivered(json: [:], text: "")
    }

    func check() {
        let problems = machine.invariantViolations()
        #expect(problems.isEmpty, "\(problems)")
    }
}

/// A request as the server hands it over: the frame's bytes decoded by protocol v1.
func decodeRequest(_ text: String, _ config: ChatConfig) -> DecodedRequest {
    ProtocolV1.decodeRequest(Array(text.utf8), maxBytes: config.maxRequestBytes)
}

func names(_ users: Any?) -> [String] {
    ((users as? [JSON]) ?? []).compactMap { $0["name"] as? String }.sorted()
}
