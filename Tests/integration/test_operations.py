"""Operations: /metrics (Prometheus text), JSON and debug logs, shutdown with a peer
that never answers its 1012."""

from __future__ import annotations

import json
import re
import signal
import socket
import time

from confabtest.paths import REPO_ROOT
from confabtest.probes import metric_value
from confabtest.rawconn import RawConn
from confabtest.waiting import DEFAULT_TIMEOUT, LOAD_MARGIN, poll_until, server_timeout
from confabtest.websocket import WsPeer, status_of_upgrade, ws_close_payload, ws_frame

TEXT, CLOSE = 0x1, 0x8

REQUIRED = [
    "confab_connections", "confab_connections_total", "confab_messages_in_total",
    "confab_messages_out_total", "confab_bytes_in_total", "confab_bytes_out_total", "confab_rooms",
    "confab_slow_consumers_dropped_total", "confab_event_loop_lag_seconds",
]
SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"'
                    r'(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*\})? -?[0-9.eE+-]+|[+-]?Inf|NaN$')


def scrape(srv) -> str:
    resp = srv.get("/metrics")
    assert resp.status == 200, resp
    ctype = resp.header("content-type") or ""
    assert ctype.startswith("text/plain") and "version=0.0.4" in ctype, ctype
    return resp.body.decode()


def value(text: str, name: str, labels: dict[str, str] | None = None) -> float:
    v = metric_value(text, name, labels)
    assert v is not None, f"{name}{labels or ''} missing from /metrics:\n{text}"
    return v


def test_metrics_is_prometheus_text_with_required_names(server):
    text = scrape(server)
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    for name in REQUIRED:
        value(text, name)
        assert name in types, f"no # TYPE line for {name}"
    for name in REQUIRED:
        expected = "counter" if name.endswith("_total") else "gauge"
        assert types[name] == expected, f"{name} is a {types[name]}, expected {expected}"
    for line in text.splitlines():
        assert not line or line.startswith("#") or SAMPLE.match(line), f"not a Prometheus sample: {line!r}"
    assert 0 <= value(text, "confab_event_loop_lag_seconds") < LOAD_MARGIN, "idle server reports a late loop"
    assert value(text, "confab_connections") == 0
    assert value(text, "confab_rooms") == 1  # lobby
    assert value(text, "confab_slow_consumers_dropped_total") == 0


def test_metrics_counts_follow_traffic(server):
    a = server.client("name=Ann")
    b = server.client("name=Bob")
    c = server.client("name=Cyd")
    a.expect_change("join", user={"id": c.id, "name": "Cyd"})
    b.expect_change("join", user={"id": c.id, "name": "Cyd"})
    m0 = scrape(server)
    assert value(m0, "confab_connections") == 3
    assert value(m0, "confab_connections_total") >= 4  # three WebSockets and this scrape's TCP

    a.say("counted once in, three times out")
    for cl in (a, b, c):
        cl.expect("message", text="counted once in, three times out")
    m1 = scrape(server)
    assert value(m1, "confab_messages_in_total") - value(m0, "confab_messages_in_total") == 1
    assert value(m1, "confab_messages_out_total") - value(m0, "confab_messages_out_total") == 3, \
        "a broadcast to three members counts three messages out"
    frame_len = len(json.dumps({"type": "send", "text": "counted once in, three times out"}))
    assert value(m1, "confab_bytes_in_total") - value(m0, "confab_bytes_in_total") >= frame_len
    assert value(m1, "confab_bytes_out_total") - value(m0, "confab_bytes_out_total") >= 3 * frame_len
    assert value(m1, "confab_connections_total") > value(m0, "confab_connections_total")

    a.send({"type": "join", "room": "dev", "id": 1})
    a.expect("joined", room="dev")
    assert value(scrape(server), "confab_rooms") == 2
    b.close()
    c.close()
    poll_until(lambda: value(scrape(server), "confab_connections"), lambda n: n == 1)


