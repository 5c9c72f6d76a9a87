"""The HTTP surface: page, static files, health, refusals, the upgrade handshake."""

import base64
import json
import os
import socket

import pytest

from confabtest.paths import web_file, web_root
from confabtest.rawconn import RawConn
from confabtest.waiting import LOAD_MARGIN, poll_until, server_timeout
from confabtest.websocket import ws_accept


def request(srv, method, path, headers=(), body=b"", close=True):
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{srv.port}"]
    lines += [f"{k}: {v}" for k, v in headers]
    if close:
        lines.append("Connection: close")
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def upgrade_request(srv, path=None, key="dGhlIHNhbXBsZSBub25jZQ==", version="13", extra=()):
    headers = [("Upgrade", "websocket"), ("Connection", "Upgrade")]
    if key is not None:
        headers.append(("Sec-WebSocket-Key", key))
    if version is not None:
        headers.append(("Sec-WebSocket-Version", version))
    headers += list(extra)
    return request(srv, "GET", path or srv.ws_path, headers, close=False)


# -- page and static files -------------------------------------------------------

def test_index_page_is_html_with_csp(shared_server):
    assert web_file("index.html"), f"no index.html in the web root {web_root()} (set CONFAB_WEB_ROOT)"
    resp = shared_server.get("/")
    assert resp.status == 200, resp
    assert resp.header("content-type").split(";")[0].strip().lower() == "text/html", resp
    assert resp.header("content-security-policy"), f"no Content-Security-Policy header: {resp}"
    assert b"<html" in resp.body.lower() or b"<!doctype html" in resp.body.lower(), resp
    index = web_file("index.html")
    if index is not None:
        assert resp.body == index.read_bytes(), "GET / is not the web root's index.html"


@pytest.mark.parametrize("name, mime", [
    ("app.js", "text/javascript"),
    ("style.css", "text/css"),
    ("favicon.svg", "image/svg+xml"),
])
def test_static_files_with_content_type(shared_server, name, mime):
    resp = shared_server.get(f"/static/{name}")
    assert resp.status == 200, resp
    assert resp.header("content-type").split(";")[0].strip().lower() == mime, resp
    assert resp.body, "empty static file"
    local = web_file(name)
    if local is not None:
        assert resp.body == local.read_bytes(), f"/static/{name} differs from {local}"
    assert int(resp.header("content-length")) == len(resp.body), resp


def test_head_index_has_no_body(shared_server):
    with RawConn(shared_server.port) as conn:
        conn.send(request(shared_server, "HEAD", "/"))
        resp = conn.read_response(method="HEAD")
        assert resp.status == 200, resp
        assert resp.header("content-type").split(";")[0].strip().lower() == "text/html", resp
        # Connection: close was asked: whatever comes before EOF must be empty.
        closed = conn.wait_eof(timeout=LOAD_MARGIN)  # at once: well before the 10 s handshake timeout
        assert conn.buf == b"", f"HEAD response carried a body: {conn.buf[:200]!r}"
        assert closed, "server did not close the connection after 'Connection: close'"


def test_keep_alive_two_requests_on_one_socket(shared_server):
    with RawConn(shared_server.port) as conn:
        conn.send(request(shared_server, "GET", "/healthz", close=False))
        first = conn.read_response()
        assert first.status == 200, first
        assert json.loads(first.body)["status"] == "ok"
        conn.send(request(shared_server, "GET", "/static/style.css", close=False))
        second = conn.read_response()
        assert second.status == 200, second
        assert second.header("content-type").split(";")[0].strip() == "text/css"


# -- health --------------------------------------------------------------------

def test_healthz_fields(shared_server):
    resp = shared_server.get("/healthz")
    assert resp.status == 200, resp
    assert resp.header("content-type").split(";")[0].strip().lower() == "application/json", resp
    data = json.loads(resp.body)
    assert data["status"] == "ok"
    assert isinstance(data["version"], str) and data["version"]
    assert data["version"] == shared_server.version
    assert isinstance(data["uptimeSeconds"], (int, float)) and data["uptimeSeconds"] >= 0
    assert isinstance(data["connections"], int) and data["connections"] >= 0
    assert isinstance(data["rooms"], int) and data["rooms"] >= 1


def test_healthz_counts_websocket_connections(server):
    base = server.healthz()["connections"]
    a = server.client()
    poll_until(server.healthz, lambda h: h["connections"] == base + 1)
    b = server.client()
    poll_until(server.healthz, lambda h: h["connections"] == base + 2)
    a.close()
    b.close()
    poll_until(server.healthz, lambda h: h["connections"] == base)


# -- refusals --------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/static/../Package.swift",
    "/static/%2e%2e/Package.swift",
    "/static/%2E%2E%2FPackage.swift",
    "/static/..%2fPackage.swift",
    "/static//etc/passwd",
    "/static/..%2f..%2fetc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/../Package.swift",
    "/static/..\\Package.swift",
    "/static/%00index.html",
])
def test_path_traversal_refused(shared_server, path):
    resp = shared_server.get(path)
    assert resp.status in (400, 404), resp
    assert b"swift-tools-version" not in resp.body, "served Package.swift"
    assert b"root:" not in resp.body, "served /etc/passwd"


def test_unknown_path_is_404(shared_server):
    resp = shared_server.get("/no/such/thing")
    assert resp.status == 404, resp
    resp = shared_server.get("/static/no-such-file.js")
    assert resp.status == 404, resp


def test_post_healthz_is_405(shared_server):
    resp = shared_server.http(request(shared_server, "POST", "/healthz", body=b"{}"))
    assert resp.status == 405, resp


def test_ws_path_without_upgrade_is_426(shared_server):
    resp = shared_server.get(shared_server.ws_path)
    assert resp.status == 426, resp


