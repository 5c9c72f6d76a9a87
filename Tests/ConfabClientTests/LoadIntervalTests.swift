import Testing
@testable import ConfabClient
import Foundation
import Glibc

// `confab load --report-every`: windows, per-message loss, the collector over threads, the
// RSS verdict. Every time is injected; nothing waits.

/// Measuring 1 s → 26 s in 10 s windows: [1, 11), [11, 21), [21, 26), then the drain.
private let clock = IntervalClock(measureStart: 1_000_000, sendEnd: 26_000_000, every: 10_000_000)
private let drain: UInt64 = 3_000_000

private func id(_ sender: Int, _ number: Int) -> MessageID { MessageID(sender: sender, number: number) }

@Suite struct IntervalClockTests {
    @Test func windowsFromMeasureStartTheLastCutShortThenTheDrain() {
        #expect(clock.drainWindow == 3)
        #expect(clock.window(at: 1_000_000) == 0)
        #expect(clock.window(at: 10_999_999) == 0)
        #expect(clock.window(at: 11_000_000) == 1)
        #expect(clock.window(at: 25_999_999) == 2)
        #expect(clock.window(at: 26_000_000) == 3)
        #expect(clock.window(at: 99_000_000) == 3)
        #expect(clock.bounds(1) == (11_000_000, 21_000_000))
        #expect(clock.bounds(2) == (21_000_000, 26_000_000))
        #expect(clock.bounds(3) == (26_000_000, .max))
        // A duration that is a whole number of windows has no empty window before the drain.
        #expect(IntervalClock(measureStart: 0, sendEnd: 20, every: 10).drainWindow == 2)
        #expect(IntervalClock(measureStart: 5, sendEnd: 5, every: 10).drainWindow == 0)
    }
}

@Suite struct IntervalSliceTests {
    @Test func aCopyAfterItsDeadlineIsDeliveredButLate() {
        var slice = IntervalSlice()
        slice.recordSent(id(0, 0), room: 0, sentMicros: 2_000_000)
        slice.recordCopy(id(0, 0), room: 0, sentMicros: 2_000_000, receivedMicros: 2_004_000, drainMicros: drain)
        slice.recordCopy(id(0, 0), room: 0, sentMicros: 2_000_000, receivedMicros: 5_000_000, drainMicros: drain)
        #expect(slice.sent == 1)
        #expect(slice.delivered == 2)
        #expect(slice.late == 1)
        #expect(slice.messages[id(0, 0)] == MessageRecord(room: 0, sentMicros: 2_000_000, copies: 1))
        #expect(slice.latencyMicros.totalCount == 2)
    }

    @Test func mergeAddsCopiesOfTheSameMessage() {
        var a = IntervalSlice()
        a.recordCopy(id(1, 4), room: 1, sentMicros: 10, receivedMicros: 20, drainMicros: drain)
        var b = IntervalSlice()
        b.recordSent(id(1, 4), room: 1, sentMicros: 10)
        b.recordCopy(id(1, 4), room: 1, sentMicros: 10, receivedMicros: 30, drainMicros: drain)
        a.merge(b)
        #expect(a.sent == 1 && a.delivered == 2 && a.latencyMicros.totalCount == 2)
        #expect(a.messages[id(1, 4)]?.copies == 2)
    }
}

@Suite struct MessageLedgerTests {
    @Test func aMessageIsLostWhenNotEveryMemberHadItByItsDeadline() {
        var ledger = MessageLedger(drainMicros: drain)
        var slice = IntervalSlice()
        // Room 0 has 3 members, room 1 has 2.
        slice.recordSent(id(0, 0), room: 0, sentMicros: 1_000_000)
        slice.recordSent(id(1, 0), room: 1, sentMicros: 1_000_000)
        slice.recordSent(id(0, 1), room: 0, sentMicros: 9_000_000)
        for _ in 0..<3 { slice.recordCopy(id(0, 0), room: 0, sentMicros: 1_000_000, receivedMicros: 1_010_000, drainMicros: drain) }
        // One member of room 1 never got (1, 0): lost.
        slice.recordCopy(id(1, 0), room: 1, sentMicros: 1_000_000, receivedMicros: 1_010_000, drainMicros: drain)
        ledger.add(slice.messages)
        #expect(ledger.settle(through: 3_999_999, members: [0: 3, 1: 2]) == 0)
        #expect(ledger.settled == 0)
        #expect(ledger.settle(through: 4_000_000, members: [0: 3, 1: 2]) == 1)
        #expect(ledger.complete == 1 && ledger.lost == 1)
        // (0, 1) reached nobody: lost once its deadline is past, not before.
        #expect(ledger.openCount == 1)
        #expect(ledger.settle(through: 12_000_000, members: [0: 3, 1: 2]) == 1)
        #expect(ledger.lost == 2 && ledger.settled == 3 && ledger.openCount == 0)
    }