def test_metrics_protocol_errors_by_code(server):
    before = metric_value(scrape(server), "confab_protocol_errors_total", {"code": "1002"}) or 0
    with WsPeer(server.port, "/ws") as p:
        p.send(ws_frame(TEXT, b"{}", rsv=4))
        code, _, _ = p.read_close()
        assert code == 1002
    with WsPeer(server.port, "/ws") as p:
        p.send(ws_frame(TEXT, b'"\xff"'))
        code, _, _ = p.read_close()
        assert code == 1007
    text = scrape(server)
    assert value(text, "confab_protocol_errors_total", {"code": "1002"}) == before + 1
    assert value(text, "confab_protocol_errors_total", {"code": "1007"}) >= 1


def test_metrics_handshake_failures_by_status(server):
    assert status_of_upgrade(server, key="dGhlIHNhbXBsZSBub25jZQ==", version="12") == 426
    assert status_of_upgrade(server, key="c2hvcnQ=", version="13") == 400
    text = scrape(server)
    assert value(text, "confab_handshake_failures_total", {"status": "426"}) == 1
    assert value(text, "confab_handshake_failures_total", {"status": "400"}) == 1
    assert metric_value(text, "confab_connections_refused_total", {"reason": "max_connections"}) in (None, 0)


def test_metrics_refusals_by_reason(server_factory):
    srv = server_factory("server:\n  maxConnections: 1\n  allowedOrigins: [https://ok.example]\n")
    with WsPeer(srv.port, "/ws"):
        assert status_of_upgrade(srv, key="dGhlIHNhbXBsZSBub25jZQ==") == 503
        assert status_of_upgrade(srv, key="dGhlIHNhbXBsZSBub25jZQ==",
                                 headers={"Origin": "https://evil.example"}) == 403
        text = scrape(srv)
    assert value(text, "confab_connections_refused_total", {"reason": "max_connections"}) == 1
    assert value(text, "confab_connections_refused_total", {"reason": "origin"}) == 1
    assert value(text, "confab_handshake_failures_total", {"status": "503"}) == 1
    assert value(text, "confab_handshake_failures_total", {"status": "403"}) == 1
    # ... and logged, with the reason.
    lines = _wait_log(srv, lambda line: "refused" in line and "max_connections" in line)
    assert any("refused" in line and "origin" in line for line in lines), lines


def test_metrics_refusals_per_ip(server_factory):
    srv = server_factory("server:\n  maxConnectionsPerIP: 1\n")
    with WsPeer(srv.port, "/ws"):
        assert status_of_upgrade(srv, key="dGhlIHNhbXBsZSBub25jZQ==") == 503
        text = scrape(srv)
    assert value(text, "confab_connections_refused_total", {"reason": "max_connections_per_ip"}) == 1


# -- logs ---------------------------------------------------------------------------------

def _log_lines(srv) -> list[str]:
    return srv.log_path.read_text(errors="strict").splitlines()


def test_json_log_every_line_is_an_object(server_factory):
    srv = server_factory("log:\n  format: json\n  level: debug\ndiagnostics:\n  echoPath: /echo\n")
    a = srv.client("name=Ann")
    a.say("hello json")
    a.expect("message", text="hello json")
    srv.get("/nope")
    srv.http(b"GET /bad header\r\n\r\n")
    # A close reason full of JSON-hostile characters ends up in a log line's metadata.
    with WsPeer(srv.port, "/echo") as p:
        p.send(ws_frame(CLOSE, ws_close_payload(1000, 'q"uote \\ back\nnew\ttab\x01 é😀'.encode())))
        p.read_close()
    with WsPeer(srv.port, "/ws") as p:
        p.send(ws_frame(TEXT, b"x", rsv=1))
        p.read_close()
    a.close()
    srv.signal(signal.SIGTERM)
    assert srv.wait(server_timeout(5)) == 0  # shutdownTimeoutSeconds 5 at the most
    lines = _log_lines(srv)
    assert len(lines) >= 5, lines
    levels = {"trace", "debug", "info", "notice", "warning", "error", "critical"}
    for line in lines:
        obj = json.loads(line)  # raises on any line that is not JSON
        assert isinstance(obj, dict), line
        assert isinstance(obj.get("msg"), str) and obj["msg"], line
        assert obj.get("level") in levels, line
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$", obj.get("ts", "")), line
    assert any(o["level"] == "debug" for o in map(json.loads, lines)), "no debug line at level debug"
    # The line carrying the hostile reason parsed above; it must really be there.
    assert any("uote" in json.dumps(o, ensure_ascii=False) and "tab" in json.dumps(o, ensure_ascii=False)
               for o in map(json.loads, lines)), \
        "the hostile close reason is not in the log"


