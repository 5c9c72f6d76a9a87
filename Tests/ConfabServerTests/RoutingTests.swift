import ConfabCodec
import ConfabConfig
import ConfabProtocol
import Foundation
import Testing
@testable import ConfabServer

/// A web root with a page, a script and a hidden file, removed when the test ends.
final class WebRoot {
    let path: String
    let page = "<!doctype html><title>Confab test page</title>\n"
    let script = "console.log('confab');\n"

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("confab-web-\(UInt64.random(in: 0 ... .max))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try page.write(toFile: path + "/index.html", atomically: true, encoding: .utf8)
        try script.write(toFile: path + "/app.js", atomically: true, encoding: .utf8)
        try "secret\n".write(toFile: path + "/.env", atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// HTTP routing of a real server: the page and static files, /healthz, /metrics, errors, and
/// which upgrades reach a WebSocket endpoint and which are refused (and with what).
@Suite struct RoutingTests {
    /// One request per connection, answered in full.
    private func get(_ h: ServerHarness, _ requests: [(method: String, target: String)]) -> [RawClient] {
        let clients = requests.map { _ in h.raw() }
        h.step("send \(requests.count) requests") {
            for (client, request) in zip(clients, requests) { client.request(request.method, request.target) }
        }
        h.wait("every answer", until: {
            zip(clients, requests).allSatisfy { $0.responses(bodiless: $1.method == "HEAD" ? [0] : []).count == 1 }
        })
        return clients
    }

    private func answer(_ client: RawClient, head: Bool = false) -> HTTPReply? {
        client.responses(bodiless: head ? [0] : []).first
    }

    @Test func pageAndStaticFiles() throws {
        let root = try WebRoot()
        let h = try ServerHarness { $0.web.root = root.path }
        let clients = get(h, [("GET", "/"), ("GET", "/index.html"), ("GET", "/static/app.js"), ("HEAD", "/"),
                              ("GET", "/static/missing.js"), ("GET", "/static/.env"), ("GET", "/static/%2e%2e/etc/passwd")])
        try h.run()
        let page = try #require(answer(clients[0]))
        #expect(page.status == 200)
        #expect(page.text == root.page)
        #expect(page.headers["content-type"] == "text/html; charset=utf-8")
        #expect(page.headers["content-length"] == "\(root.page.utf8.count)")
        #expect(page.headers["content-security-policy"]?.hasPrefix("default-src 'self'") == true)
        #expect(page.headers["x-content-type-options"] == "nosniff")
        #expect(page.headers["referrer-policy"] == "no-referrer")
        #expect(page.headers["cache-control"] == "no-cache")
        let index = try #require(answer(clients[1]))
        #expect(index.status == 200 && index.text == root.page)
        let script = try #require(answer(clients[2]))
        #expect(script.status == 200)
        #expect(script.text == root.script)
        #expect(script.headers["content-type"] == "text/javascript; charset=utf-8")
        #expect(script.headers["content-security-policy"] == nil)
        #expect(script.headers["x-content-type-options"] == "nosniff")
        // HEAD: the same headers, the length of the body it does not send.
        let head = try #require(answer(clients[3], head: true))
        #expect(head.status == 200)
        #expect(head.headers["content-length"] == "\(root.page.utf8.count)")
        #expect(head.headers["content-type"] == "text/html; charset=utf-8")
        #expect(clients[3].received.count == headLength(clients[3]))
        for client in clients[4...] {
            let missing = try #require(answer(client))
            #expect(missing.status == 404)
            #expect(missing.text == "not found\n")
        }
    }

    /// The page is told the server's WebSocket path (issue 13: a changed `server.wsPath`
    /// silently broke it while it read a hard-coded /ws).
    @Test func thePageIsToldItsWebSocketPath() throws {
        let root = try WebRoot()
        let page = #"<!doctype html><meta name="confab-ws-path" content="/ws"><title>t</title>"#
        try page.write(toFile: root.path + "/index.html", atomically: true, encoding: .utf8)
        let h = try ServerHarness {
            $0.web.root = root.path
            $0.server.wsPath = "/live/socket"
        }
        let clients = get(h, [("GET", "/"), ("GET", "/index.html"), ("HEAD", "/")])
        try h.run()
        let expected = #"<!doctype html><meta name="confab-ws-path" content="/live/socket"><title>t</title>"#
        #expect(answer(clients[0])?.text == expected)
        #expect(answer(clients[1])?.text == expected)
        #expect(answer(clients[2], head: true)?.headers["content-length"] == "\(expected.utf8.count)")
    }

    @Test func chatPageRendering() {
        let page = Array(#"<meta name="confab-ws-path" content="/ws"><p>"#.utf8)
        #expect(String(decoding: ChatPage.render(page, wsPath: "/a\"b<&"), as: UTF8.self)
                == #"<meta name="confab-ws-path" content="/a&quot;b&lt;&amp;"><p>"#)
        let other = Array("<title>no tag</title>".utf8)
        #expect(ChatPage.render(other, wsPath: "/x") == other)
        let unterminated = Array(#"<meta name="confab-ws-path" content="/ws"#.utf8)
        #expect(ChatPage.render(unterminated, wsPath: "/x") == unterminated)
    }

    /// The bytes up to and including the blank line: all a HEAD answer may hold.
    private func headLength(_ client: RawClient) -> Int {
        let terminator: [UInt8] = [13, 10, 13, 10]
        guard let end = client.received.indices.first(where: { client.received[$0...].starts(with: terminator) }) else { return -1 }
        return end + 4
    }

    @Test func healthzReportsStatusVersionAndCounts() throws {
        let h = try ServerHarness()
        let ws = h.raw()
        h.step("upgrade") { ws.upgrade("/ws?name=Ann") }
        h.wait("101", until: { ws.responses().first?.status == 101 })
        let health = get(h, [("GET", "/healthz")])[0]
        try h.run()
        let reply = try #require(answer(health))
        #expect(reply.status == 200)
        #expect(reply.headers["content-type"] == "application/json")
        #expect(reply.headers["cache-control"] == "no-store")
        let body = json(reply.body)
        #expect(body.members.map(\.key) == ["status", "version", "uptimeSeconds", "connections", "rooms"])
        #expect(body.string("status") == "ok")
        #expect(body.string("version") == ConfabVersion.current)
        #expect((0...60).contains(body.int("uptimeSeconds") ?? -1))
        #expect(body.int("connections") == 1)
        #expect(body.int("rooms") == 1)
    }

    @Test func metricsExposeCountersInPrometheusText() throws {
        let h = try ServerHarness { $0.server.maxConnections = 1 }
        let ann = h.raw()
        let refused = h.raw()
        h.step("upgrade Ann") { ann.upgrade("/ws?name=Ann") }
        h.step("Ann's 101", until: { ann.responses().first?.status == 101 }) { refused.upgrade("/ws?name=Ben") }
        h.wait("Ben's 503", until: { refused.responses().first?.status == 503 })
        let metrics = get(h, [("GET", "/metrics")])[0]
        try h.run()
        let reply = try #require(answer(metrics))
        #expect(reply.status == 200)
        #expect(reply.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
        #expect(reply.headers["cache-control"] == "no-store")
        let lines = Set(reply.text.split(separator: "\n").map(String.init))
        for expected in [
            "# TYPE confab_connections gauge", "confab_connections 1.0", "confab_users 1.0", "confab_rooms 1.0",
            "# TYPE confab_connections_refused_total counter", #"confab_connections_refused_total{reason="max_connections"} 1"#,
            #"confab_handshake_failures_total{status="503"} 1"#,
        ] {
            #expect(lines.contains(expected), "missing \(expected) in:\n\(reply.text)")
        }
    }

    @Test func unknownPathsAndMethods() throws {
        let h = try ServerHarness()
        let clients = get(h, [("GET", "/nope"), ("POST", "/"), ("DELETE", "/healthz"), ("POST", "/ws"), ("GET", "/ws")])
        try h.run()
        let notFound = try #require(answer(clients[0]))
        #expect(notFound.status == 404 && notFound.text == "not found\n")
        for client in clients[1...2] {
            let refused = try #require(answer(client))
            #expect(refused.status == 405)
            #expect(refused.headers["allow"] == "GET, HEAD")
        }
        let post = try #require(answer(clients[3]))
        #expect(post.status == 405 && post.headers["allow"] == "GET")
        // The chat path without an upgrade is not a page.
        let plain = try #require(answer(clients[4]))
        #expect(plain.status == 426)
        #expect(plain.headers["upgrade"] == "websocket")
    }

    @Test func keepAliveConnectionAnswersRequestsInOrder() throws {
        let h = try ServerHarness()
        let client = h.raw()
        h.step("two pipelined requests") {
            client.request("GET", "/healthz")
            client.request("GET", "/nope")
        }
        h.wait("two answers", until: { client.responses().count == 2 })
        try h.run()
        #expect(client.responses().map(\.status) == [200, 404])
        #expect(!client.ended)
    }

    @Test func upgradeOnlyOnTheConfiguredPath() throws {
        let h = try ServerHarness { $0.server.wsPath = "/chat" }
        let chat = h.raw()
        let old = h.raw()
        h.step("upgrades") {
            chat.upgrade("/chat?name=Ann")
            old.upgrade("/ws?name=Ben")
        }
        h.wait("answers, and Ann's first messages", until: {
            old.responses().count == 1 && chat.messages.count >= 3
        })
        try h.run()
        let upgraded = try #require(chat.responses().first)
        #expect(upgraded.status == 101)
        #expect(upgraded.headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        let first = chat.messages.prefix(3).map { message -> String in
            guard case .text(let bytes) = message else { return "not text" }
            return json(bytes).string("type") ?? "?"
        }
        #expect(first == ["welcome", "users", "history"])
        let refused = try #require(old.responses().first)
        #expect(refused.status == 404 && refused.text == "not found\n")
        #expect(old.messages.isEmpty)
    }

    @Test func refusedOriginGets403() throws {
        let h = try ServerHarness { $0.server.allowedOrigins = .list(["https://good.example"]) }
        let evil = h.raw()
        let good = h.raw()
        let script = h.raw()
        h.step("upgrades") {
            evil.upgrade("/ws?name=Eve", headers: [("Origin", "https://evil.example")])
            good.upgrade("/ws?name=Gus", headers: [("Origin", "https://good.example")])
            script.upgrade("/ws?name=Sam")
        }
        h.wait("answers", until: { [evil, good, script].allSatisfy { $0.responses().count == 1 } })
        try h.run()
        let refused = try #require(evil.responses().first)
        #expect(refused.status == 403)
        #expect(refused.text == "origin https://evil.example is not allowed\n")
        #expect(refused.headers["content-type"] == "text/plain; charset=utf-8")
        #expect(good.responses().first?.status == 101)
        #expect(script.responses().first?.status == 101)
        #expect(h.server.counters.refused == ["origin": 1])
        #expect(h.server.counters.handshakeFailures == [403: 1])
    }

    @Test func maxConnectionsGets503() throws {
        let h = try ServerHarness { $0.server.maxConnections = 2 }
        let clients = [h.raw(), h.raw(), h.raw()]
        for (index, client) in clients.enumerated() {
            h.step("upgrade \(index)") { client.upgrade("/ws?name=User\(index)") }
            h.wait("answer \(index)", until: { client.responses().count == 1 })
        }
        // The refused connection is closed after its answer.
        h.wait("the refused one closed", until: { clients[2].ended })
        try h.run()
        #expect(clients.map { $0.responses().first?.status } == [101, 101, 503])
        #expect(clients[2].responses().first?.text == "server is at its connection limit; try again later\n")
        #expect(h.server.counters.refused == ["max_connections": 1])
        #expect(!clients[0].ended && !clients[1].ended)
    }

    @Test func nameRequiredGets400() throws {
        let h = try ServerHarness { $0.chat.requireName = true }
        let anonymous = h.raw()
        let named = h.raw()
        let reserved = h.raw()
        h.step("upgrades") {
            anonymous.upgrade("/ws")
            named.upgrade("/ws?name=Ann")
            reserved.upgrade("/ws?name=admin")
        }
        h.wait("answers", until: { [anonymous, named, reserved].allSatisfy { $0.responses().count == 1 } })
        try h.run()
        let refused = try #require(anonymous.responses().first)
        #expect(refused.status == 400)
        #expect(refused.text == "name_required: a name is required: connect with ?name=NAME\n")
        #expect(named.responses().first?.status == 101)
        let invalid = try #require(reserved.responses().first)
        #expect(invalid.status == 400)
        #expect(invalid.text.hasPrefix("invalid_name: "))
        #expect(h.server.counters.handshakeFailures == [400: 2])
    }
}
