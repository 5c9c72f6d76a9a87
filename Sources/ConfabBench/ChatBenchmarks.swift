import ConfabCodec
import ConfabChat
import ConfabProtocol

/// The room state machine alone: no sockets, effects array reused, time advanced by hand.
func runChatBenchmarks(filter: String?) {
    for members in [1, 100, 10_000] {
        let name = "chat.send.room\(members)"
        guard filter == nil || name.contains(filter ?? "") else { continue }
        benchmarkSend(name: name, members: members)
    }
    if filter == nil || "chat.churn.joinleave".contains(filter ?? "") {
        benchmarkJoinLeave(name: "chat.churn.joinleave", members: 100)
    }
    if filter == nil || "chat.churn.connect".contains(filter ?? "") {
        benchmarkConnect(name: "chat.churn.connect", members: 100)
    }
}

/// A limiter generous enough never to refuse, so its arithmetic is still measured.
private let benchConfig = ChatConfig(ratePerSecond: 1_000_000, rateBurst: 1_000_000)

private func makeRoom(members: Int, now: Int64) -> ChatMachine {
    var machine = ChatMachine(config: benchConfig, random: SplitMix64(seed: 1))
    var effects: [ChatEffect] = []
    for connection in 1...members {
        effects.removeAll(keepingCapacity: true)
        machine.handle(.connected(ConnectionID(connection), ConnectRequest(), now: now), into: &effects)
    }
    return machine
}

/// Runs `body` in batches for about `seconds`, returns operations per second.
private func measure(seconds: Double = 1.5, batch: Int, _ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    var operations = 0
    var elapsed = Duration.zero
    repeat {
        for _ in 0..<batch { body() }
        operations += batch
        elapsed = clock.now - start
    } while elapsed < .milliseconds(Int(seconds * 1000))
    let (s, attoseconds) = elapsed.components
    return Double(operations) / (Double(s) + Double(attoseconds) / 1e18)
}

/// As the server does it: the frame's bytes through protocol v1, inside the measured loop.
private func decode(_ text: String) -> DecodedRequest {
    ProtocolV1.decodeRequest(Array(text.utf8), maxBytes: benchConfig.maxRequestBytes)
}

private func format(_ rate: Double) -> String {
    if rate >= 1e9 { return "\(Double(Int(rate / 1e7)) / 100) G" }
    if rate >= 1e6 { return "\(Double(Int(rate / 1e4)) / 100) M" }
    return "\(Int(rate / 1e3)) k"
}

private func pad(_ name: String) -> String {
    name.count >= 24 ? name : name + String(repeating: " ", count: 24 - name.count)
}

private func benchmarkSend(name: String, members: Int) {
    var now: Int64 = 1_700_000_000_000
    var machine = makeRoom(members: members, now: now)
    var effects: [ChatEffect] = []
    effects.reserveCapacity(8)
    let text = #"{"type":"send","text":"hello, world: a short chat line"}"#
    let rate = measure(batch: 1000) {
        now += 1
        effects.removeAll(keepingCapacity: true)
        machine.handle(.received(1, decode(text), now: now), into: &effects)
    }
    print("\(pad(name)) \(format(rate)) msgs/s  (\(format(rate * Double(members))) fan-out/s)")
}

private func benchmarkJoinLeave(name: String, members: Int) {
    var now: Int64 = 1_700_000_000_000
    var machine = makeRoom(members: members + 1, now: now)
    var effects: [ChatEffect] = []
    // Everyone but connection 1 is in "hot"; connection 1 joins and leaves it.
    for connection in 2...(members + 1) {
        effects.removeAll(keepingCapacity: true)
        machine.handle(.received(ConnectionID(connection), decode(#"{"type":"join","room":"hot"}"#), now: now), into: &effects)
    }
    let join = #"{"type":"join","room":"hot"}"#
    let leave = #"{"type":"leave","room":"hot"}"#
    let rate = measure(batch: 500) {
        now += 1
        effects.removeAll(keepingCapacity: true)
        machine.handle(.received(1, decode(join), now: now), into: &effects)
        machine.handle(.received(1, decode(leave), now: now), into: &effects)
    }
    print("\(pad(name)) \(format(rate)) join+leave/s  (room of \(members))")
}

private func benchmarkConnect(name: String, members: Int) {
    var now: Int64 = 1_700_000_000_000
    var machine = makeRoom(members: members, now: now)
    var effects: [ChatEffect] = []
    var next = ConnectionID(members + 1)
    let rate = measure(batch: 500) {
        now += 1
        effects.removeAll(keepingCapacity: true)
        machine.handle(.connected(next, ConnectRequest(), now: now), into: &effects)
        machine.handle(.disconnected(next, .goodbye, now: now), into: &effects)
        next += 1
    }
    print("\(pad(name)) \(format(rate)) connect+goodbye/s  (lobby of \(members))")
}
