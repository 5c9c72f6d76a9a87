import ConfabCodec
import Glibc
import Testing
@testable import ConfabReactor

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

private func client(_ script: LoopScript, _ server: RedisServer, password: String? = nil, db: Int = 0,
                    channels: [String] = [], timing: RedisTiming = RedisTiming()) -> RedisClient {
    RedisClient(reactor: script.reactor,
                endpoint: RedisEndpoint(host: "127.0.0.1", port: server.port, password: password, db: db),
                channels: channels, logger: testLogger(), timing: timing)
}

/// The Redis client against a real redis-server: replies of every type, pub/sub, login,
/// and every way the connection can fail and come back. Serialized: each test runs its
/// own redis-server, and timing-sensitive steps should not fight for the two cores.
@Suite(.serialized) struct RedisClientTests {
    @Test func commandsGetRepliesOfEveryType() throws {
        let server = try RedisServer()
        try server.start()
        let script = try LoopScript()
        let redis = client(script, server)
        let binary: [UInt8] = [0, 0xFF, 0xFE, 0x80, 0x61, 0, 0x0D, 0x0A]
        let large = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var replies: [String: RedisReply] = [:]
        func ask(_ name: String, _ arguments: [[UInt8]]) {
            redis.send(arguments) { replies[name] = $0 }
        }
        script.step("up", when: { redis.isUp }) {
            ask("set", [bytes("SET"), binary, binary])
            ask("get", [bytes("GET"), binary])
            ask("missing", [bytes("GET"), bytes("nothing here")])
            ask("empty set", [bytes("SET"), bytes("empty"), []])
            ask("empty", [bytes("GET"), bytes("empty")])
            ask("large set", [bytes("SET"), bytes("large"), large])
            ask("large", [bytes("GET"), bytes("large")])
            ask("incr", [bytes("INCRBY"), bytes("n"), bytes("-7")])
            ask("ping", [bytes("PING")])
            ask("unknown", [bytes("NO-SUCH-COMMAND")])
            ask("wrong type", [bytes("LPUSH"), binary, bytes("x")])
            ask("nested", [bytes("EVAL"), bytes("return {1, {2, 'x', {}}, false, 'ok'}"), bytes("0")])
            ask("subscribe", [bytes("subscribe"), bytes("c")])
            ask("blocking", [bytes("blpop"), bytes("list"), bytes("0")])
            ask("xread block", [bytes("XREAD"), bytes("BLOCK"), bytes("0"), bytes("STREAMS"), bytes("s"), bytes("$")])
            ask("xread", [bytes("XREAD"), bytes("STREAMS"), bytes("BLOCK"), bytes("0")])
            ask("empty command", [])
            redis.send([bytes("SET"), bytes("no reply wanted"), bytes("1")], reply: nil)
            ask("after", [bytes("EXISTS"), bytes("no reply wanted")])
        }
        redis.start()
        script.step("replies", when: { replies.count == 18 }) { redis.close() }
        script.run()
        #expect(replies["set"] == .status("OK"))
        #expect(replies["get"] == .bulk(binary))
        #expect(replies["missing"] == .null)
        #expect(replies["empty set"] == .status("OK"))
        #expect(replies["empty"] == .bulk([]))
        #expect(replies["large"] == .bulk(large))
        #expect(replies["incr"] == .integer(-7))
        #expect(replies["ping"] == .status("PONG"))
        #expect(replies["unknown"].map { if case .error(let text) = $0 { text.hasPrefix("ERR unknown command") } else { false } } == true)
        #expect(replies["wrong type"].map { if case .error(let text) = $0 { text.hasPrefix("WRONGTYPE") } else { false } } == true)
        #expect(replies["nested"] == .array([.integer(1), .array([.integer(2), .bulk(bytes("x")), .array([])]), .null, .bulk(bytes("ok"))]))
        #expect(replies["subscribe"] == .error("ERR SUBSCRIBE would change the command connection"))
        #expect(replies["blocking"] == .error("ERR BLPOP would block the command connection"))
        #expect(replies["xread block"] == .error("ERR XREAD would block the command connection"))
        #expect(replies["xread"] == .array([]) || replies["xread"] == .null)  // Stream "BLOCK" does not exist.
        #expect(replies["empty command"] == .error("ERR empty command"))
        #expect(replies["after"] == .integer(1))
        #expect(redis.counters.commandsSent == 15)
    }

