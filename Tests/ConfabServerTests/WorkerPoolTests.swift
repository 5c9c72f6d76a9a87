import Glibc
import Testing
@testable import ConfabServer

/// `confab serve --workers`' decisions, without processes: readiness, restarts with backoff,
/// the drain on a signal, a failed start.
@Suite struct WorkerPoolTests {
    typealias Action = WorkerPool.Action

    /// A pool of `count` whose workers all listen.
    func running(_ count: Int = 2) -> WorkerPool {
        var pool = WorkerPool(count: count)
        _ = pool.start(now: 0)
        for worker in 1...count { _ = pool.handle(.listening(worker: worker, banner: "banner \(worker)"), now: 10) }
        return pool
    }

    @Test func startsEveryWorkerAndAnnouncesOnceAllListen() {
        var pool = WorkerPool(count: 3)
        #expect(pool.start(now: 0) == [.spawn(worker: 1), .spawn(worker: 2), .spawn(worker: 3)])
        #expect(pool.handle(.listening(worker: 2, banner: "confab listening on :8080"), now: 5) == [])
        #expect(pool.handle(.listening(worker: 1, banner: "confab listening on :8080"), now: 6) == [])
        #expect(pool.handle(.listening(worker: 3, banner: "confab listening on :8080"), now: 7) == [.announce("confab listening on :8080")])
        #expect(pool.isRunning)
        // A restarted worker's banner is not announced again.
        _ = pool.handle(.exited(worker: 3, code: 137), now: 100)
        #expect(pool.handle(.restartDue(worker: 3), now: 400) == [.spawn(worker: 3)])
        #expect(pool.handle(.listening(worker: 3, banner: "confab listening on :8080"), now: 450) == [])
    }

    @Test func aDeadWorkerIsRestartedWithABackoffThatGrowsWhileItKeepsDying() {
        var pool = running()
        var delays: [UInt64] = []
        var now: UInt64 = 1_000
        for _ in 0..<7 {
            let actions = pool.handle(.exited(worker: 1, code: 139), now: now)
            guard case .restart(1, let delay)? = actions.first, actions.count == 1 else {
                Issue.record("expected one restart, got \(actions)")
                return
            }
            delays.append(delay)
            now += delay
            #expect(pool.handle(.restartDue(worker: 1), now: now) == [.spawn(worker: 1)])
            now += 100
        }
        #expect(delays == [250, 500, 1_000, 2_000, 4_000, 5_000, 5_000])
        // Up for longer than 10 s: the next death is restarted quickly again.
        _ = pool.handle(.listening(worker: 1, banner: "b"), now: now)
        #expect(pool.handle(.exited(worker: 1, code: 137), now: now + 10_000) == [.restart(worker: 1, afterMs: 250)])
        // The other worker has its own count.
        #expect(pool.handle(.exited(worker: 2, code: 137), now: now + 10_001) == [.restart(worker: 2, afterMs: 250)])
    }

    @Test func aSignalIsPassedOnAndThePoolExitsZeroOnceAllHaveExited() {
        var pool = running(3)
        _ = pool.handle(.exited(worker: 2, code: 137), now: 50)  // waiting for its restart
        #expect(pool.handle(.signal(SIGTERM), now: 60) == [.forward(SIGTERM, workers: [1, 3])])
        #expect(!pool.isRunning)
        // No restart while stopping.
        #expect(pool.handle(.restartDue(worker: 2), now: 310) == [])
        #expect(pool.handle(.exited(worker: 1, code: 0), now: 400) == [])
        #expect(pool.handle(.exited(worker: 3, code: 0), now: 420) == [.exit(0)])
        // Nothing after the end.
        #expect(pool.handle(.signal(SIGTERM), now: 500) == [])
    }

    @Test func aWorkerThatDidNotDrainCleanlyGivesTheExitCode() {
        var pool = running()
        _ = pool.handle(.signal(SIGINT), now: 60)
        #expect(pool.handle(.exited(worker: 2, code: 137), now: 70) == [])
        #expect(pool.handle(.exited(worker: 1, code: 0), now: 80) == [.exit(137)])
    }

