import ConfabCodec
import ConfabChat
import ConfabProtocol
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Cost per join as the room grows (issue 10, "Crowds"): the state machine alone, one room
/// (the lobby, where every session starts) pre-filled with M sessions through `.connected`
/// events, then further sessions connect (join) and say goodbye (leave) while the room stays at
/// M. With O(1) presence the joins/s would not depend on M; with a per-join cost that grows
/// with the room (the member list sent to the newcomer, …) filling a room costs O(M²).
///
/// After every join or leave comes the `.flush` the server sends at the end of a loop turn
/// when presence is pending (one join per turn: the worst case), and it is timed with it.
/// Effects are dropped after every event, as the server drops them once carried out (so a
/// broadcast's recipient list is never copied because an effect still holds it). Pre-filling
/// is bounded: a size whose pre-fill would take longer than the budget (60 s, or
/// `CROWD_PREFILL_BUDGET` seconds) is skipped with a note.
func runCrowdBenchmark(filter: String?) {
    let sizes = [10, 1_000, 10_000, 100_000]
    let names = sizes.map { "chat.crowd.join.\($0)" }
    guard filter == nil || names.contains(where: { $0.contains(filter ?? "") }) else { return }
    let budget = Double(environment("CROWD_PREFILL_BUDGET") ?? "").flatMap { $0 > 0 ? $0 : nil } ?? 60
    print("chat.crowd.join: joins/s into the lobby when it holds M sessions (connect = join, goodbye = leave;"
        + " pre-fill budget \(Int(budget)) s per size)")
    var measured: [(members: Int, joins: Double)] = []
    for (members, name) in zip(sizes, names) where filter == nil || name.contains(filter ?? "") {
        let row = benchmarkCrowdJoin(members: members, budget: budget)
        print("  " + pad(name, 26) + row.line)
        if let joins = row.joinsPerSecond { measured.append((members, joins)) }
    }
    guard let smallest = measured.first, let largest = measured.last, measured.count > 1 else { return }
    let ratio = largest.joins / smallest.joins
    print("  ratio joins/s M=\(grouped(largest.members)) / M=\(grouped(smallest.members)): \(fixed(ratio, 4))"
        + " (a join into \(grouped(largest.members)) costs \(fixed(1 / ratio, 1))× one into \(grouped(smallest.members)))"
        + (largest.members == sizes.last ? "" : "; M=\(grouped(sizes.last ?? 0)) not measured, see above"))
}

/// A generous configuration: no rate limit or capacity gets in the way, logs at warning (as
/// the load scenarios run the server) so no log line is built per event.
private let crowdConfig = ChatConfig(
    maxRooms: 1000, roomCapacity: 1_000_000, ratePerSecond: 1_000_000, rateBurst: 1_000_000, minimumLogLevel: .warning)

private struct CrowdRow {
    var line: String
    var joinsPerSecond: Double?
}

private func benchmarkCrowdJoin(members: Int, budget: Double) -> CrowdRow {
    var now: Int64 = 1_700_000_000_000
    var machine = ChatMachine(config: crowdConfig, random: SplitMix64(seed: 1))
    let fill = prefill(&machine, members: members, now: now, budget: budget)
    guard fill.reached == members else {
        let projection = fill.projectedSeconds.map { "projected \(fixed($0, 0)) s in all" } ?? "budget spent"
        return CrowdRow(line: "skipped: pre-fill reached \(grouped(fill.reached)) of \(grouped(members)) in "
            + "\(fixed(fill.seconds, 1)) s; \(projection) > \(fixed(budget, 0)) s budget", joinsPerSecond: nil)
    }
    var effects: [ChatEffect] = []
    effects.reserveCapacity(16)
    var next = ConnectionID(members + 1)
    // What one join makes the server write: every frame × its recipients. At the pre-fill's
    // `now`, so a large room's occupancy (once per interval, not per join) is not due.
    machine.handle(.connected(next, ConnectRequest(), now: now), into: &effects)
    if machine.hasPendingPresence { machine.handle(.flush(now: now), into: &effects) }
    let bytesPerJoin = effects.reduce(0) { total, effect in
        switch effect {
        case .send(_, let message): return total + message.json.count
        case .broadcast(let recipients, let except, let message):
            return total + message.json.count * (recipients.count - (except == nil ? 0 : 1))
        default: return total
        }
    }
    effects.removeAll(keepingCapacity: true)
    machine.handle(.disconnected(next, .goodbye, now: now), into: &effects)
    if machine.hasPendingPresence { machine.handle(.flush(now: now), into: &effects) }
    effects.removeAll(keepingCapacity: true)
    next += 1

    let clock = ContinuousClock()
    var joinTime = Duration.zero, leaveTime = Duration.zero
    var pairs = 0
    let start = clock.now
    // At least 1.5 s and 20 pairs, at most 10 s (a join into a huge room can take milliseconds).
    while pairs < 20 || clock.now - start < .milliseconds(1500) {
        if clock.now - start > .seconds(10) { break }
        now += 1
        let t0 = clock.now
        machine.handle(.connected(next, ConnectRequest(), now: now), into: &effects)
        effects.removeAll(keepingCapacity: true)
        if machine.hasPendingPresence {
            machine.handle(.flush(now: now), into: &effects)
            effects.removeAll(keepingCapacity: true)
        }
        let t1 = clock.now
        machine.handle(.disconnected(next, .goodbye, now: now), into: &effects)
        effects.removeAll(keepingCapacity: true)
        if machine.hasPendingPresence {
            machine.handle(.flush(now: now), into: &effects)
            effects.removeAll(keepingCapacity: true)
        }
        let t2 = clock.now
        joinTime += t1 - t0
        leaveTime += t2 - t1
        next += 1
        pairs += 1
    }
    guard machine.userCount == members else {
        return CrowdRow(line: "broken: \(machine.userCount) sessions after the run, expected \(members)", joinsPerSecond: nil)
    }
    let joins = Double(pairs) / seconds(joinTime)
    let leaves = Double(pairs) / seconds(leaveTime)
    return CrowdRow(
        line: "\(pad(rate(joins), 9)) joins/s  \(pad(rate(leaves), 9)) leaves/s  "
            + "\(pad(bytesText(bytesPerJoin), 10)) written per join  (pre-fill \(fixed(fill.seconds, 2)) s)",
        joinsPerSecond: joins)
}