    @Test func messagesArriveInOrderOnTheirChannels() throws {
        let server = try RedisServer()
        try server.start()
        let script = try LoopScript()
        let redis = client(script, server, channels: ["a", "b", "a"])
        #expect(redis.channels == ["a", "b"])
        var received: [(channel: [UInt8], payload: [UInt8])] = []
        var publishReplies: [RedisReply] = []
        redis.onMessage = { received.append(($0, $1)) }
        var ups = 0
        redis.onUp = { ups += 1 }
        let count = 300
        func payload(_ index: Int) -> [UInt8] { [UInt8(index & 0xFF), 0, 0xFF] + bytes("#\(index)") }
        script.step("up", when: { redis.isUp }) {
            for index in 0..<count {
                redis.send([bytes("PUBLISH"), bytes(index % 3 == 0 ? "b" : "a"), payload(index)]) { publishReplies.append($0) }
            }
            redis.send([bytes("PUBLISH"), bytes("not subscribed"), bytes("x")]) { publishReplies.append($0) }
        }
        redis.start()
        script.step("delivered", when: { received.count == count && publishReplies.count == count + 1 }) { redis.close() }
        script.run()
        #expect(ups == 1)
        #expect(received.map(\.payload) == (0..<count).map(payload))
        #expect(received.map { String(decoding: $0.channel, as: UTF8.self) } == (0..<count).map { $0 % 3 == 0 ? "b" : "a" })
        #expect(publishReplies == Array(repeating: .integer(1), count: count) + [.integer(0)])
        #expect(redis.counters.messagesReceived == count)
    }

    @Test func logsInWithThePasswordAndSelectsTheDatabase() throws {
        let server = try RedisServer(password: "s3cr3t")
        try server.start()
        let script = try LoopScript()
        let redis = client(script, server, password: "s3cr3t", db: 3, channels: ["c"])
        var info: RedisReply?
        var message: [UInt8]?
        redis.onMessage = { _, payload in message = payload }
        script.step("up", when: { redis.isUp }) {
            redis.send([bytes("CLIENT"), bytes("INFO")]) { info = $0 }
            redis.send([bytes("PUBLISH"), bytes("c"), bytes("hi")], reply: nil)
        }
        redis.start()
        script.step("answers", when: { info != nil && message != nil }) { redis.close() }
        script.run()
        guard case .bulk(let text)? = info else {
            Issue.record("CLIENT INFO: \(String(describing: info))")
            return
        }
        #expect(String(decoding: text, as: UTF8.self).contains(" db=3 "))
        #expect(message == bytes("hi"))
    }

    /// A refused login is a failed attempt like a refused connect: retried, never up.
    @Test func aWrongPasswordNeverComesUp() throws {
        let server = try RedisServer(password: "right")
        try server.start()
        let script = try LoopScript()
        let redis = client(script, server, password: "wrong", channels: ["c"])
        var ups = 0
        redis.onUp = { ups += 1 }
        redis.start()
        script.step("retried", when: { redis.counters.failedAttempts >= 2 }) { redis.close() }
        script.run()
        #expect(ups == 0)
        #expect(!redis.isUp)
    }

    /// A refused connect fails at once (EPOLLERR reaches hiredis; the adapter alone would
    /// leave it hanging until the attempt's 5 s deadline), the client keeps retrying, and
    /// comes up when Redis starts.
    @Test func retriesUntilRedisStarts() throws {
        let server = try RedisServer()
        let script = try LoopScript()
        let redis = client(script, server, channels: ["c"])
        var ups = 0, downs = 0
        redis.onUp = { ups += 1 }
        redis.onDown = { _ in downs += 1 }
        redis.start()
        let started = script.reactor.now
        var refusedQuickly = false
        script.step("three refusals", when: { redis.counters.failedAttempts >= 3 }) {
            refusedQuickly = script.reactor.now - started < 2_000
            try? server.launch()
        }
        script.step("up", when: { redis.isUp }) { redis.close() }
        script.run()
        #expect(refusedQuickly)
        #expect(ups == 1)
        #expect(downs == 0)
        #expect(redis.counters.reconnects == 0)
    }

    /// Redis killed while up: one onDown however many retries fail, the pending command
    /// fails with the reason (once), new commands are refused on a later turn, and when
    /// Redis is back the client is up again with its subscription restored.
    @Test func survivesRedisBeingKilledAndRestarted() throws {
        let server = try RedisServer()
        try server.start()
        let script = try LoopScript()
        let redis = client(script, server, channels: ["news"])
        var ups = 0
        var downs: [String] = []
        var unanswered: [RedisReply] = []
        var refused: [RedisReply] = []
        var refusedInsideSend = false
        var messages: [[UInt8]] = []
        redis.onUp = { ups += 1 }
        redis.onDown = { downs.append($0) }
        redis.onMessage = { _, payload in messages.append(payload) }
        redis.start()
        script.step("up", when: { redis.isUp }) {
            // Dead before the command is even written: it can only fail.
            redis.send([bytes("GET"), bytes("k")]) { unanswered.append($0) }
            server.kill()
        }
        script.step("down", when: { !redis.isUp }) {
            var inside = true
            redis.send([bytes("PING")]) { refused.append($0); refusedInsideSend = inside }
            inside = false
        }
        script.step("retries failed", when: { redis.counters.failedAttempts >= 2 }) { try? server.launch() }
        script.step("up again", when: { redis.isUp }) {
            redis.send([bytes("PUBLISH"), bytes("news"), bytes("back")], reply: nil)
        }
        script.step("message after restart", when: { !messages.isEmpty }) { redis.close() }
        script.run()
        #expect(ups == 2)
        #expect(downs.count == 1)
        #expect(downs.first?.contains("connection lost") == true)
        #expect(unanswered.count == 1)
        #expect(unanswered.first.map { if case .error(let reason) = $0 { reason == downs.first } else { false } } == true)
        #expect(refused == [.error("not connected")])
        #expect(!refusedInsideSend)
        #expect(messages == [bytes("back")])
        #expect(redis.counters.reconnects == 1)
    }