    @Test func copiesMayComeBeforeTheSendIsReported() {
        var ledger = MessageLedger(drainMicros: drain)
        var receiver = IntervalSlice()
        receiver.recordCopy(id(2, 7), room: 0, sentMicros: 100, receivedMicros: 200, drainMicros: drain)
        ledger.add(receiver.messages)
        var sender = IntervalSlice()
        sender.recordSent(id(2, 7), room: 0, sentMicros: 100)
        sender.recordCopy(id(2, 7), room: 0, sentMicros: 100, receivedMicros: 300, drainMicros: drain)
        ledger.add(sender.messages)
        #expect(ledger.settle(through: .max, members: [0: 2]) == 0)
        #expect(ledger.complete == 1)
    }

    @Test func aLateCopyDoesNotCompleteItsMessage() {
        var ledger = MessageLedger(drainMicros: drain)
        var slice = IntervalSlice()
        slice.recordSent(id(0, 0), room: 0, sentMicros: 0)
        slice.recordCopy(id(0, 0), room: 0, sentMicros: 0, receivedMicros: 10, drainMicros: drain)
        slice.recordCopy(id(0, 0), room: 0, sentMicros: 0, receivedMicros: drain, drainMicros: drain)
        ledger.add(slice.messages)
        #expect(ledger.settle(through: .max, members: [0: 2]) == 1)
    }
}

@Suite struct IntervalMeterTests {
    @Test func advancingHandsOverTheFinishedWindowOnce() throws {
        var meter = IntervalMeter(clock: clock)
        #expect(meter.advance(to: 500_000) == nil)
        meter.slice.recordSent(id(0, 0), room: 0, sentMicros: 2_000_000)
        #expect(meter.advance(to: 10_000_000) == nil)
        // Straight to the drain: window 0 is handed over, 1 and 2 were empty.
        let handed = meter.advance(to: 30_000_000)
        let finished = try #require(handed)
        #expect(finished.window == 0 && finished.slice.sent == 1)
        #expect(meter.window == 3 && meter.slice.sent == 0)
        #expect(meter.advance(to: 40_000_000) == nil)
    }
}

@Suite struct IntervalCollectorTests {
    func sent(_ count: Int, at t: UInt64, sender: Int = 0, room: Int = 0) -> IntervalSlice {
        var slice = IntervalSlice()
        for n in 0..<count { slice.recordSent(id(sender, n), room: room, sentMicros: t) }
        return slice
    }

    @Test func aWindowIsDoneWhenEveryThreadIsPastIt() {
        let collector = IntervalCollector(threads: 2, drainMicros: drain)
        collector.flush(thread: 0, window: 0, slice: sent(2, at: 2_000_000), now: 1)
        #expect(collector.takeDone(clock: clock, members: [0: 1]).isEmpty)
        collector.flush(thread: 1, window: 0, slice: nil, now: 2)
        var done = collector.takeDone(clock: clock, members: [0: 1])
        #expect(done.map(\.index) == [0])
        #expect(done[0].slice.sent == 2 && done[0].start == 1_000_000 && done[0].end == 11_000_000)
        // Nobody received them: both lost, in the window their deadline (5 s) fell in.
        #expect(done[0].lost == 2 && done[0].lostTotal == 2)
        collector.flush(thread: 0, window: 1, slice: nil, now: 2)
        done = collector.takeDone(clock: clock, members: [0: 1])
        #expect(done.map(\.index) == [1])
        #expect(done[0].slice.sent == 0 && done[0].lost == 0 && done[0].lostTotal == 2)
        #expect(collector.messages() == (2, 2))
    }

    @Test func aMessageSentLateInAWindowIsSettledInTheNext() {
        let collector = IntervalCollector(threads: 1, drainMicros: drain)
        // Sent at 10 s: its deadline (13 s) is in window 1.
        collector.flush(thread: 0, window: 0, slice: sent(1, at: 10_000_000), now: 1)
        let first = collector.takeDone(clock: clock, members: [0: 1])
        #expect(first.map(\.lost) == [0])
        collector.flush(thread: 0, window: 1, slice: nil, now: 2)
        #expect(collector.takeDone(clock: clock, members: [0: 1]).map(\.lost) == [1])
    }

