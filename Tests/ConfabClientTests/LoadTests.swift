import Testing
@testable import ConfabClient
import ConfabProtocol
import Glibc

@Suite struct LoadMessageTests {
    @Test func stampRoundTripsThroughAServerMessageFrame() {
        let stamp = LoadMessage.Stamp(measured: true, sentMicros: 123_456_789, sender: 42, number: 7)
        let text = LoadMessage.text(stamp, size: 64)
        #expect(text.utf8.count == 64)
        let frame = #"{"type":"message","room":"load-3","seq":9,"ts":"2026-11-22T10:30:02.000Z","from":{"id":"u","name":"n"},"text":"\#(text)"}"#
        #expect(LoadMessage.stamp(inMessageFrame: Array(frame.utf8)) == stamp)
    }

    @Test func shortSizeKeepsTheWholeHeader() {
        let stamp = LoadMessage.Stamp(measured: false, sentMicros: 5, sender: 0, number: 0)
        #expect(LoadMessage.text(stamp, size: 1) == "ld1 0 5 0 0 ")
    }

    @Test func otherFramesHaveNoStamp() {
        #expect(LoadMessage.stamp(inMessageFrame: Array(#"{"type":"message","room":"a","text":"hello"}"#.utf8)) == nil)
        #expect(LoadMessage.stamp(inMessageFrame: Array(#"{"type":"presence","text":"ld1 1 2 3 4 "}"#.utf8)) == nil)
        #expect(LoadMessage.stamp(inMessageFrame: Array(#"{"type":"message","text":"ld1 x"}"#.utf8)) == nil)
    }
}

@Suite struct LoadOptionsTests {
    @Test func clientsSpreadOverRoomsAndThreads() {
        var options = LoadOptions()
        options.clients = 10
        options.rooms = 3
        options.threads = 2
        #expect((0..<10).map(options.room(ofClient:)) == [0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
        #expect(options.thread(ofClient: 5) == 1)
        #expect(options.roomName(2) == "load-2")
        options.rooms = 1
        #expect(options.roomName(0) == nil)
    }

    @Test func clientsGoRoundRobinOverServersWithinEachRoom() {
        var options = LoadOptions()
        options.clients = 12
        options.servers = 2
        #expect((0..<6).map(options.server(ofClient:)) == [0, 1, 0, 1, 0, 1])
        options.servers = 3
        #expect((0..<6).map(options.server(ofClient:)) == [0, 1, 2, 0, 1, 2])
        // Several rooms: each room's members go round robin over the servers, so every room
        // spans them all (plain i mod 2 would put rooms 0 and 2 on server 0 alone).
        options.servers = 2
        options.rooms = 2
        let byRoom = Dictionary(grouping: 0..<12, by: options.room(ofClient:)).mapValues { $0.map(options.server(ofClient:)) }
        #expect(byRoom == [0: [0, 1, 0, 1, 0, 1], 1: [0, 1, 0, 1, 0, 1]])
        #expect(LoadOptions().server(ofClient: 7) == 0)
    }

    @Test func validation() {
        var options = LoadOptions()
        #expect(options.validate() == nil)
        options.rooms = 11
        #expect(options.validate() == "--rooms cannot exceed --clients")
        options.rooms = 1
        options.senders = 11
        #expect(options.validate() == "--senders must be between 0 and --clients")
        options.senders = 1
        options.threads = 0
        #expect(options.validate() == "--threads must be between 1 and 64")
        options.threads = 1
        options.servers = 0
        #expect(options.validate() == "between 1 and 64 server URLs")
    }
}

@Suite struct LoadStatsTests {
    func report(_ stats: LoadStats, members: [Int: Int]) -> LoadReport {
        var options = LoadOptions()
        options.duration = 2
        return LoadReport(options: options, stats: stats, membersPerRoom: members, measuredSeconds: 2,
                          cpuUserSeconds: 0.5, cpuSystemSeconds: 0.25, wallSeconds: 3)
    }