    /// A Redis that stops answering (SIGSTOP) while TCP stays up is dropped by the PING
    /// watchdog, and the client comes back once it answers again.
    @Test func aSilentRedisIsDroppedByThePingWatchdog() throws {
        let server = try RedisServer()
        try server.start()
        let script = try LoopScript()
        let timing = RedisTiming(connectTimeoutMs: 500, pingIntervalMs: 50, pingTimeoutMs: 300)
        let redis = client(script, server, channels: ["c"], timing: timing)
        var downs: [String] = []
        redis.onDown = { downs.append($0) }
        redis.start()
        script.step("up", when: { redis.isUp && redis.roundTripMs != nil }) { server.signal(SIGSTOP) }
        script.step("down", when: { !redis.isUp }) {}
        script.step("attempts time out", when: { redis.counters.failedAttempts >= 1 }) { server.signal(SIGCONT) }
        script.step("up again", when: { redis.isUp }) { redis.close() }
        script.run()
        #expect(downs.count == 1)
        #expect(downs.first?.hasPrefix("no answer to PING") == true)
    }

    /// close() answers what is pending before it returns, calls nothing afterwards, and
    /// the loop still closes with no handle left.
    @Test func closeAnswersPendingCommandsAndTheLoopClosesCleanly() throws {
        let server = try RedisServer()
        try server.start()
        let script = try LoopScript()
        let redis = client(script, server, channels: ["c"])
        var unanswered: [RedisReply] = []
        var afterClose = 0
        redis.start()
        script.step("up", when: { redis.isUp }) {
            // Stopped: the command is written but never answered.
            server.signal(SIGSTOP)
            redis.send([bytes("GET"), bytes("k")]) { unanswered.append($0) }
            redis.send([bytes("PING")], reply: nil)
        }
        script.step("sent", when: { redis.counters.commandsSent == 2 }) {
            redis.close()
            #expect(unanswered == [.error("closed")])
            redis.close()
            redis.send([bytes("PING")]) { _ in afterClose += 1 }
            redis.start()
        }
        script.run()
        #expect(unanswered == [.error("closed")])
        #expect(afterClose == 0)
        #expect(!redis.isUp)
    }

    /// The reactor's stop() closes a client that is still up (or still retrying).
    @Test func stoppingTheReactorClosesItsClients() throws {
        let server = try RedisServer()
        try server.start()
        let script = try LoopScript()
        let up = client(script, server, channels: ["c"])
        let retrying = RedisClient(reactor: script.reactor, endpoint: RedisEndpoint(host: "127.0.0.1", port: try freePort()),
                                   channels: [], logger: testLogger())
        var pending: [RedisReply] = []
        up.start()
        retrying.start()
        script.step("up", when: { up.isUp }) {
            server.signal(SIGSTOP)
            up.send([bytes("GET"), bytes("k")]) { pending.append($0) }
            retrying.send([bytes("PING")]) { pending.append($0) }
        }
        script.step("sent", when: { up.counters.commandsSent == 1 }) { script.reactor.stop() }
        script.run()
        #expect(pending.count == 2)
        #expect(pending.contains(.error("closed")))
        #expect(pending.contains(.error("not connected")))
        #expect(!up.isUp)
    }

    /// Commands sent before start() are refused on a later loop turn, not inside send().
    @Test func aClientThatIsNotUpAnswersOnALaterTurn() throws {
        let script = try LoopScript()
        let redis = RedisClient(reactor: script.reactor, endpoint: RedisEndpoint(host: "127.0.0.1", port: try freePort()),
                                channels: [], logger: testLogger())
        var answers: [RedisReply] = []
        redis.send([bytes("PING")]) { answers.append($0) }
        redis.send([bytes("PING")]) { answers.append($0) }
        #expect(answers.isEmpty)
        script.step("answered", when: { answers.count == 2 })
        script.run()
        #expect(answers == [.error("not connected"), .error("not connected")])
    }

    /// A host name is resolved off the loop thread before connecting.
    @Test func aHostNameIsResolved() throws {
        let server = try RedisServer()
        try server.start()
        let script = try LoopScript()
        let redis = RedisClient(reactor: script.reactor, endpoint: RedisEndpoint(host: "localhost", port: server.port),
                                channels: ["c"], logger: testLogger())
        redis.start()
        // localhost may resolve to ::1 first, where this server does not listen: attempts rotate.
        script.step("up", when: { redis.isUp }) { redis.close() }
        script.run()
        #expect(script.reactor.ledger.requestsStarted > 0)
    }
}