    @Test func endedThreadsCloseEveryWindowUpToTheDrainAndSettleAll() {
        let collector = IntervalCollector(threads: 2, drainMicros: drain)
        var copies = IntervalSlice()
        copies.recordCopy(id(0, 0), room: 0, sentMicros: 25_000_000, receivedMicros: 26_500_000, drainMicros: drain)
        collector.flush(thread: 0, window: 2, slice: sent(1, at: 25_000_000), now: 3)
        collector.flush(thread: 0, window: 3, slice: copies, now: .max)
        collector.end(thread: 1)
        let done = collector.takeDone(clock: clock, members: [0: 1])
        #expect(done.map(\.index) == [0, 1, 2, 3])
        #expect(done[3].end == .max && done[3].slice.delivered == 1)
        #expect(done.map(\.lost) == [0, 0, 0, 0])
        #expect(collector.messages() == (1, 0))
        #expect(collector.takeDone(clock: clock, members: [0: 1]).isEmpty)
    }
}

@Suite struct IntervalReporterTests {
    func options(pid: Int32? = nil) -> LoadOptions {
        var options = LoadOptions()
        options.reportEvery = 10
        options.drain = 3
        options.serverPID = pid
        return options
    }

    let schedule = LoadCoordinator.Schedule(sendStart: 0, measureStart: 1_000_000, sendEnd: 26_000_000)

    @Test func aLinePerWindowOnceEveryThreadIsPastItThenTheDrainAndASummary() {
        let collector = IntervalCollector(threads: 1, drainMicros: drain)
        let reporter = IntervalReporter(options: options(), collector: collector)
        #expect(reporter.poll(schedule: nil, members: [:], now: 0).isEmpty)
        #expect(reporter.poll(schedule: schedule, members: [0: 1], now: 5_000_000).isEmpty)
        var slice = IntervalSlice()
        slice.recordSent(id(0, 0), room: 0, sentMicros: 2_000_000)
        slice.recordCopy(id(0, 0), room: 0, sentMicros: 2_000_000, receivedMicros: 2_040_000, drainMicros: drain)
        collector.flush(thread: 0, window: 0, slice: slice, now: 1)
        let lines = reporter.poll(schedule: schedule, members: [0: 1], now: 11_050_000)
        #expect(lines.count == 2)
        #expect(lines[0] == IntervalLine.header)
        #expect(lines[1].hasPrefix("             0–10 "))
        #expect(lines[1].contains("40.00"))
        collector.end(thread: 0)
        let end = reporter.finish(schedule: schedule, members: [0: 1], drained: nil, now: 27_000_000)
        // Windows 1, 2 and the drain; no header again.
        #expect(end.lines.count == 3)
        #expect(end.lines[2].contains("25–26.0 drain"))
        let summary = end.summary
        #expect(summary?.lines.map(\.window) == [0, 1, 2, 3])
        #expect(summary?.messagesSettled == 1 && summary?.messagesLost == 0)
        #expect(summary?.baseline == nil && summary?.rssFlat == nil)
    }

    @Test func theServerIsReadAtEachBoundaryWhileSending() throws {
        let collector = IntervalCollector(threads: 1, drainMicros: drain)
        let reporter = IntervalReporter(options: options(pid: getpid()), collector: collector)
        _ = reporter.poll(schedule: schedule, members: [0: 1], now: 1_000_000)
        _ = reporter.poll(schedule: schedule, members: [0: 1], now: 11_000_000)
        // The runner was late: 21 s and 26 s are both past, so 21 s is skipped.
        _ = reporter.poll(schedule: schedule, members: [0: 1], now: 26_100_000)
        collector.end(thread: 0)
        let end = reporter.finish(schedule: schedule, members: [:], drained: nil, now: 27_000_000)
        let summary = try #require(end.summary)
        #expect(summary.baseline?.atMicros == 1_000_000)
        #expect(summary.compared.map(\.atMicros) == [11_000_000, 26_100_000])
        #expect(summary.lines[0].rssKiB != nil && summary.lines[1].rssKiB == nil && summary.lines[2].rssKiB != nil)
    }
}

@Suite struct IntervalSummaryTests {
    func sample(_ kib: Int, at seconds: UInt64) -> ProcessSample {
        ProcessSample(rssKiB: kib, cpuSeconds: 0, atMicros: seconds * 1_000_000)
    }