    @Test func expectedDeliveriesAreMessagesTimesReceiversPerRoom() {
        var stats = LoadStats()
        stats.sent = 30
        stats.sentPerRoom = [0: 10, 1: 20]
        stats.received = 10 * 5 + 20 * 3 - 4
        let r = report(stats, members: [0: 5, 1: 3])
        #expect(r.expectedDeliveries == 110)
        #expect(r.lost == 4)
        #expect(r.cpuPercent == 25)
    }

    @Test func mergeAddsCountsAndHistograms() {
        var a = LoadStats()
        a.sent = 2
        a.sentPerRoom = [0: 2]
        a.latencyMicros.record(1000)
        a.recordFailure("refused")
        var b = LoadStats()
        b.sent = 3
        b.sentPerRoom = [0: 1, 1: 2]
        b.latencyMicros.record(3000)
        b.recordFailure("refused")
        a.merge(b)
        #expect(a.sent == 5 && a.sentPerRoom == [0: 3, 1: 2])
        #expect(a.latencyMicros.totalCount == 2)
        #expect(a.failureReasons == ["refused": 2] && a.connectFailed == 2)
    }

    @Test func tableAndJSONCarryTheFigures() {
        var stats = LoadStats()
        stats.connected = 4
        stats.sent = 10
        stats.sentPerRoom = [0: 10]
        stats.received = 40
        for value in [1000, 2000, 3000, 4000] as [UInt64] { stats.latencyMicros.record(value) }
        let r = report(stats, members: [0: 4])
        #expect(r.table().contains("deliveries       40 of 40 expected (20.0/s), lost 0"))
        let json = r.json()
        #expect(json.hasPrefix("{\"mode\":\"rate\""))
        #expect(json.contains("\"deliveries\":{\"expected\":40,\"received\":40,\"lost\":0,\"unmatched\":0,\"per_s\":20.000}"))
        #expect(json.contains("\"latency_ms\":{\"p50\":2.000"))
    }

    @Test func severalServersAddClientsPerServerAndLatencyBySenderServer() {
        var stats = LoadStats()
        stats.connected = 4
        stats.connectedPerServer = [0: 3, 1: 1]
        stats.latencySameServerMicros.record(1000)
        stats.latencyOtherServerMicros.record(3000)
        stats.latencyOtherServerMicros.record(5000)
        var other = LoadStats()
        other.connectedPerServer = [2: 2]
        other.latencyOtherServerMicros.record(7000)
        stats.merge(other)
        var options = LoadOptions()
        options.servers = 3
        let r = LoadReport(options: options, stats: stats, membersPerRoom: [0: 4], measuredSeconds: 1,
                           cpuUserSeconds: 0, cpuSystemSeconds: 0, wallSeconds: 1)
        #expect(r.connectedPerServer == [3, 1, 2])
        let rows = r.table().split(separator: "\n").map { $0.split(separator: " ", maxSplits: 2).map(String.init) }
        func row(_ label: String) -> String? {
            rows.first { $0.count == 3 && "\($0[0]) \($0[1])" == label }.map { String($0[2].drop { $0 == " " }) }
        }
        #expect(row("per server") == "3 / 1 / 2")
        #expect(row("same server")?.hasPrefix("p50 1.00") == true)
        #expect(row("other server")?.hasPrefix("p50 5.00") == true)
        #expect(row("other server")?.hasSuffix("(3 deliveries)") == true)
        #expect(r.json().contains("\"servers\":{\"count\":3,\"connected\":[3,1,2],\"latency_same_ms\":{\"p50\":1.000"))
        // One server: no split, and the table is as it was.
        let one = report(LoadStats(), members: [:])
        #expect(!one.table().contains("per server") && !one.table().contains("same server"))
        #expect(one.json().contains("\"servers\":{\"count\":1,\"connected\":[0],\"latency_same_ms\":null,\"latency_other_ms\":null}"))
    }

    @Test func fixedFormatting() {
        #expect(LoadReport.fixed(1.5) == "1.50")
        #expect(LoadReport.fixed(2, 0) == "2")
        #expect(LoadReport.fixed(0.1234, 3) == "0.123")
    }
}

