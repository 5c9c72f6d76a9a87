"""SIGHUP reloads the config file (issue 13): what can change while running takes effect
(log level and format, connection limits, the rate, allowed origins, trusted proxies, the
WebSocket and HTTP limits); anything else is logged as needing a restart, by key; a bad
file keeps the running configuration and the log says why."""

from __future__ import annotations

import json
import signal

from confabtest.waiting import poll_until
from confabtest.websocket import upgrade_status

BASE = """\
server:
  maxConnectionsPerIP: 1
  allowedOrigins: [https://old.example]
chat:
  historySize: 50
  rate: {perSecond: 100, burst: 100}
log:
  level: info
"""


def reload_with(srv, yaml: str, marker: str) -> str:
    """Write the new file, send SIGHUP and wait for the log line that answers it; the log
    from the signal on."""
    before = len(srv.log_text())
    srv.config_path.write_text(yaml)
    srv.signal(signal.SIGHUP)
    srv.signalled = False  # SIGHUP is not a stop: the process must still be running at the end
    return poll_until(lambda: srv.log_text()[before:], lambda text: marker in text)


def upgrade(srv, **headers) -> int:
    resp, conn = upgrade_status(srv, headers=headers or None)
    if resp.status != 101:
        conn.close()
    srv.held = getattr(srv, "held", []) + [conn]  # keep admitted WebSockets open
    return resp.status


def test_live_keys_take_effect_and_the_rest_is_named(server_factory):
    srv = server_factory(BASE)
    assert upgrade(srv) == 101
    assert upgrade(srv) == 503, "one connection per IP"
    assert upgrade(srv, Origin="https://new.example") == 403
    assert "DEBUG" not in srv.log_text()
    log = reload_with(srv, BASE.replace("maxConnectionsPerIP: 1", "maxConnectionsPerIP: 3")
                      .replace("https://old.example", "https://new.example")
                      .replace("historySize: 50", "historySize: 7")
                      .replace("level: info", "level: debug")
                      + "websocket:\n  maxFrameBytes: 2048\n", "config reloaded")
    assert "server.maxConnectionsPerIP" in log and "server.allowedOrigins" in log and "log.level" in log
    assert "need a restart" in log and "chat.historySize" in log, log
    # in force at once, for the open connection's neighbours
    assert upgrade(srv, Origin="https://new.example") == 101
    assert upgrade(srv, Origin="https://old.example") == 403
    assert upgrade(srv) == 101
    assert upgrade(srv) == 503, "three per IP now"
    poll_until(srv.log_text, lambda text: " DEBUG " in text)
    # the history size needs a restart: a welcome still says 50
    for conn in srv.held:
        conn.close()
    poll_until(srv.healthz, lambda health: health["connections"] == 0)
    assert srv.client().welcome["limits"]["historySize"] == 50


def test_log_format_switches_to_json(server_factory):
    srv = server_factory(BASE)
    reload_with(srv, BASE + "  format: json\n", "config reloaded")
    srv.get("/healthz")
    srv.client()
    lines = poll_until(lambda: [line for line in srv.log_text().splitlines() if line.startswith("{")],
                       lambda found: any("websocket open" in line for line in found))
    record = json.loads(next(line for line in lines if "websocket open" in line))
    assert record["level"] == "info" and record["msg"] == "websocket open"


def test_a_bad_file_keeps_the_running_config_and_says_why(server_factory):
    srv = server_factory(BASE)
    log = reload_with(srv, BASE.replace("maxConnectionsPerIP: 1", "maxConnectionsPerIP: many"), "config reload failed")
    assert "maxConnectionsPerIP" in log and "confab.yaml:2" in log, log
    assert upgrade(srv) == 101
    assert upgrade(srv) == 503, "the old limit still holds"
    log = reload_with(srv, "server: [unclosed\n", "config reload failed")
    assert "YAML syntax error" in log, log
    assert srv.healthz()["status"] == "ok"
    for conn in srv.held:
        conn.close()


def test_trusted_proxies_reload(server_factory):
    srv = server_factory(BASE)
    assert upgrade(srv, **{"X-Forwarded-For": "203.0.113.1"}) == 101
    assert upgrade(srv, **{"X-Forwarded-For": "203.0.113.2"}) == 503, "untrusted: both are 127.0.0.1"
    reload_with(srv, BASE.replace("server:\n", "server:\n  trustedProxies: [127.0.0.1]\n"), "config reloaded")
    assert upgrade(srv, **{"X-Forwarded-For": "203.0.113.2"}) == 101
    assert upgrade(srv, **{"X-Forwarded-For": "203.0.113.3"}) == 101
    assert upgrade(srv, **{"X-Forwarded-For": "203.0.113.3"}) == 503
    for conn in srv.held:
        conn.close()


def test_account_keys_reload_a_key_file_rotated_in_place(server_factory, tmp_path):
    """The JWT keys are live: a public key file replaced under the same path is read again on
    SIGHUP; tokens of the old key are refused from then on, the new key's admitted."""
    from confabtest import jwt
    old, new = jwt.KeyPair(tmp_path / "old", "ec"), jwt.KeyPair(tmp_path / "new", "ec")
    key_file = tmp_path / "current.pem"
    key_file.write_bytes(old.public_pem.read_bytes())
    yaml = f"auth:\n  mode: required\n  jwt:\n    publicKeyFile: {key_file}\nlog:\n  level: info\n"
    srv = server_factory(yaml)
    for_old, for_new = old.sign(jwt.claims(sub="a")), new.sign(jwt.claims(sub="b"))
    assert upgrade_at(srv, f"/ws?token={for_old}") == 101
    assert upgrade_at(srv, f"/ws?token={for_new}") == 401
    key_file.write_bytes(new.public_pem.read_bytes())
    log = reload_with(srv, yaml, "config reloaded")
    assert "auth.jwt.publicKeyFile" in log, log
    assert upgrade_at(srv, f"/ws?token={for_old}") == 401
    assert upgrade_at(srv, f"/ws?token={for_new}") == 101


def upgrade_at(srv, path: str) -> int:
    resp, conn = upgrade_status(srv, path=path)
    conn.close()
    return resp.status