    @Test func flatMeansNoLaterSampleMoreThanTenPercentAboveTheBaseline() {
        var summary = IntervalSummary(lines: [], messagesSettled: 10, messagesLost: 0, baseline: sample(10_000, at: 0),
                                      compared: [sample(9_000, at: 30), sample(11_000, at: 60)])
        #expect(summary.rssGrowthPercent == 10)
        #expect(summary.rssFlat == true)
        #expect(summary.rssLine.hasPrefix("flat: 9.8 MiB when measuring began, then 8.8 MiB–10.7 MiB at 2 later boundaries (max +10.0 %"))
        summary.compared.append(sample(11_001, at: 90))
        #expect(summary.rssFlat == false)
        #expect(summary.rssLine.hasPrefix("NOT flat"))
        summary.baseline = nil
        #expect(summary.rssFlat == nil)
        #expect(summary.rssLine == "not read (--server-pid)")
    }

    /// The value of a table row.
    func row(_ table: String, _ key: String) -> String? {
        table.split(separator: "\n").first { $0.hasPrefix(key + " ") }
            .map { String($0.dropFirst(key.count)).trimmingCharacters(in: .whitespaces) }
    }

    func report(_ summary: IntervalSummary, dropped: Int = 0) -> LoadReport {
        var options = LoadOptions()
        options.clients = 4
        options.reportEvery = 30
        var stats = LoadStats()
        stats.connected = 4
        stats.sent = 10
        stats.dropped = dropped
        return LoadReport(options: options, stats: stats, membersPerRoom: [0: 4], measuredSeconds: 5,
                          cpuUserSeconds: 0, cpuSystemSeconds: 0, wallSeconds: 6, intervals: summary)
    }

    @Test func aPassNeedsNothingLostNothingDroppedAndFlatMemory() {
        let line = IntervalLine(window: 0, drain: false, startSeconds: 0, endSeconds: 30, sent: 10, delivered: 40, late: 0,
                                lost: 0, lostTotal: 0, p50Ms: 1.5, p99Ms: 9.25, rssKiB: 10_240, rssChangePercent: 2.5,
                                serverCPUPercent: 40)
        let flat = IntervalSummary(lines: [line], messagesSettled: 10, messagesLost: 0, baseline: sample(10_000, at: 0),
                                   compared: [sample(10_240, at: 30)])
        let pass = report(flat)
        #expect(pass.intervalProblems.isEmpty)
        #expect(row(pass.table(), "verdict") == "PASS")
        #expect(row(pass.table(), "messages lost") == "0 of 10 (not at every member of their room within 3 s of being sent); 0 copies late")
        #expect(pass.json().contains(#""intervals":{"every_s":30.000,"windows":[{"start_s":0.000,"end_s":30.000,"drain":false,"sent":10,"delivered":40"#))
        #expect(pass.json().contains(#""rss_flat":true,"pass":true,"problems":[]"#))
        var lossy = flat
        lossy.messagesLost = 2
        lossy.compared.append(sample(12_000, at: 60))
        let fail = report(lossy, dropped: 1)
        #expect(fail.intervalProblems == ["1 dropped by the server", "2 of 10 messages lost", "server VmRSS grew 20.0 % (limit 10 %)"])
        #expect(row(fail.table(), "verdict")?.hasPrefix("FAIL: 1 dropped") == true)
    }

    @Test func lineText() {
        let line = IntervalLine(window: 3, drain: true, startSeconds: 120, endSeconds: 120.4, sent: 0, delivered: 12, late: 1,
                                lost: 2, lostTotal: 5, p50Ms: nil, p99Ms: 3.456, rssKiB: nil, rssChangePercent: -1.25,
                                serverCPUPercent: nil)
        let cells = line.text.split(separator: " ").map(String.init)
        #expect(cells == ["120–120.4", "drain", "0", "12", "—", "2", "(5)", "1", "—", "3.46", "—", "-1.3", "%", "—"])
        #expect(IntervalLine.header.count == line.text.count)
    }

    @Test func reportEveryNeedsSendersAndASaneInterval() {
        var options = LoadOptions()
        options.reportEvery = 0.5
        #expect(options.validate() == "--report-every must be in [1, 3600] seconds")
        options.reportEvery = 30
        #expect(options.validate() == nil)
        options.churn = true
        #expect(options.validate() == "--report-every needs senders (not --crowd or --churn)")
    }
}
