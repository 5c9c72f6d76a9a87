"""Configuration precedence: defaults < file < environment < flags (issue 2)."""

import subprocess

from confabtest.paths import confab_binary


def history_texts_after(srv, n):
    a = srv.client()
    for i in range(n):
        a.say(f"c{i}")
        a.expect("message", text=f"c{i}")
    return [m["text"] for m in srv.client().history["messages"]]


def test_file_overrides_default(server_factory):
    srv = server_factory("chat:\n  historySize: 2\n")
    assert history_texts_after(srv, 4) == ["c2", "c3"]


def test_environment_overrides_file(server_factory):
    srv = server_factory("chat:\n  historySize: 5\n", env={"CONFAB_CHAT_HISTORY_SIZE": "2"})
    assert history_texts_after(srv, 4) == ["c2", "c3"]


def test_flag_overrides_environment_port(server_factory):
    # PORT=1 would be refused (privileged) or taken; the --port 0 flag must win.
    srv = server_factory(env={"PORT": "1"})
    assert srv.port not in (0, 1)


def test_flag_overrides_file_port(server_factory):
    srv = server_factory("server:\n  port: 1\n")
    assert srv.port not in (0, 1)


def test_environment_max_message_bytes_reaches_welcome(server_factory):
    srv = server_factory(env={"CONFAB_CHAT_MAX_MESSAGE_BYTES": "123"})
    assert srv.client().welcome["limits"]["maxMessageBytes"] == 123


def test_bad_cluster_redis_url_exits_78_naming_the_key_without_its_password():
    result = subprocess.run(
        [confab_binary(), "serve", "--port", "0"],
        env={"PATH": "/usr/bin:/bin", "CONFAB_CLUSTER_REDIS": "redis://:hunter2@127.0.0.1:0"},
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 78
    assert "CONFAB_CLUSTER_REDIS" in result.stderr
    assert "the port must be 1 to 65535" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
