// The checks of the libFuzzer target `json`: ConfabProtocol's JSONParser and
// ProtocolV1.decodeRequest, and a ChatMachine fed the decoded requests. One
// source, compiled twice: into ConfabChatTests, where FuzzRegressionTests
// replays Tests/fuzz/corpus/json through `FuzzJSON.run`, and by Scripts/fuzz
// together with the thin entry Tests/fuzz/FuzzJSONRequest.swift
// (LLVMFuzzerTestOneInput) against sanitized ConfabCodec, ConfabProtocol and
// ConfabChat modules built with -enable-testing. Keep it free of Foundation
// and Testing.
//
// Checks: nothing traps; parsing bytes and the same bytes as a String agree;
// a parsed value re-encoded (with JSONWriter's string quoting) parses back to
// an equal value and re-encodes to the same bytes; a decoded request's `re`
// is a JSON number or string; the machine (two users, once with full presence
// lists and once with every room large), driven by the whole input and then by
// each of its lines as requests, each event followed by the end-of-turn
// `.flush`, keeps its invariants, leaves no small-room presence pending after
// a flush, and only ever sends JSON objects with a string `type`.

import ConfabCodec
@testable import ConfabChat
import ConfabProtocol

enum FuzzJSON {
    /// A broken invariant; the fuzz entry turns it into a crash, the regression test into a failure.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) throws {
        if !condition() { throw Failure(description: message()) }
    }

    /// Small limits so histories, rooms and the rate limiter fill up within one input.
    static let smallRooms = ChatConfig(
        historySize: 3, maxMessageBytes: 64, rooms: ["lobby", "dev"], maxRooms: 4,
        maxRoomsPerUser: 3, roomCapacity: 8, resumeGraceSeconds: 2,
        ratePerSecond: 50, rateBurst: 8, rateDisconnectAfter: 6, minimumLogLevel: .debug
    )

    /// The same with every room of two or more users large (counts, occupancy, no arrivals).
    static let largeRooms: ChatConfig = {
        var config = smallRooms
        config.presenceFullListMax = 1
        config.presenceIntervalMs = 300
        return config
    }()

    /// One fuzz input: throws `Failure` when an invariant breaks.
    static func run(_ input: UnsafeRawBufferPointer) throws {
        let bytes = Array(input)
        try checkParser(bytes)

        let decoded = ProtocolV1.decodeRequest(bytes, maxBytes: smallRooms.maxRequestBytes)
        if let re = decoded.re {
            switch JSONParser.parse(bytes: re.json) {
            case .number?, .string?: break
            default: throw Failure(description: "re \(String(decoding: re.json, as: UTF8.self)) is not a JSON number or string")
            }
        }

        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        for config in [smallRooms, largeRooms] {
            try runMachine(config, whole: bytes, lines: lines)
        }
    }

    /// Canonical encoding: no whitespace, members in order, number lexemes as parsed.
    static func encode(_ value: JSONValue, into bytes: inout [UInt8]) {
        switch value {
        case .null: bytes += Array("null".utf8)
        case .bool(let flag): bytes += Array((flag ? "true" : "false").utf8)
        case .number(let lexeme): bytes += Array(lexeme.utf8)
        case .string(let string): JSONWriter.appendQuoted(string, to: &bytes)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                encode(element, into: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            bytes.append(UInt8(ascii: "{"))
            for (index, member) in object.members.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                JSONWriter.appendQuoted(member.key, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                encode(member.value, into: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    static func checkParser(_ input: [UInt8]) throws {
        let fromBytes = JSONParser.parse(bytes: input)
        if let text = String(validating: input, as: UTF8.self) {
            let fromString = JSONParser.parse(text)
            try check(fromBytes == fromString, "bytes \(String(describing: fromBytes)) != string \(String(describing: fromString))")
        }
        guard let value = fromBytes else { return }
        var encoded: [UInt8] = []
        encode(value, into: &encoded)
        let reparsed = JSONParser.parse(bytes: encoded)
        try check(reparsed == value,
                  "round trip: \(value) -> \(String(decoding: encoded, as: UTF8.self)) -> \(String(describing: reparsed))")
        var again: [UInt8] = []
        if let reparsed { encode(reparsed, into: &again) }
        try check(again == encoded, "encoding not stable")
    }

    static func checkEffects(_ effects: [ChatEffect], _ event: String) throws {
        for effect in effects {
            let message: OutboundMessage
            switch effect {
            case .send(_, let m): message = m
            case .broadcast(_, _, let m): message = m
            case .close(_, let code, let reason):
                try check((1000...4999).contains(code), "close code \(code)")
                try check(reason.utf8.count <= 123, "close reason of \(reason.utf8.count) bytes")
                continue
            case .log, .cluster: continue
            }
            guard case .object(let object)? = JSONParser.parse(bytes: message.json),
                  case .string? = object["type"] else {
                throw Failure(description: "outbound message is not a JSON object with a type: \(message.text) after \(event)")
            }
        }
    }

    static func runMachine(_ config: ChatConfig, whole: [UInt8], lines: [ArraySlice<UInt8>]) throws {
        var machine = ChatMachine(config: config, random: SplitMix64(seed: 42))
        var effects: [ChatEffect] = []
        var now: Int64 = 1_700_000_000_000
        let large = config.presenceFullListMax < smallRooms.presenceFullListMax
        /// One event, then the end of its loop turn.
        func step(_ event: ChatEvent, _ label: @autoclosure () -> String) throws {
            for (index, event) in [event, .flush(now: now)].enumerated() {
                effects.removeAll(keepingCapacity: true)
                machine.handle(event, into: &effects)
                let what = "\(index == 0 ? "" : "flush after ")\(label())\(large ? " (large rooms)" : "")"
                try checkEffects(effects, what)
                let problems = machine.invariantViolations()
                try check(problems.isEmpty, "invariants after \(what): \(problems)")
            }
            try check(machine.pendingSmallRooms == 0, "small-room presence pending after the flush after \(label())")
        }
        func request(_ bytes: some Collection<UInt8>) -> DecodedRequest {
            ProtocolV1.decodeRequest(Array(bytes), maxBytes: config.maxRequestBytes)
        }
        try step(.connected(1, ConnectRequest(name: "alice"), now: now), "connect 1")
        try step(.connected(2, ConnectRequest(), now: now), "connect 2")
        try step(.received(1, request(whole), now: now), "whole input")
        if lines.count > 1 {
            for (index, line) in lines.prefix(64).enumerated() {
                now += 50
                let connection: ConnectionID = index % 3 == 2 ? 2 : 1
                try step(.received(connection, request(line), now: now), "line \(index) from \(connection)")
            }
        }
        try step(.disconnected(1, .dropped("fuzz"), now: now), "drop 1")
        now += 1
        try step(.received(2, request(whole), now: now), "whole input from 2")
        now += 5_000
        try step(.tick(now: now), "tick after grace")
        now += 1
        try step(.disconnected(2, .goodbye, now: now), "goodbye 2")
        now += 5_000
        try step(.tick(now: now), "final tick")
        try check(machine.userCount == 0 && machine.connectionCount == 0, "sessions left behind")
    }
}