@Suite struct LoadRequestTests {
    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func joinAndLeaveAreEscapedJSON() {
        #expect(text(ProtocolV1.encodeRequest(.join("load-3"))) == #"{"type":"join","room":"load-3"}"#)
        #expect(text(ProtocolV1.encodeRequest(.leave("lobby"))) == #"{"type":"leave","room":"lobby"}"#)
        // A home room name from the server is written back escaped, never spliced in raw.
        #expect(text(ProtocolV1.encodeRequest(.leave(#"a"b\c"#))) == #"{"type":"leave","room":"a\"b\\c"}"#)
    }
}

@Suite struct CrowdOptionsTests {
    func crowd() -> LoadOptions {
        var options = LoadOptions()
        options.clients = 100
        options.crowd = true
        return options
    }

    @Test func crowdIsOneRoomOneSender() {
        #expect(crowd().validate() == nil)
        var options = crowd()
        options.rooms = 2
        #expect(options.validate() == "--crowd puts every client in the one home room: --rooms must be 1")
        options = crowd()
        options.senders = 3
        #expect(options.validate() == "--crowd has exactly one sender")
        options = crowd()
        options.churn = true
        #expect(options.validate() == "--crowd and --churn exclude each other")
        options = crowd()
        options.closedLoop = true
        #expect(options.validate() == "--crowd and --closed-loop exclude each other")
    }

    @Test func waitsWindowsRelayAndPID() {
        var options = crowd()
        options.drain = -1
        #expect(options.validate() == "--drain must be in [0, 3600] seconds")
        options.drain = 0
        #expect(options.validate() == nil)
        options.connectWindow = 0
        #expect(options.validate() == "--connect-window must be in (0, 3600] seconds")
        options = LoadOptions()
        options.clients = 10
        options.rooms = 2
        options.relay = true
        #expect(options.validate() == "--relay: a relay has no rooms, --rooms must be 1")
        options.rooms = 1
        options.serverPID = 0
        #expect(options.validate() == "--server-pid must be a process id")
        options.serverPID = 42
        #expect(options.validate() == nil)
    }
}

@Suite struct CrowdScheduleTests {
    func options(threads: Int = 2, drain: Double = 30) -> LoadOptions {
        var options = LoadOptions()
        options.clients = 10
        options.crowd = true
        options.threads = threads
        options.drain = drain
        return options
    }

    @Test func oneMessageSentAtOnceThenOnlyTheWait() throws {
        let coordinator = LoadCoordinator(options: options())
        coordinator.threadReady(members: [0: 6])
        #expect(coordinator.currentSchedule() == nil)
        coordinator.threadReady(members: [0: 4])
        let schedule = try #require(coordinator.currentSchedule())
        #expect(schedule.sendStart == schedule.measureStart && schedule.measureStart == schedule.sendEnd)
        let now = schedule.sendEnd + 1000
        // Nothing is expected yet, but the sender's thread has not said it sent: not drained.
        #expect(!coordinator.drained(now: now))
        coordinator.report(sent: [0: 1], received: 3, connected: 0, failed: 0)
        coordinator.threadDoneSending()
        #expect(!coordinator.drained(now: now))
        coordinator.threadDoneSending()
        #expect(!coordinator.drained(now: now))
        coordinator.report(sent: [:], received: 7, connected: 0, failed: 0)
        #expect(coordinator.drained(now: now))
        #expect(coordinator.result().drainedAt == now)
    }

    @Test func noSenderMeansNothingToWaitFor() throws {
        let coordinator = LoadCoordinator(options: options(threads: 1))
        coordinator.threadReady(members: [0: 9])
        let schedule = try #require(coordinator.currentSchedule())
        #expect(!coordinator.drained(now: schedule.sendEnd))
        coordinator.threadDoneSending()
        #expect(coordinator.drained(now: schedule.sendEnd))
    }