def _wait_log(srv, pred, timeout=DEFAULT_TIMEOUT) -> list[str]:
    return poll_until(lambda: _log_lines(srv), lambda ls: any(pred(line) for line in ls), timeout=timeout)


def test_debug_level_shows_message_lines_and_info_hides_them(server_factory):
    dbg = server_factory("log:\n  level: debug\n")
    a = dbg.client("name=Dee")
    a.say("debug me")
    a.expect("message", text="debug me")
    lines = _wait_log(dbg, lambda line: "message in lobby from Dee" in line)
    assert any("DEBUG" in line and "message in lobby from Dee" in line for line in lines), lines

    info = server_factory("log:\n  level: info\n")
    b = info.client("name=Ivy")
    b.say("do not debug me")
    b.expect("message", text="do not debug me")
    info.http(b"GET /bad header\r\n\r\n")  # logged at info: the marker after the message
    lines = _wait_log(info, lambda line: "bad request" in line)
    assert not any("DEBUG" in line for line in lines), [l for l in lines if "DEBUG" in l]
    assert not any("message in lobby" in line for line in lines)


# -- shutdown -------------------------------------------------------------------------------

def test_sigterm_exits_within_shutdown_timeout_when_a_peer_never_closes(server_factory):
    srv = server_factory("server:\n  shutdownTimeoutSeconds: 1\nwebsocket:\n  closeTimeoutSeconds: 30\n"
                         "diagnostics:\n  echoPath: /echo\n")
    chat = WsPeer(srv.port, "/ws")
    echo = WsPeer(srv.port, "/echo")
    try:
        echo.send(ws_frame(TEXT, b"ready"))
        echo.read_message()
        t0 = time.monotonic()
        srv.signal(signal.SIGTERM)
        for p in (chat, echo):
            code, _, _ = p.read_close()
            assert code == 1012
        # Neither peer answers nor closes its socket: the shutdown timeout (1 s) ends it, long
        # before the close timeout (30 s) would.
        code = srv.wait(server_timeout(1))
        elapsed = time.monotonic() - t0
        assert code == 0, f"exit code {code} ({elapsed:.2f}s after SIGTERM)"
        assert elapsed <= server_timeout(1), f"exited {elapsed:.2f}s after SIGTERM with shutdownTimeoutSeconds 1"
        assert chat.wait_eof() and echo.wait_eof(), "sockets not closed at exit"
    finally:
        chat.close()
        echo.close()


def test_sigterm_with_a_peer_that_stopped_reading(server_factory):
    """A peer whose receive window is full cannot even be sent its 1012: the deadline still holds."""
    srv = server_factory("server:\n  shutdownTimeoutSeconds: 1\nwebsocket:\n  maxOutboundBytes: 67108864\n"
                         "  maxMessageBytes: 1048576\n  maxFrameBytes: 1048576\n"
                         "diagnostics:\n  echoPath: /echo\n")
    stuck = WsPeer(srv.port, "/echo")
    stuck.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        big = ws_frame(0x2, b"z" * 1_000_000)
        for _ in range(8):  # ~8 MB of echoes the peer never reads
            stuck.send(big)
        poll_until(lambda: value(scrape(srv), "confab_bytes_out_total"), lambda n: n > 7_000_000, timeout=30)
        srv.signal(signal.SIGTERM)
        code = srv.wait(server_timeout(1))
        assert code == 0, f"{code} (None: still running long after shutdownTimeoutSeconds 1)"
    finally:
        stuck.close()


