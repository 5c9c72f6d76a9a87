import ConfabCodec
import Foundation
import Testing
@testable import ConfabChat

/// Random event sequences against the invariants of issue 3, checked after every step:
/// every connected user is in at least one room; member lists, counts and presence agree
/// (each client's view rebuilt from `users` + `presence` equals the room); no message reaches
/// a non-member; seq strictly increases per room; names unique; history bounded.
/// Presence is coalesced: views are compared after the end-of-turn `flush`, as the server
/// sends it. Odd seeds use a tiny `presenceFullListMax`, so rooms switch to counts and back.
@Suite struct PropertyTests {
    static let roomPool = ["lobby", "dev", "Dev", "ops", "random", "x", "LOBBY", "bad room", "news"]
    static let namePool = ["Ann", "ann", "Ben", "Zoë", "admin", "a/b", "Carl", "  Dee ", String(repeating: "n", count: 25)]

    /// How often the interesting paths ran, so the test proves it reached them.
    final class Coverage: @unchecked Sendable {
        var messages = 0, resumes = 0, takeovers = 0, rateCloses = 0, leaves = 0, roomsRemoved = 0
        var occupancies = 0, fullListsRestored = 0
        /// Sessions started away from the home room; joins that left a single-room session's room.
        var startRooms = 0, switches = 0
    }

    struct Model {
        var open: Set<ConnectionID> = []
        /// What each client believes each of its rooms holds: room key → user ids.
        var views: [ConnectionID: [String: Set<String>]] = [:]
        /// Rooms a client knows only by count (it got `occupancy` or a page).
        var partial: [ConnectionID: Set<String>] = [:]
        var lastSeq: [String: Int] = [:]
        var tokens: [String] = []
        var nextConnection: ConnectionID = 1
    }

    @Test func randomSequencesKeepTheInvariants() {
        var failures = 0
        let coverage = Coverage()
        for seed in 0..<250 as Range<UInt64> {
            if !runSequence(seed: seed, steps: 200, coverage) { failures += 1 }
            if failures > 3 { break }
        }
        #expect(failures == 0)
        #expect(coverage.messages > 1000)
        #expect(coverage.resumes > 20)
        #expect(coverage.takeovers > 5)
        #expect(coverage.rateCloses > 5)
        #expect(coverage.leaves > 20)
        #expect(coverage.occupancies > 20)
        #expect(coverage.fullListsRestored > 5)
        #expect(coverage.startRooms > 20)
        #expect(coverage.switches > 20)
    }

    private func pick<T>(_ items: [T], _ random: inout SplitMix64) -> T {
        items[Int(random.next(upperBound: UInt64(items.count)))]
    }