    @Test func theWaitIsBounded() throws {
        let coordinator = LoadCoordinator(options: options(threads: 1, drain: 2))
        coordinator.threadReady(members: [0: 10])
        let schedule = try #require(coordinator.currentSchedule())
        coordinator.report(sent: [0: 1], received: 1, connected: 0, failed: 0)
        coordinator.threadDoneSending()
        #expect(!coordinator.drained(now: schedule.sendEnd + 1_999_999))
        #expect(coordinator.drained(now: schedule.sendEnd + 2_000_000))
    }
}

@Suite struct ClosedLoopDrainTests {
    /// CI once saw this: thread A's echo callback sent one more message just before `sendEnd`
    /// and had not reported it when thread B found every *reported* delivery in and closed all.
    @Test func notDrainedUntilEveryThreadHasReportedPastTheEnd() throws {
        var options = LoadOptions()
        options.clients = 8
        options.senders = 2
        options.closedLoop = true
        options.threads = 2
        options.duration = 1
        let coordinator = LoadCoordinator(options: options)
        coordinator.threadReady(members: [0: 4])
        coordinator.threadReady(members: [0: 4])
        let schedule = try #require(coordinator.currentSchedule())
        let end = schedule.sendEnd + 1000
        coordinator.report(sent: [0: 10], received: 80, connected: 0, failed: 0)
        coordinator.threadDoneSending()
        // Thread A sent its 11th and has not reported it: what is reported is all in, yet not drained.
        #expect(!coordinator.drained(now: end))
        coordinator.report(sent: [0: 1], received: 0, connected: 0, failed: 0)
        coordinator.threadDoneSending()
        #expect(!coordinator.drained(now: end))
        coordinator.report(sent: [:], received: 8, connected: 0, failed: 0)
        #expect(coordinator.drained(now: end))
    }
}

@Suite struct CrowdReportTests {
    func report(_ stats: LoadStats, members: Int = 4, server: ServerFigures? = nil) -> LoadReport {
        var options = LoadOptions()
        options.clients = 4
        options.crowd = true
        options.drain = 30
        return LoadReport(options: options, stats: stats, membersPerRoom: [0: members], measuredSeconds: 0.5,
                          cpuUserSeconds: 0.1, cpuSystemSeconds: 0.1, wallSeconds: 1, connectSeconds: 2,
                          deliverySeconds: 0.5, server: server)
    }

    func delivered() -> LoadStats {
        var stats = LoadStats()
        stats.connected = 4
        stats.sent = 1
        stats.sentPerRoom = [0: 1]
        stats.received = 4
        for value in [1000, 2000, 3000, 42_000] as [UInt64] { stats.latencyMicros.record(value) }
        return stats
    }

    @Test func aPass() {
        let r = report(delivered())
        #expect(r.crowdProblems.isEmpty)
        let table = r.table()
        #expect(table.contains("broadcast        reached 4 of 4 clients; the last after 42.0"))
        #expect(table.contains("all connected    after 2.00 s (2 connections/s)"))
        #expect(table.contains("verdict          PASS"))
        #expect(!table.contains("messages sent"))
        #expect(r.json().contains("\"verdict\":{\"pass\":true,\"problems\":[]}"))
        #expect(r.json().hasPrefix("{\"mode\":\"crowd\""))
    }

