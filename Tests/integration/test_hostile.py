"""Hostile HTTP and connection-level clients: oversize and malformed heads, slowloris,
bad handshakes, origins, connection limits, peers that never answer a close, and
running out of file descriptors. Real sockets on 127.0.0.1, every wait with a deadline.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import sys
import time

import pytest

from confabtest.plugin import finish_server
from confabtest.probes import metric_value, proc_cpu_seconds, proc_open_fds
from confabtest.rawconn import RawConn, http_request
from confabtest.server import ConfabServer
from confabtest.waiting import poll_until, server_timeout
from confabtest.websocket import (WsPeer, good_key, status_of_upgrade, upgrade_bytes, upgrade_status,
                                  ws_close_payload, ws_frame)

TEXT, CLOSE, PING = 0x1, 0x8, 0x9


def connection_closed(conn: RawConn, timeout: float = 5.0) -> bool:
    return conn.wait_eof(timeout=timeout)


# -- HTTP heads -------------------------------------------------------------------------

def test_header_block_over_max_header_bytes_is_431_and_closed(server_factory):
    srv = server_factory("http:\n  maxHeaderBytes: 1024\n")
    with RawConn(srv.port) as conn:
        head = "GET /healthz HTTP/1.1\r\nHost: a\r\n" + "".join(f"X-Pad-{i}: {'v' * 40}\r\n" for i in range(40))
        assert 1024 < len(head) < 4096
        conn.send((head + "\r\n").encode())
        resp = conn.read_response()
        assert resp.status == 431, resp
        assert connection_closed(conn), "connection left open after 431"


def test_header_block_just_under_the_limit_is_served(server_factory):
    srv = server_factory("http:\n  maxHeaderBytes: 1024\n")
    head = "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
    head += f"X-Pad: {'v' * (1000 - len(head) - 12)}\r\n\r\n"
    assert len(head) <= 1024
    resp = srv.http(head.encode())
    assert resp.status == 200, resp


def test_unterminated_header_block_over_limit_is_431_without_waiting_for_the_end(server_factory):
    # The head never ends: the server must decide as soon as it passes the limit.
    srv = server_factory("http:\n  maxHeaderBytes: 1024\n  handshakeTimeoutSeconds: 30\n")
    with RawConn(srv.port) as conn:
        conn.send(b"GET / HTTP/1.1\r\nHost: a\r\nX-Endless: " + b"e" * 3000)
        resp = conn.read_response()  # well inside handshakeTimeoutSeconds (30)
        assert resp.status == 431, resp
        assert connection_closed(conn)


def test_request_line_over_limit_is_refused(server_factory):
    srv = server_factory("http:\n  maxHeaderBytes: 1024\n")
    resp = srv.http(f"GET /{'a' * 2000} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
    assert resp.status in (414, 431), resp


@pytest.mark.parametrize("line", [
    b"NoColonHere",
    b": empty-name",
    b"Bad Name: space inside the name",
    b"Space-Before-Colon : x",
    b" obs-fold-continuation",
    b"Bad\x01Name: control character",
])
def test_malformed_header_line_is_400_and_closed(shared_server, line):
    with RawConn(shared_server.port) as conn:
        conn.send(b"GET /healthz HTTP/1.1\r\nHost: a\r\n" + line + b"\r\n\r\n")
        resp = conn.read_response()
        assert resp.status == 400, (line, resp)
        assert connection_closed(conn), f"connection left open after 400 for {line!r}"


@pytest.mark.parametrize("request_line", [
    b"GET /healthz",
    b"GET /healthz HTTP/9.9",
    b"GET  /healthz HTTP/1.1",
    b"GET healthz HTTP/1.1",
    b"\x00\x01\x02 / HTTP/1.1",
])
def test_malformed_request_line_is_4xx_and_closed(shared_server, request_line):
    with RawConn(shared_server.port) as conn:
        conn.send(request_line + b"\r\nHost: a\r\n\r\n")
        resp = conn.read_response()
        assert resp.status in (400, 505), (request_line, resp)
        assert connection_closed(conn)


def test_server_survives_binary_garbage(shared_server):
    with RawConn(shared_server.port) as conn:
        try:
            conn.send(os.urandom(4096) + b"\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert connection_closed(conn), "garbage held the connection open"
    assert shared_server.healthz()["status"] == "ok"


# -- slowloris --------------------------------------------------------------------------

def still_open(conn: RawConn) -> bool:
    """The server has not ended this connection yet (looked at without waiting)."""
    return not conn.wait_eof(timeout=0.001)


def test_slowloris_is_closed_after_handshake_timeout_while_others_are_served(server_factory):
    timeout = 3
    srv = server_factory(f"http:\n  handshakeTimeoutSeconds: {timeout}\n")
    slow = RawConn(srv.port)
    slow.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    started = time.monotonic()
    slow.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    trickle = b"X-Slow: " + b"a" * 60
    closed_after = None
    served_meanwhile = False
    try:
        for i in range(len(trickle)):
            try:
                slow.send(trickle[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                closed_after = time.monotonic() - started
                break
            # One byte every 0.5 s (the stimulus); the wait for EOF has that deadline.
            if connection_closed(slow, timeout=0.5):
                closed_after = time.monotonic() - started
                break
            if i == 1:
                # A normal client connecting while the slow one dribbles is served before the
                # slow one is cut: a loop that waited on the slow one could not do that.
                assert srv.healthz()["status"] == "ok"
                WsPeer(srv.port, "/ws").close()
                served_meanwhile = still_open(slow)
            if time.monotonic() - started > server_timeout(timeout) + 1:
                break
    finally:
        slow.close()
    assert served_meanwhile, "a normal client was not served while the slowloris was still open"
    assert closed_after is not None, "the slowloris connection was never closed"
    assert timeout - 0.5 <= closed_after <= server_timeout(timeout) + 0.5, \
        f"closed after {closed_after:.2f}s with handshakeTimeoutSeconds {timeout}"


def test_slow_but_complete_keepalive_requests_each_get_the_full_timeout(server_factory):
    """The timeout bounds one request, not the connection: a keep-alive client that sends
    a complete request every second stays served past handshakeTimeoutSeconds."""
    srv = server_factory("http:\n  handshakeTimeoutSeconds: 3\n")
    with RawConn(srv.port) as conn:
        for _ in range(5):  # 5 pauses of 0.9 s: well past the 3 s, each well inside it
            conn.send(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
            assert conn.read_response().status == 200
            assert not connection_closed(conn, timeout=0.9)  # the pause between requests


# -- handshake validation ---------------------------------------------------------------

def test_version_12_is_426_naming_13(shared_server):
    resp, conn = upgrade_status(shared_server, version="12")
    try:
        assert resp.status == 426, resp
        assert resp.header("sec-websocket-version") == "13", resp
    finally:
        conn.close()


def test_missing_version_is_426_naming_13(shared_server):
    resp, conn = upgrade_status(shared_server, version=None)
    try:
        assert resp.status in (400, 426), resp
        if resp.status == 426:
            assert resp.header("sec-websocket-version") == "13", resp
    finally:
        conn.close()


@pytest.mark.parametrize("key", [
    base64.b64encode(b"x" * 15).decode(),
    base64.b64encode(b"x" * 17).decode(),
    "not base64 at all!!!!!!!",
    "dGhlIHNhbXBsZSBub25jZQ",  # 16 bytes without padding
    "",
])
def test_invalid_key_is_400(shared_server, key):
    resp, conn = upgrade_status(shared_server, key=key)
    try:
        assert resp.status == 400, (key, resp)
    finally:
        conn.close()


def test_two_keys_are_400(shared_server):
    resp, conn = upgrade_status(shared_server, headers={"Sec-WebSocket-Key": good_key()})
    try:
        assert resp.status == 400, resp
    finally:
        conn.close()


# -- origins ----------------------------------------------------------------------------

def test_allowed_origins_list(server_factory):
    srv = server_factory("server:\n  allowedOrigins: [https://chat.example.com, http://Localhost:3000]\n")
    assert status_of_upgrade(srv, headers={"Origin": "https://evil.example.com"}) == 403
    assert status_of_upgrade(srv, headers={"Origin": "https://chat.example.com.evil.net"}) == 403
    assert status_of_upgrade(srv, headers={"Origin": "http://chat.example.com"}) == 403  # scheme differs
    assert status_of_upgrade(srv, headers={"Origin": "null"}) == 403
    assert status_of_upgrade(srv, headers={"Origin": "https://chat.example.com"}) == 101
    assert status_of_upgrade(srv, headers={"Origin": "HTTPS://CHAT.example.com"}) == 101  # case-insensitive
    assert status_of_upgrade(srv, headers={"Origin": "http://localhost:3000"}) == 101
    assert status_of_upgrade(srv) == 101  # no Origin: not a browser


def test_allowed_origins_list_also_guards_the_echo_endpoint(server_factory):
    srv = server_factory("server:\n  allowedOrigins: [https://chat.example.com]\n"
                         "diagnostics:\n  echoPath: /echo\n")
    assert status_of_upgrade(srv, path="/echo", headers={"Origin": "https://evil.example.com"}) == 403
    assert status_of_upgrade(srv, path="/echo", headers={"Origin": "https://chat.example.com"}) == 101


def test_same_origin(server_factory):
    srv = server_factory("server:\n  allowedOrigins: same-origin\n")
    me = f"127.0.0.1:{srv.port}"
    assert status_of_upgrade(srv, headers={"Origin": f"http://{me}"}) == 101
    assert status_of_upgrade(srv, headers={"Origin": "http://evil.example.com"}) == 403
    assert status_of_upgrade(srv, headers={"Origin": "http://127.0.0.1:1"}) == 403  # other port
    assert status_of_upgrade(srv, headers={"Origin": f"http://{me}.evil.net"}) == 403
    assert status_of_upgrade(srv, headers={"Origin": "null"}) == 403
    assert status_of_upgrade(srv) == 101


# -- connection limits ------------------------------------------------------------------

def test_max_connections_refuses_with_503_and_recovers(server_factory):
    srv = server_factory("server:\n  maxConnections: 3\n")
    peers = [WsPeer(srv.port, "/ws") for _ in range(3)]
    try:
        resp, conn = upgrade_status(srv)
        assert resp.status == 503, resp
        assert connection_closed(conn), "refused upgrade left open"
        conn.close()
        # Plain HTTP is still served (the limit is on WebSockets).
        assert srv.healthz()["connections"] == 3
        # One leaves with a close handshake: a new upgrade succeeds at once.
        peers[0].send(ws_frame(CLOSE, ws_close_payload(1000)))
        peers[0].read_close()
        peers[0].close()
        peers[0] = WsPeer(srv.port, "/ws")
        assert status_of_upgrade(srv) == 503
        # One drops TCP without a close: its slot comes back once the server notices.
        peers[1].close()
        peers[1] = poll_until(lambda: _try_peer(srv), lambda p: p is not None, timeout=30)
    finally:
        for p in peers:
            p.close()


def _try_peer(srv):
    try:
        return WsPeer(srv.port, "/ws")
    except AssertionError:
        return None


def test_max_connections_per_ip_refuses_with_503(server_factory):
    srv = server_factory("server:\n  maxConnectionsPerIP: 2\n")
    a, b = WsPeer(srv.port, "/ws"), WsPeer(srv.port, "/ws")
    try:
        assert status_of_upgrade(srv) == 503
        # Another address is its own bucket (Linux routes all of 127/8 to loopback).
        other = socket.socket()
        try:
            other.bind(("127.0.0.2", 0))
            other.settimeout(5)
            other.connect(("127.0.0.1", srv.port))
            other.sendall(upgrade_bytes(srv.port, "/ws", key=good_key()))
            head = b""
            deadline = time.monotonic() + 5
            while b"\r\n\r\n" not in head and time.monotonic() < deadline:
                chunk = other.recv(4096)
                if not chunk:
                    break
                head += chunk
            assert head.startswith(b"HTTP/1.1 101"), head[:200]
        finally:
            other.close()
        a.send(ws_frame(CLOSE, ws_close_payload(1000)))
        a.read_close()
        a.close()
        a = WsPeer(srv.port, "/ws")
        assert status_of_upgrade(srv) == 503
    finally:
        a.close()
        b.close()


# -- peers that never answer our close --------------------------------------------------

CLOSE_TIMEOUT_CONFIG = ("websocket:\n  closeTimeoutSeconds: 1\n"
                        "diagnostics:\n  echoPath: /echo\n"
                        "chat:\n  rate:\n    perSecond: 1\n    burst: 1\n    disconnectAfter: 2\n")


def test_peer_that_never_answers_protocol_error_close_is_cut(server_factory):
    srv = server_factory(CLOSE_TIMEOUT_CONFIG)
    with WsPeer(srv.port, "/echo") as p:
        p.send(ws_frame(TEXT, b"x", rsv=2))
        code, _, _ = p.read_close()
        assert code == 1002
        # We never send our close; the server must end TCP after closeTimeoutSeconds (1).
        assert p.wait_eof(timeout=server_timeout(1)), "TCP still open long after an unanswered close (timeout 1 s)"


def test_peer_that_never_answers_rate_limit_1008_is_cut(server_factory):
    srv = server_factory(CLOSE_TIMEOUT_CONFIG)
    with WsPeer(srv.port, "/ws") as p:
        msg = json.dumps({"type": "send", "text": "flood"}).encode()
        p.send(b"".join(ws_frame(TEXT, msg) for _ in range(10)))
        code, _, _ = p.read_close()
        assert code == 1008
        assert p.wait_eof(timeout=server_timeout(1)), "TCP still open long after an unanswered 1008 (timeout 1 s)"


def test_peer_that_keeps_pinging_instead_of_closing_is_still_cut(server_factory):
    srv = server_factory(CLOSE_TIMEOUT_CONFIG)
    with WsPeer(srv.port, "/ws") as p:
        # The rate limit closes (1008) a peer whose frames are all valid: after a protocol
        # error any further byte would end the connection at once, which proves nothing here.
        msg = json.dumps({"type": "send", "text": "flood"}).encode()
        p.send(b"".join(ws_frame(TEXT, msg) for _ in range(10)))
        code, _, _ = p.read_close()
        assert code == 1008
        t0 = time.monotonic()
        cut = False
        while time.monotonic() - t0 < server_timeout(1):
            try:
                p.send(ws_frame(PING, b"still here") + ws_frame(TEXT, b"and talking"))
            except (BrokenPipeError, ConnectionResetError):
                cut = True
                break
            if p.wait_eof(timeout=0.3):  # a frame every 0.3 s is the stimulus
                cut = True
                break
        assert cut, "a peer that keeps sending after our close is never cut (close timeout 1 s)"


# -- out of file descriptors -------------------------------------------------------------

class LimitedServer(ConfabServer):
    """confab started with RLIMIT_NOFILE = 64 (set in a tiny exec wrapper: same PID)."""

    def command(self) -> list[str]:
        wrapper = ("import os, resource, sys; resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64)); "
                   "os.execv(sys.argv[1], sys.argv[1:])")
        return [sys.executable, "-c", wrapper, *super().command()]


@pytest.fixture
def fd_limited_server(tmp_path):
    srv = LimitedServer(tmp_path, "http:\n  handshakeTimeoutSeconds: 60\nlog:\n  level: info\n")
    srv.start()
    yield srv
    problem = finish_server(srv, show_logs=True)
    if problem:
        pytest.fail(problem)


def _http_ok(port: int) -> bool:
    try:
        resp = http_request(port, b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", timeout=1)
        return resp.status == 200
    except (OSError, EOFError, TimeoutError, AssertionError):
        return False


def _was_shed(s: socket.socket) -> bool:
    """True when the server has ended this (never used) connection."""
    s.setblocking(False)
    try:
        return s.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
    finally:
        s.setblocking(True)
        s.settimeout(5)


def _metrics_over(conn: RawConn) -> str:
    conn.send(b"GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
    resp = conn.read_response()
    assert resp.status == 200, resp
    return resp.body.decode()


def test_emfile_backs_off_and_recovers(fd_limited_server):
    srv = fd_limited_server
    pid = srv.proc.pid
    with open(f"/proc/{pid}/limits") as f:
        assert any("Max open files" in line and " 64 " in line for line in f), "limit not applied"
    keep = RawConn(srv.port)  # accepted before the flood: our window into the server
    assert "confab_connections" in _metrics_over(keep)
    chat = WsPeer(srv.port, "/ws")  # a chat user connected before the flood
    chat.read_message()  # welcome

    flood: list[socket.socket] = []
    try:
        for _ in range(100):
            s = socket.socket()
            s.settimeout(5)
            s.connect(("127.0.0.1", srv.port))
            flood.append(s)
        # The condition: the server is out of descriptors (all 64 in use) and sheds the
        # connections it cannot take (libuv's reserve-descriptor trick: accept, close).
        poll_until(lambda: proc_open_fds(pid), lambda n: n >= 63, timeout=30)
        shed = poll_until(lambda: sum(_was_shed(s) for s in flood), lambda n: n > 0, timeout=30)
        print(f"server holds {proc_open_fds(pid)} descriptors; {shed} of 100 connections shed")

        cpu_before = proc_cpu_seconds(pid)
        t0 = time.monotonic()
        extra = []
        while time.monotonic() - t0 < 2.0:
            # Keep knocking during the window (stimulus): each is an accept the server cannot take.
            try:
                s = socket.create_connection(("127.0.0.1", srv.port), timeout=1)
                extra.append(s)
            except OSError:
                pass
            time.sleep(0.05)
        cpu_used = proc_cpu_seconds(pid) - cpu_before
        for s in extra:
            s.close()
        assert cpu_used < 0.5, f"server used {cpu_used:.2f}s CPU in 2 s out of descriptors: it spins"
        # Still serving connections it already has: HTTP keep-alive and chat.
        text = _metrics_over(keep)
        chat.send(ws_frame(TEXT, json.dumps({"type": "send", "text": "out of fds", "id": 1}).encode()))
        for _ in range(20):
            if json.loads(chat.read_message()[1]).get("type") == "ack":
                break
        else:
            raise AssertionError("no ack for a chat message while out of descriptors")
        assert srv.proc.poll() is None, "server died out of descriptors"
        # every connection shed is a failed accept (docs/OPERATIONS.md)
        assert metric_value(text, "confab_accept_errors_total") >= shed, text
    finally:
        for s in flood:
            s.close()
    # Descriptors freed: new connections are accepted again.
    poll_until(lambda: _http_ok(srv.port), lambda ok: ok, timeout=10, interval=0.1)
    WsPeer(srv.port, "/ws").close()
    keep.close()
    chat.close()


# -- hostile chat content ----------------------------------------------------------------

def test_history_of_escaped_messages_does_not_lock_newcomers_out(server):
    """Default config. Control characters are legal chat text and go out JSON-escaped as
    \\u00XX (6 bytes each), so 50 maximal messages of them make a `history` frame of
    ~1.2 MB, more than the default websocket.maxOutboundBytes (1 MiB). Whoever joins must
    still get welcome, users and the whole history, not a 'slow consumer' close: the
    history is one frame the server itself decided to send."""
    text = "\x01" * 4096  # chat.maxMessageBytes (default 4096)
    posters = [server.client() for _ in range(3)]  # rate limit is per session: 3 × 17 posts
    sent = 0
    for i, c in enumerate(posters):
        for _ in range(17 if i < 2 else 16):
            c.say(text)
            sent += 1
    assert sent == 50
    last = posters[-1]
    for _ in range(50):
        last.expect("message", text=text, timeout=10)
    try:
        newcomer = WsPeer(server.port, "/ws")
    except (EOFError, AssertionError) as e:
        pytest.fail(f"the newcomer did not even get its 101: {e}")
    try:
        got = []
        for _ in range(10):
            op, data, _ = newcomer.read_message(timeout=10)  # a close 1008 here raises
            msg = json.loads(data)
            got.append(msg["type"])
            if msg["type"] == "history":
                assert len(msg["messages"]) == 50 and all(m["text"] == text for m in msg["messages"])
                break
        assert got[0] == "welcome" and got[-1] == "history", got
    finally:
        newcomer.close()


def test_pipelined_requests_never_read_do_not_grow_memory_without_bound(server):
    """A client pipelines 40,000 small GETs of an 11 KB file (1.8 MB sent) and never reads:
    that asks for ~440 MB of responses. The server must push back (stop reading) or drop
    the connection, not queue every response: its RSS may not grow by 50 MB."""
    from confabtest.probes import proc_rss_bytes
    import select
    pid = server.proc.pid
    rss0 = proc_rss_bytes(pid)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", server.port))
    s.setblocking(False)
    data = b"GET /static/app.js HTTP/1.1\r\nHost: a\r\n\r\n" * 40_000
    view, sent = memoryview(data), 0
    peak = rss0
    limit_mb = 50
    limit = limit_mb * 2**20
    try:
        deadline = time.monotonic() + 4.0
        blocked_since = None
        while time.monotonic() < deadline:
            if sent < len(data):
                try:
                    sent += s.send(view[sent:sent + 65536])
                    blocked_since = None
                except BlockingIOError:
                    blocked_since = blocked_since or time.monotonic()
                    if time.monotonic() - blocked_since > 1.5:
                        break  # the server pushes back and keeps pushing back: fine
                    select.select([], [s], [], 0.1)
                except (BrokenPipeError, ConnectionResetError):
                    break  # the server dropped us: fine
            else:
                time.sleep(0.1)  # sampling interval of the memory probe
            peak = max(peak, proc_rss_bytes(pid))
            if peak - rss0 > limit:
                break
        assert server.healthz()["status"] == "ok", "others are not served meanwhile"
    finally:
        s.close()
    grown = (peak - rss0) / 2**20
    assert grown < limit_mb, (f"server RSS grew by {grown:.0f} MB for one client that never reads "
                         f"({sent} request bytes sent)")


def test_ping_flood_from_a_client_that_never_reads_is_dropped(server):
    """Pongs are owed but never read: the outbound bound (1 MiB) must end it (1008 or a cut),
    with the server's memory bounded and everyone else served."""
    from confabtest.probes import proc_rss_bytes
    import select
    pid = server.proc.pid
    rss0 = proc_rss_bytes(pid)
    other = server.client()
    p = WsPeer(server.port, "/ws")
    ping = ws_frame(PING, b"p" * 125, key=b"\x00\x00\x00\x00")
    batch = ping * 4096  # ~540 KB of pings, ~520 KB of pongs owed
    p.sock.setblocking(False)
    view, sent, dropped = memoryview(batch * 40), 0, False
    deadline = time.monotonic() + 10
    try:
        while time.monotonic() < deadline and sent < len(view):
            try:
                sent += p.sock.send(view[sent:sent + 65536])
            except BlockingIOError:
                select.select([], [p.sock], [], 0.1)
            except (BrokenPipeError, ConnectionResetError):
                dropped = True
                break
        assert proc_rss_bytes(pid) - rss0 < 100 * 2**20
        other.say("still served")
        other.expect("message", text="still served")
        if not dropped:
            # Everything was sent (~20 MB of pongs owed, far beyond what the socket buffers
            # hold): the server must have given up on us and ends TCP once we read again.
            p.sock.setblocking(True)
            assert p.wait_eof(timeout=10), "the flooding peer was never cut"
        m = server.get("/metrics").body.decode()
        assert "confab_slow_consumers_dropped_total 1" in m, m
    finally:
        p.close()