    @Test func aSecondSignalKillsTheWorkers() {
        var pool = running()
        #expect(pool.handle(.signal(SIGTERM), now: 60) == [.forward(SIGTERM, workers: [1, 2])])
        _ = pool.handle(.exited(worker: 1, code: 0), now: 70)
        #expect(pool.handle(.signal(SIGINT), now: 80) == [.forward(SIGKILL, workers: [2]), .exit(128 + SIGINT)])
    }

    @Test func aSignalWithNoWorkerAliveExitsAtOnce() {
        var pool = running(1)
        _ = pool.handle(.exited(worker: 1, code: 137), now: 50)
        #expect(pool.handle(.signal(SIGTERM), now: 60) == [.exit(0)])
    }

    @Test func aWorkerThatCannotStartStopsTheOthersWithItsCode() {
        var pool = WorkerPool(count: 3)
        _ = pool.start(now: 0)
        _ = pool.handle(.listening(worker: 1, banner: "b"), now: 5)
        // Worker 2 cannot listen (port taken): no retry, the others stop.
        #expect(pool.handle(.exited(worker: 2, code: 69), now: 10) == [.forward(SIGTERM, workers: [1, 3])])
        #expect(pool.handle(.listening(worker: 3, banner: "b"), now: 11) == [])
        #expect(pool.handle(.exited(worker: 3, code: 143), now: 12) == [])
        #expect(pool.handle(.exited(worker: 1, code: 0), now: 13) == [.exit(69)])
    }

    @Test func aFailedStartOfTheOnlyWorkerExitsAtOnceAndZeroIsNotAnOption() {
        var pool = WorkerPool(count: 1)
        _ = pool.start(now: 0)
        // Exiting 0 before listening is still a failed start.
        #expect(pool.handle(.exited(worker: 1, code: 0), now: 10) == [.exit(1)])
    }

    @Test func eventsForUnknownOrDeadWorkersAreIgnored() {
        var pool = running()
        #expect(pool.handle(.exited(worker: 0, code: 1), now: 20) == [])
        #expect(pool.handle(.exited(worker: 3, code: 1), now: 20) == [])
        #expect(pool.handle(.listening(worker: 7, banner: "x"), now: 20) == [])
        #expect(pool.handle(.restartDue(worker: 1), now: 20) == [])  // worker 1 is not dead
        _ = pool.handle(.exited(worker: 1, code: 137), now: 30)
        #expect(pool.handle(.exited(worker: 1, code: 137), now: 31) == [])  // reported twice
        #expect(pool.handle(.listening(worker: 1, banner: "x"), now: 32) == [])  // not started again yet
    }
}

@Suite struct WorkerCommandTests {
    @Test func eachWorkerGetsTheSupervisorsFlagsThePortAndItsNumber() {
        let command = WorkerCommand(flags: ["--config", "c.yaml", "--host", "::1"], environment: ["HOME": "/h", "CONFAB_LOG_LEVEL": "debug"],
                                    port: 41000, linePort: nil, nodeId: nil)
        let (arguments, environment) = command(worker: 2, start: 0)
        #expect(arguments == ["serve", "--config", "c.yaml", "--host", "::1", "--port", "41000", "--worker", "2"])
        // Without a configured node id each worker makes its own.
        #expect(environment == ["CONFAB_LOG_LEVEL=debug", "HOME=/h"])
    }

    @Test func theChosenLinePortAndAConfiguredNodeIdGoThroughTheEnvironment() {
        let command = WorkerCommand(flags: [], environment: ["CONFAB_CLUSTER_NODE_ID": "ignored"], port: 1, linePort: 4242, nodeId: "web-a")
        let first = command(worker: 3, start: 0).environment
        #expect(first.contains("CONFAB_LINE_PORT=4242"))
        #expect(first.contains("CONFAB_CLUSTER_NODE_ID=web-a-3"))
        #expect(!first.contains("CONFAB_CLUSTER_NODE_ID=ignored"))
        // A restarted worker is a new node.
        #expect(command(worker: 3, start: 2).environment.contains("CONFAB_CLUSTER_NODE_ID=web-a-3.2"))
    }

    @Test func aLongNodeIdIsCutToFitTheKey() {
        let id = WorkerCommand.nodeID(String(repeating: "n", count: 64), worker: 12, start: 3)
        #expect(id.count == 64)
        #expect(id.hasSuffix("n-12.3"))
    }
}