/// How far a pre-fill got, and in how long.
private struct Prefill {
    var reached: Int
    var seconds: Double
    /// When it stopped early: the whole pre-fill's projected time.
    var projectedSeconds: Double?
}

/// Connects `members` sessions (each followed by its flush), effects dropped. Stops when `budget` seconds are spent, or
/// earlier when the time so far projects past it: at every doubling from 1,024 sessions on,
/// T(m) = a·m + b·m² is fitted to T(h) and T(2h) (b ≥ 0) and extrapolated to `members`.
private func prefill(_ machine: inout ChatMachine, members: Int, now: Int64, budget: Double) -> Prefill {
    let clock = ContinuousClock()
    let start = clock.now
    var effects: [ChatEffect] = []
    effects.reserveCapacity(16)
    var checkpoint = 1024
    var timeAtHalf: Double?
    for connection in 1...members {
        machine.handle(.connected(ConnectionID(connection), ConnectRequest(), now: now), into: &effects)
        if machine.hasPendingPresence { machine.handle(.flush(now: now), into: &effects) }
        effects.removeAll(keepingCapacity: true)
        guard connection == checkpoint || connection % 256 == 0 else { continue }
        let elapsed = seconds(clock.now - start)
        if elapsed > budget {
            return Prefill(reached: connection, seconds: elapsed, projectedSeconds: nil)
        }
        guard connection == checkpoint else { continue }
        if let half = timeAtHalf, connection < members {
            let projected = projectQuadratic(timeAtHalf: half, timeAtFull: elapsed, at: connection, target: members)
            if projected > budget {
                return Prefill(reached: connection, seconds: elapsed, projectedSeconds: projected)
            }
        }
        timeAtHalf = elapsed
        checkpoint *= 2
    }
    return Prefill(reached: members, seconds: seconds(clock.now - start), projectedSeconds: nil)
}

/// T(m) = a·m + b·m² through T(n/2) and T(n), with b ≥ 0, evaluated at `target`.
func projectQuadratic(timeAtHalf t1: Double, timeAtFull t2: Double, at n: Int, target: Int) -> Double {
    let h = Double(n) / 2
    var b = (t2 - 2 * t1) / (2 * h * h)
    var a = (t1 - b * h * h) / h
    if b < 0 {
        b = 0
        a = t2 / Double(n)
    }
    let m = Double(target)
    return a * m + b * m * m
}

private func seconds(_ d: Duration) -> Double {
    let (s, atto) = d.components
    return Double(s) + Double(atto) / 1e18
}

private func rate(_ value: Double) -> String {
    if value >= 1e6 { return fixed(value / 1e6, 2) + " M" }
    if value >= 1e3 { return fixed(value / 1e3, 1) + " k" }
    return fixed(value, 1)
}

private func bytesText(_ bytes: Int) -> String {
    if bytes >= 1 << 20 { return fixed(Double(bytes) / 1_048_576, 1) + " MiB" }
    if bytes >= 1 << 10 { return fixed(Double(bytes) / 1024, 1) + " KiB" }
    return "\(bytes) B"
}

private func grouped(_ value: Int) -> String {
    let digits = String(value)
    var out = ""
    for (index, character) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
        out.append(character)
    }
    return out
}

private func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
}

/// Fixed-point formatting without Foundation (non-negative values).
private func fixed(_ value: Double, _ decimals: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int(value * scale + 0.5)
    if decimals == 0 { return String(scaled) }
    let whole = scaled / Int(scale), fraction = scaled % Int(scale)
    let digits = String(fraction)
    return "\(whole)." + String(repeating: "0", count: decimals - digits.count) + digits
}

private func environment(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    return String(cString: value)
}