    private func runSequence(seed: UInt64, steps: Int, _ coverage: Coverage) -> Bool {
        var random = SplitMix64(seed: seed &* 7919 &+ 1)
        // Start rooms and single-room sessions draw from their own stream, so the sequences
        // the other choices make are the same as before they existed.
        var variant = SplitMix64(seed: seed ^ 0x5EED_0F_5747)
        let config = ChatConfig(historySize: 3, maxMessageBytes: 64,
                                rooms: seed % 2 == 0 ? ["lobby"] : ["lobby", "news"],
                                maxRooms: 6, maxRoomsPerUser: 3, roomCapacity: seed % 2 == 0 ? 4 : 7,
                                resumeGraceSeconds: 5, ratePerSecond: 5, rateBurst: 8, rateDisconnectAfter: 4,
                                presenceFullListMax: seed % 2 == 0 ? 200 : 3, presenceIntervalMs: 300)
        var machine = Machine(config: config, random: SplitMix64(seed: seed))
        var model = Model()
        var now: Int64 = 1_700_000_000_000
        var effects: [ChatEffect] = []
        for step in 0..<steps {
            now += Int64(random.next(upperBound: UInt64(400)))
            let openList = model.open.sorted()
            let someone = openList.isEmpty ? nil : pick(openList, &random)
            let event: ChatEvent
            switch (random.next(upperBound: UInt64(20)), someone) {
            case (0...2, _), (_, nil):
                let name: String? = random.next(upperBound: UInt64(2)) == 0 ? nil : pick(Self.namePool, &random)
                let token: String? = random.next(upperBound: UInt64(3)) == 0 && !model.tokens.isEmpty
                    ? pick(model.tokens, &random) : nil
                var request = ConnectRequest(name: name, resumeToken: token)
                if variant.next(upperBound: UInt64(3)) == 0 {
                    request.startRoom = pick(Self.roomPool, &variant)
                    request.singleRoom = variant.next(upperBound: UInt64(2)) == 0
                }
                event = .connected(model.nextConnection, request, now: now)
                model.nextConnection += 1
            case (3...7, let c?):
                let text = pick(["hi", "  ", "", String(repeating: "é", count: 40), "/me waves", "//x", "ok \u{1}"], &random)
                var request: JSON = ["type": "send", "text": text]
                if random.next(upperBound: UInt64(3)) == 0 { request["room"] = pick(Self.roomPool, &random) }
                if random.next(upperBound: UInt64(2)) == 0 { request["id"] = Int(random.next(upperBound: UInt64(100))) }
                event = .received(c, decodeRequest(encode(request), machine.config), now: now)
            case (8...9, let c?):
                event = .received(c, decodeRequest(encode(["type": "join", "room": pick(Self.roomPool, &random)]), machine.config), now: now)
            case (10, let c?):
                let request: JSON = random.next(upperBound: UInt64(2)) == 0
                    ? ["type": "leave"] : ["type": "leave", "room": pick(Self.roomPool, &random)]
                event = .received(c, decodeRequest(encode(request), machine.config), now: now)
            case (11, let c?):
                event = .received(c, decodeRequest(encode(["type": "name", "name": pick(Self.namePool, &random)]), machine.config), now: now)
            case (12, let c?):
                let command = pick(["/join ops", "/leave", "/rooms", "/users", "/users dev", "/name Eve", "/help",
                                    "/bogus", "/JOIN random", "/leave lobby"], &random)
                event = .received(c, decodeRequest(encode(["type": "send", "text": command]), machine.config), now: now)
            case (13, let c?):
                event = .received(c, decodeRequest(pick(["garbage", "{}", "[", #"{"type":"rooms"}"#, #"{"type":"users","room":"x"}"#], &random), machine.config), now: now)
            case (14, let c?):
                event = .disconnected(c, .goodbye, now: now)
            case (15...16, let c?):
                event = .disconnected(c, .dropped("reset"), now: now)
            case (17, let c?):
                // A burst that trips the rate limiter.
                for _ in 0..<6 {
                    effects.removeAll(keepingCapacity: true)
                    machine.handle(.received(c, decodeRequest(#"{"type":"rooms"}"#, machine.config), now: now), into: &effects)
                    guard apply(effects, &model, machine, seed: seed, step: step, coverage, checkViews: false) else { return false }
                }
                event = .tick(now: now)
            default:
                now += Int64(random.next(upperBound: UInt64(8000)))
                event = .tick(now: now)
            }
            effects.removeAll(keepingCapacity: true)
            machine.handle(event, into: &effects)
            if case .disconnected(let c, _, _) = event {
                model.open.remove(c)
                model.views[c] = nil
                model.partial[c] = nil
            }
            guard apply(effects, &model, machine, seed: seed, step: step, coverage, checkViews: false) else { return false }
            // The end of the loop turn: coalesced presence goes out, then every view must agree.
            effects.removeAll(keepingCapacity: true)
            machine.handle(.flush(now: now), into: &effects)
            guard apply(effects, &model, machine, seed: seed, step: step, coverage) else { return false }
            if machine.pendingSmallRooms > 0 {
                Issue.record("seed \(seed) step \(step): small-room presence still pending after flush")
                return false
            }
        }
        return true
    }

    private func encode(_ object: JSON) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object)) ?? Data(), as: UTF8.self)
    }

    /// Feeds the effects to the model and checks everything; false (with an issue) on the first failure.
    private func apply(_ effects: [ChatEffect], _ model: inout Model, _ machine: Machine, seed: UInt64, step: Int,
                       _ coverage: Coverage, checkViews: Bool = true) -> Bool {
        func fail(_ text: String) -> Bool {
            Issue.record("seed \(seed) step \(step): \(text)")
            return false
        }
        func receive(_ c: ConnectionID, _ json: JSON) -> Bool {
            let room = (json["room"] as? String)?.lowercased() ?? ""
            switch json["type"] as? String {
            case "welcome":
                model.open.insert(c)
                if json["resumed"] as? Bool == true { coverage.resumes += 1 }
                if let token = json["token"] as? String { model.tokens.append(token) }
            case "users":
                let ids = ((json["users"] as? [JSON]) ?? []).compactMap { $0["id"] as? String }
                if Set(ids).count != ids.count { return fail("duplicate users in \(room)") }
                model.views[c, default: [:]][room] = Set(ids)
                if json["mode"] as? String == "full" {
                    if json["count"] as? Int != ids.count { return fail("full list of \(room) is not everyone") }
                    if model.partial[c]?.remove(room) != nil && json["re"] == nil { coverage.fullListsRestored += 1 }
                } else {
                    model.partial[c, default: []].insert(room)
                }
            case "occupancy":
                guard model.views[c]?[room] != nil else { return fail("occupancy for \(room) reached \(c), not a member") }
                coverage.occupancies += 1
                model.partial[c, default: []].insert(room)
            case "presence":
                guard model.views[c]?[room] != nil else { return fail("presence for \(room) reached \(c), not a member") }
                if model.partial[c]?.contains(room) == true { return fail("presence for \(room), known by count only, reached \(c)") }
                for change in (json["changes"] as? [JSON]) ?? [] {
                    let id = (change["user"] as? JSON)?["id"] as? String ?? ""
                    switch change["event"] as? String {
                    case "join": model.views[c]?[room]?.insert(id)
                    case "leave":
                        model.views[c]?[room]?.remove(id)
                        coverage.leaves += 1
                    default: break
                    }
                }
            default:
                break
            }
            return true
        }
        var joinedNow: Set<ConnectionID> = []
        for effect in effects {
            switch effect {
            case .send(let c, let message):
                let json = decode(message)
                if json["type"] as? String != "welcome" && !model.open.contains(c) { return fail("send to closed \(c)") }
                switch json["type"] as? String {
                case "welcome" where json["resumed"] as? Bool == false && json["room"] as? String != "lobby":
                    coverage.startRooms += 1
                case "joined": joinedNow.insert(c)
                case "left" where joinedNow.contains(c): coverage.switches += 1
                default: break
                }
                guard receive(c, json) else { return false }
            case .broadcast(let recipients, let except, let message):
                let json = decode(message)
                let room = (json["room"] as? String) ?? ""
                guard let members = machine.roomMembers(named: room) else { return fail("broadcast to missing room \(room)") }
                for r in recipients where r != except {
                    if !model.open.contains(r) { return fail("broadcast to closed \(r)") }
                    if !members.connections.contains(r) { return fail("\(json["type"] ?? "") in \(room) reached non-member \(r)") }
                    guard receive(r, json) else { return false }
                }
                if json["type"] as? String == "message" {
                    coverage.messages += 1
                    let key = room.lowercased()
                    let seq = json["seq"] as? Int ?? 0
                    if seq <= model.lastSeq[key, default: 0] { return fail("seq \(seq) not increasing in \(room)") }
                    model.lastSeq[key] = seq
                    if (json["text"] as? String ?? "").utf8.count > machine.config.maxMessageBytes { return fail("long message") }
                }
            case .close(let c, let code, _):
                if code == 4000 { coverage.takeovers += 1 }
                if code == 1008 { coverage.rateCloses += 1 }
                model.open.remove(c)
                model.views[c] = nil
                model.partial[c] = nil
            case .log, .cluster:
                break
            }
        }
        let problems = machine.invariantViolations()
        if !problems.isEmpty { return fail("\(problems)") }
        if machine.connectionCount != model.open.count { return fail("\(machine.connectionCount) connections, model \(model.open.count)") }
        for key in model.lastSeq.keys where machine.roomMembers(named: key) == nil { model.lastSeq[key] = nil }
        guard checkViews else { return true }
        for c in model.open {
            let joined = Set(machine.roomNames(of: c).map { $0.lowercased() })
            if joined.isEmpty { return fail("\(c) in no room") }
            model.views[c] = model.views[c]?.filter { joined.contains($0.key) }
            model.partial[c] = model.partial[c]?.filter { joined.contains($0) }
            for room in joined where model.partial[c]?.contains(room) != true {
                guard let view = model.views[c]?[room] else { return fail("\(c) never got users of \(room)") }
                if view != machine.roomUserIDs(named: room) { return fail("\(c)'s view of \(room) disagrees") }
            }
        }
        return true
    }
}
