"""Process lifecycle: the listening line, config errors, the SIGTERM drain (issue 13: /healthz
says "draining" at once, the listener stays open for health checks and refuses upgrades with
503, WebSockets are closed with 1012 service restart)."""

import json
import signal
import socket
import subprocess

import pytest

from confabtest.linechat import line_port as line_port_of
from confabtest.paths import confab_binary, web_root
from confabtest.rawconn import RawConn
from confabtest.server import LISTEN_LINE, server_environment
from confabtest.waiting import DEFAULT_TIMEOUT, server_timeout
from confabtest.websocket import FIXED_MASK_KEY, OP_CLOSE, RawWebSocket, status_of_upgrade, ws_close_payload, ws_frame


def test_listening_line(server):
    assert LISTEN_LINE.match(server.listen_line)
    assert server.port > 0
    assert server.ws_path == "/ws"


def test_sigterm_closes_clients_1012_and_exits_0(server):
    a, b = server.client(), server.client()
    a.expect_change("join")
    server.signal(signal.SIGTERM)
    code_a, _ = a.wait_closed()
    code_b, _ = b.wait_closed()
    assert code_a == 1012
    assert code_b == 1012
    exit_code = server.wait(timeout=server_timeout(5))  # shutdownTimeoutSeconds 5 at the most
    assert exit_code == 0, f"exit code {exit_code} (None = still running)"


def test_sigint_also_drains(server):
    a = server.client()
    server.signal(signal.SIGINT)
    code, _ = a.wait_closed()
    assert code == 1012
    assert server.wait(timeout=server_timeout(5)) == 0


def run_serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`confab serve ARGS` on 127.0.0.1 that is expected to stop before listening."""
    return subprocess.run(
        [confab_binary(), "serve", "--host", "127.0.0.1", "--web-root", str(web_root()), *args],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=30, text=True, env=server_environment(env))


def run_with_config(tmp_path, yaml_text, *args: str, env: dict[str, str] | None = None):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml_text)
    return run_serve("--port", "0", "--config", str(cfg), *args, env=env)


def test_unknown_config_key_stops_startup_with_78(tmp_path):
    proc = run_with_config(tmp_path, "chat:\n  historySize: 5\n  histroySize: 10\n")
    assert proc.returncode == 78, proc
    assert "bad.yaml:3: chat.histroySize: unknown key, did you mean chat.historySize?" in proc.stderr, proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize("yaml_text, env, args, where", [
    ("chat:\n  historySize: lots\n", None, (), "bad.yaml:2: chat.historySize"),
    ("", {"CONFAB_CHAT_HISTORY_SIZE": "lots"}, (), "environment CONFAB_CHAT_HISTORY_SIZE"),
    ("", {"CONFAB_CHAT_HISTORYSIZE": "5"}, (), "environment CONFAB_CHAT_HISTORYSIZE: unknown variable"),
    ("", None, ("--log-level", "loud"), "flag --log-level"),
    ("", None, ("--port", "70000"), "flag --port"),  # a well-formed flag with a bad value
    ("websocket:\n  pingIntervalSeconds: 30\n  idleTimeoutSeconds: 30\n", None, (), "websocket.idleTimeoutSeconds"),
])
def test_invalid_configuration_exits_78_naming_the_place(tmp_path, yaml_text, env, args, where):
    proc = run_with_config(tmp_path, yaml_text, *args, env=env)
    assert proc.returncode == 78, proc
    assert where in proc.stderr, proc.stderr
    assert proc.stdout == "", "no listening line"


def test_missing_config_file_exits_78(tmp_path):
    proc = run_serve("--port", "0", "--config", str(tmp_path / "missing.yaml"))
    assert proc.returncode == 78, proc
    assert "missing.yaml: file not found" in proc.stderr, proc.stderr


@pytest.mark.parametrize("args", [("--nope",), ("--port", "abc"), ("--port",), ("extra-argument",)])
def test_bad_flags_exit_64(args):
    proc = run_serve(*args)
    assert proc.returncode == 64, proc
    assert "Usage: confab serve" in proc.stderr, proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize("which", ["http", "line"])
def test_port_in_use_exits_69(tmp_path, which):
    """docs/OPERATIONS.md: 69 cannot listen (address in use)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        if which == "http":
            proc = run_serve("--port", port)
        else:
            proc = run_with_config(tmp_path, f"line:\n  enabled: true\n  port: {port}\n")
    assert proc.returncode == 69, proc
    assert f"127.0.0.1:{port}" in proc.stderr and "EADDRINUSE" in proc.stderr, proc.stderr
    assert proc.stdout == ""


