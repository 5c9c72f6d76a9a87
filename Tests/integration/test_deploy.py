"""Behind a real reverse proxy (issue 13): Debian's nginx runs the configuration in
docs/DEPLOY.md, and Confab the YAML block next to it, with only the documented placeholders
filled in (ports on 127.0.0.1, a throwaway self-signed certificate, the public origin).

Through the proxy, over TLS (a Python `ssl` client that trusts only that certificate):
the page and its files under /chat/, the WebSocket chat, /healthz and /metrics. The users
connect from distinct loopback addresses (127.0.0.2, 127.0.0.3, …), so nginx sees real,
different client addresses: with `server.trustedProxies` Confab counts each user apart;
without it every user is nginx's 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import socket
import ssl

import pytest
from websockets.sync.client import connect as ws_connect

from confabtest.chat import ChatClient
from confabtest.nginx import Nginx, deploy_blocks, fill, tls_connection
from confabtest.waiting import poll_until
from confabtest.websocket import good_key, upgrade_bytes, ws_accept


def confab_config(nginx: Nginx, *, trusted: bool = True, per_ip: int = 2, origins: str | None = None,
                  header: str | None = None) -> str:
    """DEPLOY.md's YAML with the public origin filled in; a small per-IP limit so it is
    reached with a few users; other variations as asked."""
    _, yaml = deploy_blocks()
    text = fill(yaml, {"PUBLIC_ORIGIN": nginx.origin})
    text = swap(text, "maxConnectionsPerIP: 50", f"maxConnectionsPerIP: {per_ip}")
    if not trusted:
        text = "\n".join(line for line in text.splitlines() if "trustedProxies" not in line) + "\n"
    if origins is not None:
        text = swap(text, f"allowedOrigins: [{nginx.origin}]", f"allowedOrigins: {origins}")
    if header is not None:
        text = swap(text, "forwardedHeader: x-forwarded-for", f"forwardedHeader: {header}")
    return text + "log:\n  level: debug\n"


def swap(text: str, old: str, new: str) -> str:
    assert old in text, f"DEPLOY.md's YAML no longer has {old!r}"
    return text.replace(old, new)


@pytest.fixture
def deployed(server_factory, tmp_path, request):
    """`deployed(**variations)`: a Confab with DEPLOY.md's config and nginx in front of it."""
    proxies: list[Nginx] = []

    def start(**variations):
        nginx = Nginx(tmp_path / f"nginx{len(proxies)}")
        srv = server_factory(confab_config(nginx, **variations))
        proxies.append(nginx)
        nginx.start(srv.port)
        return srv, nginx

    yield start
    for nginx in proxies:
        nginx.stop()
        if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
            print(f"\n----- nginx error log -----\n{nginx.log()}")


def get(nginx: Nginx, path: str, source: str = "127.0.0.1", https: bool = True) -> http.client.HTTPResponse:
    if https:
        conn = http.client.HTTPSConnection("127.0.0.1", nginx.https_port, context=nginx.client_context(),
                                           timeout=5, source_address=(source, 0))
    else:
        conn = http.client.HTTPConnection("127.0.0.1", nginx.http_port, timeout=5, source_address=(source, 0))
    conn.request("GET", path)
    resp = conn.getresponse()
    resp.body = resp.read()
    conn.close()
    return resp


def upgrade(nginx: Nginx, srv, source: str, origin: str | None = None, headers: dict[str, str] | None = None):
    """A WebSocket handshake through nginx from `source`: (status, socket). A 101's socket
    stays open (the caller closes it), so the session keeps its slot."""
    sock = tls_connection(nginx.https_port, nginx.client_context(), source=source)
    key = good_key()
    extra = dict(headers or {})
    extra["Origin"] = origin or nginx.origin
    sock.sendall(upgrade_bytes(nginx.https_port, "/chat" + srv.ws_path, key=key, extra=extra))
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        assert chunk, f"nginx closed before answering: {head!r}"
        head += chunk
    status = int(head.split(b" ", 2)[1])
    if status == 101:
        assert f"Sec-WebSocket-Accept: {ws_accept(key)}".encode() in head, head
    else:
        sock.close()
    return status, sock


def chat_client(nginx: Nginx, srv, name: str, source: str = "127.0.0.1") -> ChatClient:
    """A chat client on wss:// through nginx, with the public Origin, as a browser would be."""
    sock = socket.create_connection(("127.0.0.1", nginx.https_port), timeout=5, source_address=(source, 0))
    ws = ws_connect(nginx.ws_url(srv.ws_path, f"name={name}"), sock=sock, ssl=nginx.client_context(),
                    server_hostname="127.0.0.1", origin=nginx.origin, open_timeout=5, close_timeout=1,
                    compression=None, ping_interval=None, max_size=None, proxy=None)
    ws.__enter__()
    client = ChatClient(ws, srv)
    client.read_intro()
    srv.clients.append(client)
    return client


# -- the page, health and metrics ------------------------------------------------------------

def test_the_page_and_its_files_under_the_prefix(deployed):
    srv, nginx = deployed()
    page = get(nginx, "/chat/")
    assert page.status == 200, page.body
    html = page.body.decode()
    assert f'<meta name="confab-ws-path" content="{srv.ws_path}">' in html
    assert 'src="static/app.js"' in html, "relative: resolves to /chat/static/app.js"
    assert page.getheader("Content-Security-Policy", "").startswith("default-src 'self'")
    script = get(nginx, "/chat/static/app.js")
    assert script.status == 200 and script.getheader("Content-Type").startswith("text/javascript")
    bare = get(nginx, "/chat")
    assert bare.status == 301 and bare.getheader("Location").endswith("/chat/")
    plain = get(nginx, "/chat/", https=False)
    assert plain.status == 301 and plain.getheader("Location").startswith("https://")


