// libFuzzer target `json`: ConfabChat's JSONParser, RequestDecoder and the
// ChatMachine fed with arbitrary request texts. Compiled by Scripts/fuzz into
// the ConfabChat module itself (swiftc -sanitize=fuzzer), so the internal
// parser and decoder are reachable. Not part of `swift build`.
//
// Checks: nothing traps; parsing bytes and the same bytes as a String agree;
// a parsed value re-encoded (with JSONWriter's string quoting) parses back to
// an equal value and re-encodes to the same bytes; a decoded request's `re`
// is valid JSON; the machine, driven by the whole input and then by each of
// its lines as requests from two users, keeps its invariants and only ever
// sends JSON objects with a string `type`.

@inline(never)
func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("fuzz invariant: \(message())") }
}

/// Canonical encoding: no whitespace, members in order, number lexemes as parsed.
func encodeJSON(_ value: JSONValue, into bytes: inout [UInt8]) {
    switch value {
    case .null: bytes += Array("null".utf8)
    case .bool(let flag): bytes += Array((flag ? "true" : "false").utf8)
    case .number(let lexeme): bytes += Array(lexeme.utf8)
    case .string(let string): JSONWriter.appendQuoted(string, to: &bytes)
    case .array(let elements):
        bytes.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            encodeJSON(element, into: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    case .object(let object):
        bytes.append(UInt8(ascii: "{"))
        for (index, member) in object.members.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONWriter.appendQuoted(member.key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            encodeJSON(member.value, into: &bytes)
        }
        bytes.append(UInt8(ascii: "}"))
    }
}

func checkParser(_ input: UnsafeBufferPointer<UInt8>) {
    let fromBytes = JSONParser.parse(bytes: input)
    if String(validating: input, as: UTF8.self) != nil {
        let fromString = JSONParser.parse(String(decoding: input, as: UTF8.self))
        fuzzCheck(fromBytes == fromString, "bytes \(String(describing: fromBytes)) != string \(String(describing: fromString))")
    }
    guard let value = fromBytes else { return }
    var encoded: [UInt8] = []
    encodeJSON(value, into: &encoded)
    let reparsed = JSONParser.parse(bytes: encoded)
    fuzzCheck(reparsed == value,
              "round trip: \(value) -> \(String(decoding: encoded, as: UTF8.self)) -> \(String(describing: reparsed))")
    var again: [UInt8] = []
    if let reparsed { encodeJSON(reparsed, into: &again) }
    fuzzCheck(again == encoded, "encoding not stable")
}

let fuzzConfig = ChatConfig(
    historySize: 3, maxMessageBytes: 64, rooms: ["lobby", "dev"], maxRooms: 4,
    maxRoomsPerUser: 3, roomCapacity: 8, resumeGraceSeconds: 2,
    ratePerSecond: 50, rateBurst: 8, rateDisconnectAfter: 6, minimumLogLevel: .debug
)

func checkEffects(_ effects: [ChatEffect], _ event: String) {
    for effect in effects {
        let message: OutboundMessage
        switch effect {
        case .send(_, let m): message = m
        case .broadcast(_, _, let m): message = m
        case .close(_, let code, let reason):
            fuzzCheck((1000...4999).contains(code), "close code \(code)")
            fuzzCheck(reason.utf8.count <= 123, "close reason of \(reason.utf8.count) bytes")
            continue
        case .log: continue
        }
        guard case .object(let object)? = JSONParser.parse(bytes: message.json),
              case .string? = object["type"] else {
            fatalError("fuzz invariant: outbound message is not a JSON object with a type: \(message.text) after \(event)")
        }
    }
}

func runMachine(_ text: String, lines: [Substring]) {
    var machine = ChatMachine(config: fuzzConfig, random: SplitMix64(seed: 42))
    var effects: [ChatEffect] = []
    var now: Int64 = 1_700_000_000_000
    func step(_ event: ChatEvent, _ label: @autoclosure () -> String) {
        effects.removeAll(keepingCapacity: true)
        machine.handle(event, into: &effects)
        checkEffects(effects, label())
        let problems = machine.invariantViolations()
        fuzzCheck(problems.isEmpty, "invariants after \(label()): \(problems)")
    }
    step(.connected(1, ConnectRequest(name: "alice"), now: now), "connect 1")
    step(.connected(2, ConnectRequest(), now: now), "connect 2")
    step(.received(1, text: text, now: now), "whole input")
    if lines.count > 1 {
        for (index, line) in lines.prefix(64).enumerated() {
            now += 50
            let connection: ConnectionID = index % 3 == 2 ? 2 : 1
            step(.received(connection, text: String(line), now: now), "line \(index) from \(connection)")
        }
    }
    step(.disconnected(1, .dropped("fuzz"), now: now), "drop 1")
    step(.received(2, text: text, now: now + 1), "whole input from 2")
    step(.tick(now: now + 5_000), "tick after grace")
    step(.disconnected(2, .goodbye, now: now + 5_001), "goodbye 2")
    step(.tick(now: now + 10_000), "final tick")
    fuzzCheck(machine.userCount == 0 && machine.connectionCount == 0, "sessions left behind")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    checkParser(input)

    let text = String(decoding: input, as: UTF8.self)
    let decoded = RequestDecoder.decode(text, maxBytes: fuzzConfig.maxRequestBytes)
    if let re = decoded.re {
        switch JSONParser.parse(bytes: re) {
        case .number?, .string?: break
        default: fatalError("fuzz invariant: re \(String(decoding: re, as: UTF8.self)) is not a JSON number or string")
        }
    }

    runMachine(text, lines: text.split(separator: "\n", omittingEmptySubsequences: true))
    return 0
}