    @Test func failuresDropsAndAnUndeliveredBroadcastFail() {
        var stats = delivered()
        stats.connected = 3
        stats.recordFailure("not connected within the 60 s connect window")
        stats.recordDrop("server closed (1008) slow consumer")
        stats.received = 2
        let r = report(stats, members: 3)
        #expect(r.crowdProblems == [
            "1 of 4 clients never connected",
            "1 dropped by the server (1× server closed (1008) slow consumer)",
            "the broadcast reached 2 of 3 clients within the 30 s wait",
        ])
        let table = r.table()
        #expect(table.contains("NOT delivered to every client: 2 of 3 within the 30 s wait"))
        #expect(table.contains("  dropped        1× server closed (1008) slow consumer"))
        #expect(table.contains("verdict          FAIL: 1 of 4 clients never connected; "))
        #expect(r.json().contains("\"verdict\":{\"pass\":false,\"problems\":[\"1 of 4 clients never connected\","))
    }

    @Test func noSenderIsAFail() {
        var stats = LoadStats()
        stats.connected = 3
        let r = report(stats, members: 3)
        #expect(r.crowdProblems == ["no broadcast: the sender (client 0) was not connected"])
        #expect(r.table().contains("broadcast        not sent"))
    }

    @Test func serverRows() {
        let start = ProcessSample(rssKiB: 10_240, cpuSeconds: 1, atMicros: 1_000_000)
        let connected = ProcessSample(rssKiB: 10_240 + 4 * 3, cpuSeconds: 3.5, atMicros: 3_000_000)
        let drained = ProcessSample(rssKiB: 20_480, cpuSeconds: 4, atMicros: 3_500_000)
        let server = ServerFigures(pid: 7, start: start, connected: connected, drained: drained)
        #expect(server.peakRSSKiB == 20_480)
        #expect(server.rssGrowthPerConnectionKiB(connections: 4) == 3)
        let table = report(delivered(), server: server).table()
        #expect(table.contains("server memory    VmRSS 10.0 MiB before, 10.0 MiB all connected: 3.00 KiB per connection; peak 20.0 MiB"))
        #expect(table.contains("server CPU       2.50 s connecting (over 2.0 s), 0.50 s until the deliveries were in (over 0.5 s)"))
        let json = report(delivered(), server: server).json()
        #expect(json.contains("\"server\":{\"pid\":7,\"start\":{\"rss_kib\":10240,\"cpu_s\":0.000,\"at_s\":0.000}"))
        #expect(json.contains("\"rss_kib_per_connection\":3.000"))
    }

    @Test func aBusyLoadIsFlagged() {
        var r = report(delivered())
        #expect(r.loadBoundNote == nil)
        r.cpuUserSeconds = 0.2
        r.cpuSystemSeconds = 0.7
        #expect(r.table().contains("  note           the load was busy 90% of the time per thread: the figures may be its limits"))
        r.options.threads = 2
        #expect(r.loadBoundNote == nil)
    }

    @Test func dropsMerge() {
        var a = LoadStats()
        a.recordDrop("x")
        a.framesReceived = 2
        a.bytesReceived = 100
        var b = LoadStats()
        b.recordDrop("x")
        b.recordDrop("y")
        b.framesReceived = 3
        b.bytesReceived = 50
        a.merge(b)
        #expect(a.dropped == 3 && a.dropReasons == ["x": 2, "y": 1])
        #expect(a.framesReceived == 5 && a.bytesReceived == 150)
    }
}

@Suite struct RelayAndProbeTests {
    @Test func aRelayedSendRequestCarriesItsStamp() {
        let stamp = LoadMessage.Stamp(measured: true, sentMicros: 99, sender: 0, number: 0)
        let request = ProtocolV1.encodeRequest(.send(text: LoadMessage.text(stamp, size: 64), room: nil, action: false))
        #expect(LoadMessage.stamp(inMessageFrame: request) == stamp)
        #expect(LoadMessage.stamp(inMessageFrame: Array(#"{"type":"sender","text":"ld1 1 2 3 4 "}"#.utf8)) == nil)
    }

    @Test func procParsing() {
        #expect(ProcessProbe.rssKiB(status: "Name:\tconfab\nVmPeak:\t  9 kB\nVmRSS:\t   43328 kB\nRssAnon: 1 kB\n") == 43328)
        #expect(ProcessProbe.rssKiB(status: "Name:\tconfab\n") == nil)
        // The command name may hold spaces and parentheses; utime and stime are fields 14 and 15.
        let stat = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 2 0 1000 1 1"
        #expect(ProcessProbe.cpuTicks(stat: stat) == 325)
        #expect(ProcessProbe.cpuTicks(stat: "4242 (x) S 1 2") == nil)
    }

    @Test func sampleOfThisProcess() throws {
        let sample = try #require(ProcessProbe.sample(pid: getpid()))
        #expect(sample.rssKiB > 0)
        #expect(sample.cpuSeconds >= 0)
        #expect(ProcessProbe.sample(pid: Int32.max) == nil)
    }
}