def test_upgrade_with_version_8_is_426_naming_13(shared_server):
    resp = shared_server.http(upgrade_request(shared_server, version="8"))
    assert resp.status == 426, resp
    assert resp.header("sec-websocket-version") == "13", resp


def test_upgrade_without_key_is_400(shared_server):
    resp = shared_server.http(upgrade_request(shared_server, key=None))
    assert resp.status == 400, resp


def test_malformed_request_line_is_400_and_closed(shared_server):
    with RawConn(shared_server.port) as conn:
        conn.send(b"GARBAGE\r\n\r\n")
        resp = conn.read_response()
        assert resp.status == 400, resp
        assert conn.wait_eof(timeout=LOAD_MARGIN), "connection left open after a malformed request"


def test_oversized_headers_refused(shared_server):
    with RawConn(shared_server.port) as conn:
        big = "x" * (64 * 1024)
        try:
            conn.send(f"GET / HTTP/1.1\r\nHost: a\r\nX-Big: {big}\r\n\r\n".encode())
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused early; the response (if any) is still in the buffer
        resp = conn.read_response()
        assert resp.status in (400, 413, 431), resp


# -- the handshake ---------------------------------------------------------------

def test_rfc6455_handshake_example(shared_server):
    with RawConn(shared_server.port) as conn:
        conn.send(upgrade_request(shared_server, key="dGhlIHNhbXBsZSBub25jZQ=="))
        resp = conn.read_response()
        assert resp.status == 101, resp
        assert resp.header("sec-websocket-accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", resp


def test_handshake_with_own_key(shared_server):
    key = base64.b64encode(os.urandom(16)).decode()
    with RawConn(shared_server.port) as conn:
        conn.send(upgrade_request(shared_server, key=key))
        resp = conn.read_response()
        assert resp.status == 101, resp
        assert resp.header("upgrade").lower() == "websocket", resp
        assert "upgrade" in resp.header("connection").lower(), resp
        assert resp.header("sec-websocket-accept") == ws_accept(key), resp
        # The chat starts right away: the first frame is a text frame (the welcome).
        b0 = conn.read_exact(1)[0]
        assert b0 & 0x0F == 0x1, f"first frame opcode {b0 & 0x0F}"


def test_static_directory_is_not_listed(shared_server):
    for path in ("/static/", "/static", "/static/.", "/static/./"):
        resp = shared_server.get(path)
        assert resp.status in (301, 302, 400, 403, 404), (path, resp)
        assert b"app.js" not in resp.body, f"{path} lists the web root"


def test_query_string_on_static_file(shared_server):
    resp = shared_server.get("/static/app.js?v=123")
    assert resp.status == 200, resp
    assert resp.header("content-type").split(";")[0].strip() == "text/javascript"


def test_request_sent_byte_by_byte(shared_server):
    with RawConn(shared_server.port) as conn:
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for b in request(shared_server, "GET", "/healthz"):
            conn.send(bytes([b]))
        resp = conn.read_response()
        assert resp.status == 200 and json.loads(resp.body)["status"] == "ok", resp


def test_silent_connection_times_out(server_factory):
    srv = server_factory("http:\n  handshakeTimeoutSeconds: 1\n")
    with RawConn(srv.port) as conn:
        conn.send(b"GET / HTTP/1.1\r\nHost: a\r\n")  # never finishes its headers
        assert conn.wait_eof(timeout=server_timeout(1)), "a half-sent request held the connection open"


def test_healthz_counts_rooms(server):
    base = server.healthz()["rooms"]
    a = server.client()
    a.send({"type": "join", "room": "extra"})
    a.expect("joined")
    assert server.healthz()["rooms"] == base + 1
    a.send({"type": "leave", "room": "extra"})
    a.expect("left")
    assert server.healthz()["rooms"] == base


def test_custom_ws_path(server_factory):
    srv = server_factory("server:\n  wsPath: /chat\n")
    assert srv.ws_path == "/chat"
    c = srv.client()
    assert c.welcome["type"] == "welcome"
    assert srv.get("/ws").status == 404


def test_require_name_refuses_upgrade(server_factory):
    srv = server_factory("chat:\n  requireName: true\n")
    for query in ("", "?name=", "?name=%3Cbad%3E"):
        resp = srv.http(upgrade_request(srv, path=srv.ws_path + query))
        assert resp.status == 400, (query, resp)
        assert resp.body, "the 400 must give the reason"
    ok = srv.client("name=Alice")
    assert ok.name == "Alice"
    resp = srv.http(upgrade_request(srv, path=srv.ws_path + "?name=ALICE"))
    assert resp.status == 400, resp


@pytest.mark.parametrize("method, path", [("POST", "/ws"), ("PUT", "/"), ("DELETE", "/healthz"),
                                          ("POST", "/static/app.js")])
def test_other_methods_are_405(shared_server, method, path):
    resp = shared_server.http(request(shared_server, method, path, body=b"x"))
    assert resp.status == 405, resp


def test_pipelined_requests(shared_server):
    with RawConn(shared_server.port) as conn:
        conn.send(request(shared_server, "GET", "/healthz", close=False)
                  + request(shared_server, "GET", "/static/app.js", close=False))
        first, second = conn.read_response(), conn.read_response()
        assert first.status == 200 and json.loads(first.body)["status"] == "ok", first
        assert second.status == 200, second
        assert second.header("content-type").split(";")[0].strip() == "text/javascript"


def test_http_1_0_request(shared_server):
    with RawConn(shared_server.port) as conn:
        conn.send(b"GET /healthz HTTP/1.0\r\n\r\n")
        resp = conn.read_response()
        assert resp.status == 200, resp
        assert conn.wait_eof(timeout=LOAD_MARGIN), "HTTP/1.0 without keep-alive must be closed"