def test_slowloris_on_a_keepalive_connection_after_a_good_request(server_factory):
    srv = server_factory("http:\n  handshakeTimeoutSeconds: 2\n")
    with RawConn(srv.port) as conn:
        conn.send(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        assert conn.read_response().status == 200
        started = time.monotonic()
        conn.send(b"GET /healthz HTTP/1.1\r\n")
        closed = False
        for i in range(int(server_timeout(2) / 0.5) + 2):
            try:
                conn.send(b"X"[:1])
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            if connection_closed(conn, timeout=0.5):  # one byte every 0.5 s
                closed = True
                break
        elapsed = time.monotonic() - started
        assert closed and elapsed <= server_timeout(2) + 0.5, f"second request trickled for {elapsed:.1f}s without a cut"


def test_many_slowloris_connections_do_not_starve_a_normal_client(server_factory):
    timeout = 5
    srv = server_factory(f"http:\n  handshakeTimeoutSeconds: {timeout}\n")
    slow = []
    try:
        started = time.monotonic()
        for _ in range(200):
            c = RawConn(srv.port)
            c.send(b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ")
            slow.append(c)
        client = srv.client()
        client.say("fine")
        client.expect("message", text="fine")
        # served while every slowloris still holds its connection: nobody waited on them
        assert still_open(slow[0]), "the normal client was only served once the slowloris were cut"
        deadline = started + server_timeout(timeout)
        for c in slow:
            assert c.wait_eof(timeout=max(0.01, deadline - time.monotonic())), "a slowloris outlived the timeout"
    finally:
        for c in slow:
            c.close()


def test_answering_a_policy_close_ends_tcp_at_once(server_factory):
    """The other side of the close timeout: a peer that does answer the server's 1008 gets
    TCP ended right away, not after closeTimeoutSeconds (30 here)."""
    srv = server_factory(CLOSE_TIMEOUT_CONFIG.replace("closeTimeoutSeconds: 1", "closeTimeoutSeconds: 30"))
    with WsPeer(srv.port, "/ws") as p:
        msg = json.dumps({"type": "send", "text": "flood"}).encode()
        p.send(b"".join(ws_frame(TEXT, msg) for _ in range(10)))
        code, _, _ = p.read_close()
        assert code == 1008
        p.send(ws_frame(CLOSE, ws_close_payload(1008)))
        assert p.wait_eof(), "TCP not ended after the close handshake completed"


def test_peer_that_keeps_tcp_open_after_the_close_handshake_is_released(server_factory):
    """Close handshake done, server FIN received, but the peer never closes its socket:
    the server must still let go of the connection (close timeout 1 s), not hold it forever."""
    from confabtest.probes import metric_value
    srv = server_factory(CLOSE_TIMEOUT_CONFIG)

    def tcp_connections() -> float | None:
        return metric_value(srv.get("/metrics").body.decode(), "confab_tcp_connections")

    assert tcp_connections() == 1  # the scrape itself
    holders = [WsPeer(srv.port, "/echo") for _ in range(5)]
    try:
        for p in holders:
            p.send(ws_frame(CLOSE, ws_close_payload(1000)))
            assert p.read_close()[0] == 1000
            assert p.wait_eof(), "no FIN after the close handshake"
        # Our sockets stay open (half-closed by the server): the server's side must go.
        poll_until(tcp_connections, lambda n: n == 1, timeout=server_timeout(1))
    finally:
        for p in holders:
            p.close()
