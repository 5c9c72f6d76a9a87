"""`confab chat` through pipes and `confab load` smoke runs, against the real binary.

The chat client is driven exactly as a script would: lines written to its stdin, its
stdout read line by line. Every wait is on an output line, an exit or a socket event, with
a deadline; nothing sleeps for synchronisation.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time

import pytest

from confabtest.chat import changes_in, has_change
from confabtest.chatprocess import ChatProcess
from confabtest.paths import confab_binary
from confabtest.proxy import TCPProxy
from confabtest.redis import RedisServer
from confabtest.waiting import poll_until

# A server that lets the load generator send as fast as it likes.
LOAD_CONFIG = "chat:\n  historySize: 50\n  rate:\n    perSecond: 100000\n    burst: 100000\nlog:\n  level: info\n"


@pytest.fixture
def chat(server):
    started: list[ChatProcess] = []

    def start(*args: str, url: str | None = None) -> ChatProcess:
        process = ChatProcess(url or server.ws_url(), *args)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


def test_two_terminal_clients_see_each_other(server, chat):
    alice = chat("--name", "Alice")
    alice.wait_line(r"^-- Welcome to .*, Alice! You are in lobby\.")
    bob = chat("--name", "Bob")
    bob.wait_line(r"^-- In lobby \(2\): ")
    alice.wait_line(r"^\[lobby\] -- Bob joined$")
    bob.say("hi from bob")
    alice.wait_line(r"^\d\d:\d\d:\d\d \[lobby\] Bob: hi from bob$")
    bob.wait_line(r"\[lobby\] Bob: hi from bob$")  # the sender sees its own message too
    alice.say("héllo bob")
    bob.wait_line(r"\[lobby\] Alice: héllo bob$")
    alice.say("/quit")
    assert alice.wait_exit() == 0
    bob.wait_line(r"^\[lobby\] -- Alice left$")  # /quit is a goodbye (1000): no grace period
    bob.end_input()
    assert bob.wait_exit() == 0


def test_join_isolates_rooms(server, chat):
    alice = chat("--name", "Alice")
    alice.wait_line(r"^-- Welcome")
    bob = chat("--name", "Bob")
    bob.wait_line(r"^-- Welcome")
    alice.say("/join dev")
    alice.wait_line(r"^-- You joined dev\.$")
    alice.wait_line(r"^-- In dev \(1\): Alice$")
    bob.say("only for the lobby")
    bob.wait_line(r"Bob: only for the lobby$")
    bob.say("/join dev")
    bob.say("for dev")
    # Alice sees Bob join dev and his dev line, both as dev lines. Their order is not asserted
    # here: presence goes out at the end of the server's loop turn, so a message read in the
    # same turn may come first (see test_crowds.py, test_a_joiners_message_follows_their_join).
    seen = {alice.wait_line(r"^\[dev\] -- Bob joined$|\[dev\] Bob: for dev$") for _ in range(2)}
    assert {line.split("] ", 1)[-1] for line in seen} == {"-- Bob joined", "Bob: for dev"}, alice.lines
    # Bob's lobby line was sent before his dev line; Alice (still a member of the lobby,
    # though dev is current) sees it as a lobby line, never as a dev one.
    assert not any("[dev] Bob: only for the lobby" in line for line in alice.lines)
    alice.say("/leave lobby")
    alice.wait_line(r"^-- You left lobby; now in dev\.$")
    bob.say("/join lobby")
    bob.wait_line(r"^-- You joined lobby\.$")
    bob.say("lobby again")
    bob.wait_line(r"\[lobby\] Bob: lobby again$")
    bob.say("/join dev")  # dev current again for Bob
    bob.say("dev again")
    alice_line = alice.wait_line(r"Bob: (lobby again|dev again)$")
    assert alice_line.endswith("[dev] Bob: dev again"), alice.lines
    alice.end_input()
    bob.end_input()
    assert alice.wait_exit() == 0 and bob.wait_exit() == 0


def test_piped_script_sends_everything_and_exits_zero(server):
    watcher = server.client()
    script = "hello\n/join dev\nin dev\n/me waves\n/nope\n/quit\nnever sent\n"
    result = subprocess.run([confab_binary(), "chat", server.ws_url(), "--name", "Scripted"],
                            input=script.encode(), capture_output=True, timeout=30, env={"NO_COLOR": "1", "TZ": "UTC"})
    out = result.stdout.decode()
    assert result.returncode == 0, (out, result.stderr)
    assert re.search(r"^-- Welcome to .*, Scripted!", out, re.M), out
    assert re.search(r"\[lobby\] Scripted: hello$", out, re.M), out
    assert "-- You joined dev." in out
    assert re.search(r"\[dev\] Scripted: in dev$", out, re.M), out
    assert re.search(r"\[dev\] \* Scripted waves$", out, re.M), out
    assert re.search(r"^!! .*\(unknown_command\)$", out, re.M), out
    assert "never sent" not in out
    assert "\x1b[" not in out, "no colour or prompt when stdout is a pipe"
    watcher.expect("message", text="hello")
    leave = watcher.expect_change("leave")
    assert leave["user"]["name"] == "Scripted"


def test_end_of_input_waits_for_the_last_messages(server):
    watcher = server.client()
    lines = [f"line {i}" for i in range(15)]
    result = subprocess.run([confab_binary(), "chat", server.ws_url()], input=("\n".join(lines) + "\n").encode(),
                            capture_output=True, timeout=30, env={"NO_COLOR": "1"})
    assert result.returncode == 0, result
    got = [watcher.expect("message")["text"] for _ in lines]
    assert got == lines
    out = result.stdout.decode()
    assert all(re.search(rf": {re.escape(line)}$", out, re.M) for line in lines), out


def test_room_option_joins_after_welcome(server, chat):
    c = chat("--room", "dev")
    c.wait_line(r"^-- You joined dev\.$")
    c.say("here")
    c.wait_line(r"\[dev\] .*: here$")
    c.end_input()
    assert c.wait_exit() == 0


def test_history_is_shown_once(server, chat):
    w = server.client()
    w.say("older")
    w.expect("message", text="older")
    c = chat()
    c.wait_line(r"\] .*: older$")
    c.say("/join lobby")  # joining the current room again replays its history
    c.wait_line(r"^-- You joined lobby\.$")
    c.say("marker")
    c.wait_line(r": marker$")
    assert sum(1 for line in c.lines if line.endswith(": older")) == 1, c.lines
    c.end_input()
    assert c.wait_exit() == 0


def test_connection_refused_exits_one_and_says_why():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = subprocess.run([confab_binary(), "chat", f"ws://127.0.0.1:{port}/ws"], input=b"hi\n",
                            capture_output=True, timeout=30)
    assert result.returncode == 1
    assert b"cannot connect" in result.stderr and b"refused" in result.stderr.lower(), result.stderr


def test_usage_errors_exit_64():
    assert subprocess.run([confab_binary(), "chat"], capture_output=True, timeout=30).returncode == 64
    bad = subprocess.run([confab_binary(), "chat", "wss://example.org/ws"], capture_output=True, timeout=30)
    assert bad.returncode == 64 and b"ws://" in bad.stderr
    assert subprocess.run([confab_binary(), "load", "ws://127.0.0.1:1/ws", "--rooms", "5", "--clients", "2"],
                          capture_output=True, timeout=30).returncode == 64


# --------------------------------------------------------------------------
# Reconnect and resume through a proxy the test can cut
# --------------------------------------------------------------------------

def test_reconnects_and_resumes_without_showing_a_message_twice(server, chat):
    proxy = TCPProxy(server.port)
    try:
        watcher = server.client()
        alice = chat("--name", "Alice", url=f"ws://127.0.0.1:{proxy.port}{server.ws_path}")
        alice.wait_line(r"^-- Welcome to .*, Alice!")
        watcher.expect_change("join")
        alice.say("before the cut")
        alice.wait_line(r"Alice: before the cut$")
        proxy.cut(refuse=False, reset=False)  # a FIN both ways; reconnecting works at once
        alice.wait_line(r"^-- connection lost .*; reconnecting in [\d.]+ s$")
        watcher.say("while you were away")
        watcher.expect("message", text="while you were away")
        proxy.wait_accepted(2, timeout=15)
        alice.wait_line(r"^-- Welcome to .*, Alice! .*\(session resumed\)", timeout=15)
        alice.wait_line(r"\] .*: while you were away$")
        alice.say("after the resume")
        alice.wait_line(r"Alice: after the resume$")
        watcher.expect("message", text="after the resume")
        for text in ("before the cut", "while you were away"):
            assert sum(1 for line in alice.lines if line.endswith(": " + text)) == 1, alice.lines
        alice.end_input()
        assert alice.wait_exit() == 0
        # Nobody saw Alice leave during the drop: the first leave is her goodbye.
        msg, skipped = watcher.recv_until(has_change("leave"))
        assert [c["user"]["name"] for c in changes_in([msg], "leave")] == ["Alice"]
        assert not changes_in(skipped + [msg], "join"), skipped
    finally:
        proxy.close()


# --------------------------------------------------------------------------
# confab load
# --------------------------------------------------------------------------

def run_load(url: str, *args: str, timeout: float = 90) -> dict:
    # The drain ends as soon as every delivery is in; its deadline is for a loaded machine.
    drain = () if "--drain" in args else ("--drain", "30")
    result = subprocess.run([confab_binary(), "load", url, "--json", *drain, *args], capture_output=True,
                            timeout=timeout)
    assert result.returncode == 0, result
    lines = result.stdout.decode().strip().splitlines()
    assert len(lines) == 1, result.stdout
    return json.loads(lines[0])


def test_load_smoke_numbers_are_consistent(server_factory):
    srv = server_factory(LOAD_CONFIG)
    senders, rate, duration = 3, 20, 3.0
    report = run_load(srv.ws_url(), "--clients", "12", "--rooms", "3", "--senders", str(senders), "--rate", str(rate),
                      "--duration", str(duration), "--warmup", "0.3")
    conns, msgs, dels = report["connections"], report["messages"], report["deliveries"]
    assert conns["made"] == 12 and conns["failed"] == 0 and conns["dropped"] == 0
    assert msgs["sent"] > 0
    # 12 clients over 3 rooms: 4 receivers (the sender included) per message.
    assert dels["expected"] == msgs["sent"] * 4
    assert dels["received"] == dels["expected"] and dels["lost"] == 0 and dels["unmatched"] == 0
    lat = report["latency_ms"]
    assert 0 <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99.9"] <= lat["max"]
    assert lat["max"] < 1000 * report["cpu"]["wall_s"], "a latency longer than the whole run"
    assert report["errors"] == {}
    assert report["cpu"]["user_s"] >= 0 and report["cpu"]["wall_s"] > 0
    # About the requested rate: what falls due is sent, however late a tick (ticks round it a
    # little); only a tick stalled at the very end of the window loses what fell due meanwhile,
    # allowed for here up to a whole second.
    expected = senders * rate * duration
    assert senders * rate * (duration - 1) <= msgs["sent"] <= 1.4 * expected, (msgs["sent"], expected)


def test_load_closed_loop_with_threads(server_factory):
    srv = server_factory(LOAD_CONFIG)
    report = run_load(srv.ws_url(), "--clients", "8", "--senders", "2", "--closed-loop", "--threads", "2",
                      "--duration", "1", "--warmup", "0.2")
    dels = report["deliveries"]
    assert report["threads"] == 2 and report["connections"]["made"] == 8
    assert dels["expected"] == report["messages"]["sent"] * 8
    assert dels["lost"] == 0 and dels["received"] == dels["expected"]


def test_load_churn_counts_cycles(server_factory):
    srv = server_factory(LOAD_CONFIG)
    report = run_load(srv.ws_url(), "--clients", "4", "--churn", "--duration", "1")
    assert report["mode"] == "churn"
    assert report["churn"]["cycles"] > 0 and report["connections"]["failed"] == 0


def load_with_intervals(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([confab_binary(), "load", url, "--json", "--report-every", "1", *args],
                          capture_output=True, timeout=90)


def test_load_report_every_prints_a_line_per_window_and_judges_the_run(server_factory):
    srv = server_factory(LOAD_CONFIG)
    result = load_with_intervals(srv.ws_url(), "--clients", "6", "--rooms", "2", "--senders", "2", "--rate", "10",
                                 "--duration", "2.5", "--warmup", "0.3", "--drain", "30",
                                 "--server-pid", str(srv.proc.pid))
    assert result.returncode == 0, result
    report = json.loads(result.stdout)
    iv = report["intervals"]
    # 2.5 s in 1 s windows: two whole, a half, then the drain.
    assert [w["drain"] for w in iv["windows"]] == [False, False, False, True]
    assert [w["end_s"] for w in iv["windows"][:3]] == [1.0, 2.0, 2.5]
    assert sum(w["sent"] for w in iv["windows"]) == report["messages"]["sent"] > 0
    assert sum(w["delivered"] for w in iv["windows"]) == report["deliveries"]["received"]
    assert iv["messages_settled"] == report["messages"]["sent"] and iv["messages_lost"] == 0
    assert iv["rss_baseline_kib"] > 0 and iv["rss_compared_kib"] and iv["rss_flat"] is True
    assert iv["pass"] is True and iv["problems"] == []
    # With --json the lines go to stderr: the header, then one per window.
    lines = result.stderr.decode().strip().splitlines()
    assert lines[0].split()[:2] == ["window", "s"] and len(lines) == 5, lines
    assert lines[-1].split()[1] == "drain"


def test_load_report_every_counts_refused_messages_as_lost_and_fails(server_factory):
    # About one send a second is let through: the rest are refused, so nobody gets them.
    srv = server_factory("chat:\n  rate:\n    perSecond: 1\n    burst: 1\n    disconnectAfter: 1000\n")
    result = load_with_intervals(srv.ws_url(), "--clients", "2", "--senders", "1", "--rate", "10",
                                 "--duration", "1.5", "--warmup", "0", "--drain", "2")
    assert result.returncode == 3, result
    report = json.loads(result.stdout)
    iv = report["intervals"]
    assert iv["messages_settled"] == report["messages"]["sent"]
    assert 0 < iv["messages_lost"] == report["errors"]["rate_limited"] < iv["messages_settled"]
    assert iv["pass"] is False and iv["problems"] == [f"{iv['messages_lost']} of {iv['messages_settled']} messages lost"]
    assert iv["rss_baseline_kib"] is None, "no --server-pid: memory not read"


def test_load_table_and_help_mention_the_rate_limit(server_factory):
    help_text = subprocess.run([confab_binary(), "load", "--help"], capture_output=True, timeout=30).stdout.decode()
    assert "chat.rate.perSecond" in help_text or "perSecond" in help_text
    srv = server_factory(LOAD_CONFIG)
    result = subprocess.run([confab_binary(), "load", srv.ws_url(), "--clients", "3", "--duration", "0.5",
                             "--warmup", "0"], capture_output=True, timeout=30)
    assert result.returncode == 0, result
    table = result.stdout.decode()
    for label in ("connections", "connect time ms", "messages sent", "deliveries", "latency ms", "load CPU"):
        assert label in table, table
    assert result.stderr == b"", "no progress line when stderr is not a terminal"


# --------------------------------------------------------------------------
# A real terminal (pty): raw mode, prompt with the room, restored on exit
# --------------------------------------------------------------------------

def run_in_pty(server, keys_after_welcome: list, env_extra: dict | None = None, timeout: float = 30,
               args: tuple = ()):
    """Runs `confab chat` on a pty; sends each key chunk once the previous output settled
    on the prompt. Returns (exit code, everything printed, ICANON of the tty after exit)."""
    import os
    import pty
    import select
    import termios

    master, slave = pty.openpty()
    env = {"PATH": "/usr/bin:/bin", "TERM": "xterm", "TZ": "UTC", **(env_extra or {})}
    proc = subprocess.Popen([confab_binary(), "chat", server.ws_url(), "--name", "Tty", *args],
                            stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    out = b""
    deadline = time.monotonic() + timeout

    def read_until(marker: bytes) -> None:
        nonlocal out
        while marker not in re.sub(rb"\x1b\[[0-9;]*[A-Za-z]", b"", out):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {marker!r} in {out!r}"
            ready, _, _ = select.select([master], [], [], remaining)
            if ready:
                try:
                    out += os.read(master, 65536)
                except OSError:
                    raise AssertionError(f"pty closed before {marker!r}: {out!r}")

    try:
        read_until(b"[lobby] > ")
        for keys, marker in keys_after_welcome:
            os.write(master, keys)
            if marker:
                read_until(marker)
        code = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        while True:  # drain what is left
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        canonical = bool(termios.tcgetattr(slave)[3] & termios.ICANON)
        return code, out.decode("utf-8", "replace"), canonical
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        os.close(slave)


def test_terminal_prompt_editing_colour_and_restore(server):
    watcher = server.client()
    keys = [
        (b"typo\x7f\x7f\x7f\x7fh\xc3", b"> h"),         # backspace, then half of an é
        (b"\xa9llo", "h\u00e9llo".encode()),             # the rest of it arrives in the next read
        (b"\r", b"Tty: h\xc3\xa9llo"),                    # Enter sends; the echo comes back
        (b"/join dev\r", b"[dev] > "),                     # the prompt follows the current room
        (b"\x04", None),                                  # Ctrl-D on an empty line leaves
    ]
    code, out, canonical = run_in_pty(server, keys)
    assert code == 0, out
    assert canonical, "the terminal is back in canonical mode after exit"
    assert "\x1b[36m-- Welcome" in out, "system lines are coloured on a terminal"
    assert watcher.expect("message")["text"] == "h\u00e9llo"
    assert watcher.expect_change("leave")["user"]["name"] == "Tty"


def test_terminal_ctrl_c_leaves_and_no_color_is_honoured(server):
    code, out, canonical = run_in_pty(server, [(b"abc\x03", None)], env_extra={"NO_COLOR": "1"})
    assert code == 0 and canonical
    assert "\x1b[36m" not in out and "\x1b[1;31m" not in out


def test_escape_sequences_in_messages_are_neutralised(server, chat):
    c = chat()
    c.wait_line(r"^-- Welcome")
    w = server.client()
    w.say("clear\u001b[2J screen\u0007")
    line = c.wait_line(r": clear")
    assert "\x1b" not in line and "\x07" not in line
    assert line.endswith(": clear\ufffd[2J screen\ufffd"), repr(line)
    c.end_input()
    assert c.wait_exit() == 0


def test_server_shutdown_1012_starts_a_reconnect(server_factory, chat):
    srv = server_factory()
    c = chat(url=srv.ws_url())
    c.wait_line(r"^-- Welcome")
    srv.stop()  # SIGTERM: the server says 1012 (service restart) to everyone
    c.wait_line(r"^-- connection lost \(server closed \(1012 service restart\)\); reconnecting in [\d.]+ s$")
    c.end_input()  # nothing left to send: leave instead of waiting for the server
    assert c.wait_exit() == 0


def test_policy_close_1008_ends_the_client_without_reconnecting(server_factory):
    config = "chat:\n  rate:\n    perSecond: 0.001\n    burst: 1\n    disconnectAfter: 3\n"
    srv = server_factory(config)
    lines = "".join(f"flood {i}\n" for i in range(10))
    result = subprocess.run([confab_binary(), "chat", srv.ws_url()], input=lines.encode(), capture_output=True,
                            timeout=30, env={"NO_COLOR": "1"})
    assert result.returncode == 1, result
    assert b"(rate_limited)" in result.stdout
    assert b"policy violation (1008)" in result.stderr, result.stderr
    assert b"reconnecting" not in result.stdout


def test_tui_draws_a_full_screen_and_restores_the_terminal(server):
    watcher = server.client("name=Watcher")
    keys = [(b"hi tui\r", b"Tty: hi tui"), (b"\x03", None)]
    code, out, canonical = run_in_pty(server, keys, env_extra={"NO_COLOR": "1"}, args=("--tui",))
    assert code == 0 and canonical
    assert out.startswith("\x1b[?1049h"), "enters the alternate screen"
    assert out.rstrip().endswith("\x1b[?1049l"), "leaves it on exit"
    assert "Users (2)" in out and " Watcher" in out
    assert watcher.expect("message")["text"] == "hi tui"


def test_tui_is_ignored_without_a_terminal(server):
    result = subprocess.run([confab_binary(), "chat", server.ws_url(), "--tui"], input=b"plain\n",
                            capture_output=True, timeout=30)
    assert result.returncode == 0 and b"\x1b[" not in result.stdout
    assert re.search(rb": plain$", result.stdout, re.M)


def test_load_without_any_connection_exits_one_at_once():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    # ten minutes of warm-up and of measuring it must not sit out: a minute is plenty to give up
    result = subprocess.run([confab_binary(), "load", f"ws://127.0.0.1:{port}/ws", "--clients", "5", "--json",
                             "--warmup", "600", "--duration", "600"], capture_output=True, timeout=60)
    assert result.returncode == 1
    assert b"no connection could be made" in result.stderr and b"ECONNREFUSED" in result.stderr
    report = json.loads(result.stdout)
    assert report["connections"]["failed"] == 5 and report["connections"]["made"] == 0
    assert time.monotonic() - started < 60, "does not sit out warm-up and duration with nobody connected"


def websocket_opens(server) -> int:
    return server.log_text().count("websocket open")


def test_load_spreads_its_clients_over_several_servers_round_robin(server_factory):
    a, b = server_factory(LOAD_CONFIG), server_factory(LOAD_CONFIG)
    report = run_load(a.ws_url(), b.ws_url(), "--clients", "6", "--senders", "2", "--rate", "10",
                      "--duration", "0.5", "--warmup", "0", "--drain", "0.5")
    assert report["servers"]["count"] == 2 and report["servers"]["connected"] == [3, 3]
    # Each server really had three (the load's own count is not the only witness).
    assert websocket_opens(a) == 3 and websocket_opens(b) == 3
    # Two servers that are not a cluster: each sender's message reaches only its own server's
    # three clients, so half the deliveries the one room would have are missing.
    dels = report["deliveries"]
    assert dels["received"] == dels["expected"] // 2 and dels["received"] > 0
    assert report["servers"]["latency_other_ms"]["max"] == 0
    assert report["servers"]["latency_same_ms"]["max"] > 0


def test_load_over_two_cluster_nodes_counts_cross_node_deliveries(server_factory, tmp_path):
    redis = RedisServer(tmp_path / "redis").start()
    try:
        config = LOAD_CONFIG + f"cluster:\n  redis: {redis.url}\n"
        a, b = server_factory(config), server_factory(config)
        for node in (a, b):
            poll_until(lambda: node.healthz().get("cluster"), lambda v: v == "up", timeout=10)
        report = run_load(a.ws_url(), b.ws_url(), "--clients", "8", "--rooms", "2", "--senders", "2", "--rate", "10",
                          "--duration", "0.5", "--warmup", "0.2")
        # Round robin within each room: each of the two rooms has two members on each node.
        assert report["servers"]["connected"] == [4, 4]
        dels = report["deliveries"]
        assert dels["expected"] == report["messages"]["sent"] * 4
        assert dels["lost"] == 0 and dels["received"] == dels["expected"]
        assert report["servers"]["latency_other_ms"]["max"] > 0 and report["servers"]["latency_same_ms"]["max"] > 0
    finally:
        redis.stop()
