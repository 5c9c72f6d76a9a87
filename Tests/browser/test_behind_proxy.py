"""The page behind the nginx of docs/DEPLOY.md (issue 13): served under /chat/ over TLS,
with a server.wsPath other than /ws that nothing in the page or in nginx names, and a
server restart that the people in the page do not have to act on.

nginx runs DEPLOY.md's configuration (`confabtest.nginx`); Chromium trusts its throwaway
certificate by ignoring certificate errors (the integration tests check TLS itself)."""

from __future__ import annotations

import pytest

from browser_harness import LOG_DIR, slug_for
from confabtest.nginx import Nginx, deploy_blocks, fill
from confabtest.server import ConfabServer

WS_PATH = "/live/socket"
CHROME_ARGS = ("--ignore-certificate-errors",)
# While no Confab listens, nginx answers the page's WebSocket attempts with 502.
WS_FAILED = r"WebSocket connection to 'wss://127\.0\.0\.1:\d+/chat/live/socket\?resume=[^']*' failed"


@pytest.fixture
def nginx(tmp_path):
    proxy = Nginx(tmp_path / "nginx")
    yield proxy
    proxy.stop()


@pytest.fixture
def server_config(nginx):
    """DEPLOY.md's Confab config (public origin filled in) with another WebSocket path."""
    _, yaml = deploy_blocks()
    text = fill(yaml, {"PUBLIC_ORIGIN": nginx.origin})
    assert "server:\n" in text
    return text.replace("server:\n", f"server:\n  wsPath: {WS_PATH}\n  name: Confab test\n", 1) + \
        "chat:\n  maxMessageBytes: 120\n  resumeGraceSeconds: 30\nlog:\n  level: debug\n"


def test_the_page_under_a_prefix_with_another_ws_path_survives_a_restart(server, server_config, nginx, browsers,
                                                                         tmp_path, request):
    assert server.ws_path == WS_PATH
    nginx.start(server.port)
    alice = browsers(nginx.url(), "alice", chrome_args=CHROME_ARGS)
    bob = browsers(nginx.url(), "bob", chrome_args=CHROME_ARGS)
    assert alice.js("return location.pathname") == "/chat/"
    # the page found its WebSocket at /chat/live/socket: Confab saw /live/socket, from nginx
    assert f"path={WS_PATH}" in server.log_text()
    a, b = alice.my_name(), bob.my_name()
    alice.wait(lambda: b in alice.users(), "bob listed")
    alice.join("dev")
    alice.wait(lambda: alice.current_room() == "dev", "in dev")
    alice.switch("lobby")
    alice.send("hello from behind nginx")
    bob.wait_message("hello from behind nginx")
    alice.switch("dev")
    alice.send("said in dev before the restart")
    alice.wait_message("said in dev before the restart")
    alice.screenshot("20-desktop-behind-nginx")

    # SIGTERM: 1012 to both pages; a new process on the same port, nginx unchanged
    for page in (alice, bob):
        page.allow_console(WS_FAILED)
        page.record_status()
    server.stop()
    alice.wait_status("reconnecting")
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    second = ConfabServer(second_dir, server_config, port=server.port,
                          log_path=LOG_DIR / f"{slug_for(request)}-second.log").start()
    try:
        for page in (alice, bob):
            page.wait_online(timeout=30)
        # back in its rooms, in the room it was looking at, under its name, with what it saw
        alice.wait(lambda: set(alice.rooms()) == {"lobby", "dev"}, "alice back in lobby and dev")
        assert alice.current_room() == "dev"
        alice.wait(lambda: alice.my_name() == a, "alice's name kept")
        bob.wait(lambda: bob.my_name() == b, "bob's name kept")
        assert "said in dev before the restart" in alice.message_texts()
        assert "the server restarted: new session, back in your rooms" in alice.lines("system")
        # the rooms are really joined again on the new server: dev reaches alice, lobby bob
        bob.join("dev")
        bob.send("welcome back")
        alice.wait_message("welcome back")
        alice.switch("lobby")
        alice.send("lobby after the restart")
        bob.switch("lobby")
        bob.wait_message("lobby after the restart")
        status = alice.record_status()
        assert status[-1] == "online" and "reconnecting" in status, status
        alice.screenshot("21-desktop-behind-nginx-after-restart")
    finally:
        second.stop()
    assert not second.problem, second.problem