def test_healthz_and_metrics_through_the_proxy(deployed):
    srv, nginx = deployed()
    health = get(nginx, "/chat/healthz")
    assert health.status == 200
    assert json.loads(health.body)["status"] == "ok"
    metrics = get(nginx, "/chat/metrics")
    assert metrics.status == 200 and b"confab_connections " in metrics.body
    assert get(nginx, "/chat/metrics", source="127.0.0.2").status == 403, "metrics are for the scraper only"


def test_tls_is_checked(deployed):
    """The client trusts only the throwaway certificate: without it, the handshake fails."""
    _, nginx = deployed()
    with pytest.raises(ssl.SSLCertVerificationError):
        tls_connection(nginx.https_port, ssl.create_default_context())


# -- the WebSocket chat ------------------------------------------------------------------------

def test_websocket_chat_through_the_proxy(deployed):
    srv, nginx = deployed()
    ann = chat_client(nginx, srv, "Ann", source="127.0.0.2")
    bob = chat_client(nginx, srv, "Bob", source="127.0.0.3")
    ann.expect_change("join", user_id=bob.id)
    bob.say("hello through nginx")
    assert ann.expect("message")["text"] == "hello through nginx"
    assert bob.expect("message")["text"] == "hello through nginx"
    # Confab logs the users' own addresses, and the proxy they came through
    log = poll_until(srv.log_text, lambda text: 'peer="127.0.0.3 via 127.0.0.1:' in text)
    assert 'peer="127.0.0.2 via 127.0.0.1:' in log


# -- server.trustedProxies ---------------------------------------------------------------------

@pytest.mark.parametrize("header", ["x-forwarded-for", "forwarded"])
def test_users_behind_a_trusted_proxy_are_counted_apart(deployed, header):
    srv, nginx = deployed(per_ip=2, header=header)
    held = []
    for n in range(2, 8):  # six users, each from an address of their own
        status, sock = upgrade(nginx, srv, source=f"127.0.0.{n}")
        assert status == 101, f"user 127.0.0.{n} refused ({status}): nginx's address is not what counts"
        held.append(sock)
    # the limit still holds per user: a second connection from 127.0.0.2 is fine, a third is not
    status, sock = upgrade(nginx, srv, source="127.0.0.2")
    held.append(sock)
    assert status == 101
    status, sock = upgrade(nginx, srv, source="127.0.0.2")
    assert status == 503
    # what a client writes into the header itself is not believed: it stays left of nginx's hop
    status, sock = upgrade(nginx, srv, source="127.0.0.2",
                           headers={"X-Forwarded-For": "198.51.100.1", "Forwarded": "for=198.51.100.1"})
    assert status == 503, "a spoofed header bought a fresh per-IP budget"
    metrics = get(nginx, "/chat/metrics").body.decode()
    assert 'confab_forwarded_headers_total{result="believed"}' in metrics
    for sock in held:
        sock.close()


def test_without_trusted_proxies_every_user_is_the_proxy(deployed):
    """The problem trustedProxies solves: every user arrives from nginx's address."""
    srv, nginx = deployed(trusted=False, per_ip=2)
    held = [upgrade(nginx, srv, source=f"127.0.0.{n}")[1] for n in (2, 3)]
    status, sock = upgrade(nginx, srv, source="127.0.0.4")
    assert status == 503, "the third user counts against nginx's 127.0.0.1"
    metrics = get(nginx, "/chat/metrics").body.decode()
    assert 'confab_forwarded_headers_total{result="ignored"}' in metrics, "the ignored header shows"
    for s in held:
        s.close()


def test_a_forwarded_header_straight_to_confab_is_ignored(deployed):
    """Confab trusts nginx's address only: a client that reaches Confab itself (from an
    address that is not a trusted proxy) cannot choose its address with a header."""
    srv, _ = deployed(per_ip=1)
    conns = []
    for claimed in ("198.51.100.1", "198.51.100.2"):
        sock = socket.create_connection(("127.0.0.1", srv.port), source_address=("127.0.0.9", 0), timeout=5)
        sock.sendall(upgrade_bytes(srv.port, srv.ws_path, key=good_key(), extra={"X-Forwarded-For": claimed}))
        conns.append((sock, sock.recv(4096)))
    assert conns[0][1].startswith(b"HTTP/1.1 101"), conns[0][1]
    assert conns[1][1].startswith(b"HTTP/1.1 503"), conns[1][1]
    assert b"127.0.0.9" in conns[1][1]
    for sock, _ in conns:
        sock.close()


# -- server.allowedOrigins behind the proxy ------------------------------------------------------

def test_allowed_origins_name_the_public_origin(deployed):
    srv, nginx = deployed()
    status, sock = upgrade(nginx, srv, source="127.0.0.2", origin=nginx.origin)
    assert status == 101, "the browser's Origin is the public https:// one"
    sock.close()
    assert upgrade(nginx, srv, source="127.0.0.3", origin="https://evil.example")[0] == 403
    assert upgrade(nginx, srv, source="127.0.0.3", origin=f"http://127.0.0.1:{srv.port}")[0] == 403, \
        "Confab's own address is not the page's origin"


def test_same_origin_works_behind_the_proxy(deployed):
    """nginx passes the browser's Host on, so Origin and Host agree as they did in the browser."""
    srv, nginx = deployed(origins="same-origin")
    status, sock = upgrade(nginx, srv, source="127.0.0.2", origin=nginx.origin)
    assert status == 101
    sock.close()
    assert upgrade(nginx, srv, source="127.0.0.2", origin="https://evil.example")[0] == 403
