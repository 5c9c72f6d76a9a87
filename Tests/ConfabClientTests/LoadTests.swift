import Testing
@testable import ConfabClient
import ConfabChat

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

    @Test func fixedFormatting() {
        #expect(LoadReport.fixed(1.5) == "1.50")
        #expect(LoadReport.fixed(2, 0) == "2")
        #expect(LoadReport.fixed(0.1234, 3) == "0.123")
    }
}

@Suite struct LoadRequestTests {
    @Test func joinAndLeaveAreEscapedJSON() {
        #expect(ClientRequest.join("load-3") == #"{"type":"join","room":"load-3"}"#)
        #expect(ClientRequest.leave("lobby") == #"{"type":"leave","room":"lobby"}"#)
        #expect(ClientRequest.leave() == #"{"type":"leave"}"#)
        // A home room name from the server is written back escaped, never spliced in raw.
        #expect(ClientRequest.leave(#"a"b\c"#) == #"{"type":"leave","room":"a\"b\\c"}"#)
        #expect(ClientRequest.join("x", id: "7") == #"{"type":"join","room":"x","id":"7"}"#)
    }
}