def test_sigterm_keeps_listening_for_health_checks_but_admits_no_one(server_factory):
    """During the drain the listener stays open: health checks learn "draining" (503), new
    WebSockets are refused with 503 (issue 13; it used to stop accepting at once)."""
    srv = server_factory("server:\n  shutdownTimeoutSeconds: 60\n")
    with WsPeer(srv.port, "/ws") as stubborn:  # keeps the process in its drain phase until it answers
        srv.signal(signal.SIGTERM)
        code, _, _ = stubborn.read_close()
        assert code == 1012
        assert srv.proc.poll() is None, "exited although a peer has not answered"
        health = srv.get("/healthz")
        assert health.status == 503 and json.loads(health.body)["status"] == "draining"
        assert status_of_upgrade(srv) == 503
        stubborn.send(ws_frame(CLOSE, ws_close_payload(1012)))
        assert srv.wait(DEFAULT_TIMEOUT) == 0, "the last peer answered: the drain is over"


def test_drain_delay_keeps_users_chatting_while_health_checks_say_draining(server_factory):
    """server.drainDelaySeconds: between SIGTERM and the 1012 closes, /healthz says draining
    and new upgrades are refused, while the users already connected chat on."""
    delay = 2
    srv = server_factory(f"server:\n  drainDelaySeconds: {delay}\n  shutdownTimeoutSeconds: 30\n")
    alice, bob = srv.client("name=alice"), srv.client("name=bob")
    signalled = time.monotonic()
    srv.signal(signal.SIGTERM)
    health = poll_until(lambda: srv.get("/healthz"), lambda r: r.status == 503)
    assert json.loads(health.body)["status"] == "draining"
    assert status_of_upgrade(srv) == 503
    alice.say("still here")
    assert bob.expect("message")["text"] == "still here"  # before the close: it fails without the delay
    for client in (alice, bob):
        code, _ = client.wait_closed(timeout=server_timeout(delay))
        assert code == 1012
    assert time.monotonic() - signalled >= delay, "closed before server.drainDelaySeconds"
    assert srv.wait(server_timeout(5)) == 0
    assert "closing WebSockets with 1012" in srv.log_text()


def test_sigterm_does_not_wait_for_http_connections(server_factory):
    srv = server_factory("server:\n  shutdownTimeoutSeconds: 60\n")
    idle = RawConn(srv.port)
    idle.send(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
    assert idle.read_response().status == 200  # keep-alive, now idle
    half = RawConn(srv.port)
    half.send(b"GET /healthz HTTP/1.1\r\nHost:")  # mid-request
    try:
        srv.signal(signal.SIGTERM)
        # far sooner than the 60 s it would take if it waited on them
        assert srv.wait(server_timeout(0)) == 0, "shutdown waited on plain HTTP connections"
        assert idle.wait_eof() and half.wait_eof()
    finally:
        idle.close()
        half.close()


# -- every documented family moves when it should ------------------------------------------

def documented_metrics() -> dict[str, str]:
    """name → type from the Metrics table of docs/OPERATIONS.md."""
    text = (REPO_ROOT / "docs" / "OPERATIONS.md").read_text()
    table = text[text.index("## Metrics"):text.index("## Logs")]
    out = {}
    for row in table.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1] in ("gauge", "counter"):
            for name in re.findall(r"`(confab_[a-z_]+)(?:\{[a-z_]+\})?`", cells[0]):
                out[name] = cells[1]
    return out


def test_every_documented_family_is_exposed_with_its_type(server_factory):
    """Every family of docs/OPERATIONS.md but the cluster ones (cluster mode only: see
    test_cluster.py) is exposed by a single node, with its documented type, and nothing else is."""
    documented = {n: t for n, t in documented_metrics().items() if not n.startswith("confab_cluster_")}
    assert len(documented) >= 19, documented  # the whole table was read
    srv = server_factory("server:\n  allowedOrigins: [https://ok.example]\n")
    # the labelled families exist once something was counted in them
    assert status_of_upgrade(srv, version="12") == 426
    assert status_of_upgrade(srv, headers={"Origin": "https://evil.example"}) == 403
    assert status_of_upgrade(srv, headers={"X-Forwarded-For": "203.0.113.1"}) == 101  # not a trusted proxy
    with WsPeer(srv.port, "/ws") as p:
        p.send(ws_frame(TEXT, b"{}", rsv=4))
        assert p.read_close()[0] == 1002
    text = scrape(srv)
    exposed = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    assert {n: exposed.get(n) for n in documented} == documented
    assert set(n for n in exposed if n.startswith("confab_")) == set(documented), "undocumented families"