def test_second_sigterm_exits_at_once(server_factory):
    """The first SIGTERM drains (close 1012, wait for the peers' close frames); a second one
    exits at once, with 128+15 as `confab serve --help` documents."""
    srv = server_factory("server:\n  shutdownTimeoutSeconds: 30\n"
                         "websocket:\n  closeTimeoutSeconds: 30\n")
    with RawWebSocket(srv) as ws:   # a peer that never answers the close frame
        ws.read_intro()
        srv.signal(signal.SIGTERM)
        code, _ = ws.read_close()
        assert code == 1012
        assert srv.proc.poll() is None, "the server did not wait for the peer's close frame"
        srv.signal(signal.SIGTERM)
        exit_code = srv.wait(timeout=DEFAULT_TIMEOUT)  # the drain alone would last 30 s
        assert exit_code is not None, "a second SIGTERM did not stop the server at once"
        assert exit_code == 128 + signal.SIGTERM, exit_code


def test_drain_ends_when_peers_answer(server_factory):
    """A peer that answers the 1012 close (echoing its code, as RFC 6455 §5.5.1 says) lets the
    process exit 0 without waiting for timeouts (60 s each here)."""
    server = server_factory("server:\n  shutdownTimeoutSeconds: 60\nwebsocket:\n  closeTimeoutSeconds: 60\n")
    with RawWebSocket(server) as ws:
        ws.read_intro()
        server.signal(signal.SIGTERM)
        code, reason = ws.read_close()
        assert code == 1012, (code, reason)
        assert reason == "service restart"
        ws.send(ws_frame(OP_CLOSE, ws_close_payload(1012), key=FIXED_MASK_KEY))
        assert ws.wait_eof(), "server kept TCP open after the close handshake"
        ws.close()  # the peer's side of TCP ends too
        assert server.wait(timeout=DEFAULT_TIMEOUT) == 0


def test_drain_says_draining_keeps_listening_and_refuses_upgrades(server_factory):
    """While a peer has not answered its 1012, the server is draining: /healthz answers 503
    "draining" at once, the listener still answers health checks, new upgrades get 503; and it
    exits as soon as the last session is gone (idle HTTP connections do not hold it)."""
    srv = server_factory("server:\n  shutdownTimeoutSeconds: 30\nwebsocket:\n  closeTimeoutSeconds: 30\n")
    assert srv.healthz()["status"] == "ok"
    idle_http = RawConn(srv.port)  # a keep-alive connection that never sends a request
    with RawWebSocket(srv) as ws:  # a peer that does not answer the close at once
        ws.read_intro()
        srv.signal(signal.SIGTERM)
        code, _ = ws.read_close()
        assert code == 1012
        health = srv.get("/healthz")
        assert health.status == 503, health
        body = json.loads(health.body)
        assert body["status"] == "draining", body
        assert health.header("cache-control") == "no-store"
        assert srv.get("/metrics").status == 200, "the listener serves HTTP during the drain"
        status = status_of_upgrade(srv)
        assert status == 503, f"an upgrade during the drain got {status}"
        assert srv.proc.poll() is None, "the server did not wait for the peer's close"
        ws.send(ws_frame(OP_CLOSE, ws_close_payload(1012), key=FIXED_MASK_KEY))
        assert ws.wait_eof()
    assert srv.wait(timeout=DEFAULT_TIMEOUT) == 0, "an idle HTTP connection kept the drained server alive"
    idle_http.close()
    assert "draining" in srv.log_text()


def test_line_users_get_a_last_line_and_no_new_line_users_are_taken(server_factory):
    srv = server_factory("line:\n  enabled: true\n  port: 0\nserver:\n  shutdownTimeoutSeconds: 30\n"
                         "websocket:\n  closeTimeoutSeconds: 30\n")
    line_port = line_port_of(srv)
    with RawConn(line_port) as liner, RawWebSocket(srv) as ws:
        liner.read_until(b"\n")  # the name prompt
        ws.read_intro()
        srv.signal(signal.SIGTERM)
        assert b"-- server shutting down" in liner.read_to_eof()
        ws.read_close()
        # the line listener is closed at once; the HTTP one stays for health checks
        refused = False
        try:
            RawConn(line_port, timeout=2).close()
        except OSError:
            refused = True
        assert refused, "the line listener still accepts during the drain"
        assert srv.get("/healthz").status == 503


def test_with_a_shared_port_the_draining_process_stops_accepting(server_factory):
    """With server.reusePort another process serves the same port: the draining one closes its
    listener at once, so the kernel hands every new connection (health checks included) to
    the one that stays."""
    config = "server:\n  reusePort: true\n  shutdownTimeoutSeconds: 30\nwebsocket:\n  closeTimeoutSeconds: 30\n"
    leaving = server_factory(config)
    with RawWebSocket(leaving) as ws:  # keeps the leaving process draining (opened while it is alone)
        ws.read_intro()
        staying = server_factory(config, port=leaving.port)
        leaving.signal(signal.SIGTERM)
        ws.read_close()
        assert leaving.proc.poll() is None
        statuses = [leaving.get("/healthz").status for _ in range(20)]  # leaving.port is staying's too
        assert statuses == [200] * 20, statuses
    assert leaving.wait(timeout=5) == 0
    assert staying.healthz()["status"] == "ok"