def test_metrics_users_count_sessions_in_their_grace_period(server):
    """confab_users counts chat sessions, grace periods included; confab_connections only
    open ones."""
    def counts():
        text = scrape(server)
        return value(text, "confab_connections"), value(text, "confab_users")

    a, b, c = server.client(), server.client(), server.client()
    assert counts() == (3, 3)
    b.drop()  # unplanned: b's session waits for a resume
    assert poll_until(counts, lambda v: v[0] == 2) == (2, 3)
    c.close(1000)  # goodbye: c's session ends at once
    a.expect_change("leave", user_id=c.id)
    assert poll_until(counts, lambda v: v[0] == 1) == (1, 2)
    server.client(f"resume={b.token}")
    assert counts() == (2, 2)
    a.close(1000)
    poll_until(counts, lambda v: v == (1, 1))


def test_metrics_tcp_connections_and_handshake_timeouts(server_factory):
    """confab_tcp_connections counts every open TCP connection (handshakes included);
    confab_handshake_timeouts_total each one cut for not finishing its request in time."""
    srv = server_factory("http:\n  handshakeTimeoutSeconds: 1\n")
    base = scrape(srv)
    assert value(base, "confab_tcp_connections") == 1  # the scrape itself
    assert value(base, "confab_handshake_timeouts_total") == 0
    silent = [RawConn(srv.port) for _ in range(3)]
    try:
        silent[0].send(b"GET /healthz HTTP/1.1\r\nHost:")  # started, never finished
        poll_until(lambda: value(scrape(srv), "confab_tcp_connections"), lambda n: n == 4)
        for conn in silent:
            assert conn.wait_eof(timeout=server_timeout(1)), "a silent connection outlived the handshake timeout"
        text = scrape(srv)
        assert value(text, "confab_handshake_timeouts_total") == 3
        assert value(text, "confab_tcp_connections") == 1
    finally:
        for conn in silent:
            conn.close()


def test_metrics_frames_out_count_one_frame_per_recipient(server):
    a, b, c = server.client(), server.client(), server.client()
    a.expect_change("join", user_id=c.id)
    b.expect_change("join", user_id=c.id)
    # Two scrapes with nothing in between: what a scrape itself adds (its own response).
    s0 = value(scrape(server), "confab_frames_out_total")
    s1 = value(scrape(server), "confab_frames_out_total")
    a.say("three frames")
    for cl in (a, b, c):
        cl.expect("message", text="three frames")
    s2 = value(scrape(server), "confab_frames_out_total")
    assert s2 - s1 == (s1 - s0) + 3, (s0, s1, s2)


def test_metrics_loop_lag_shows_a_stalled_loop(server):
    """Stopping the process (SIGSTOP) for 2.5 s stalls its loop: the sweep that runs on
    SIGCONT is at least 1.5 s late, which the max gauge keeps and the current one forgets."""
    before = value(scrape(server), "confab_event_loop_lag_max_seconds")
    server.proc.send_signal(signal.SIGSTOP)
    try:
        time.sleep(2.5)  # the stimulus: a loop that cannot run
    finally:
        server.proc.send_signal(signal.SIGCONT)
    text = poll_until(lambda: scrape(server), lambda t: value(t, "confab_event_loop_lag_max_seconds") >= 1.5,
                      timeout=30)
    assert value(text, "confab_event_loop_lag_max_seconds") >= before
    # the next sweeps are on time again; the max remembers
    text = poll_until(lambda: scrape(server), lambda t: value(t, "confab_event_loop_lag_seconds") < 0.5,
                      timeout=30)
    assert value(text, "confab_event_loop_lag_max_seconds") >= 1.5
