"""The plain-TCP line chat (`line.enabled`): nc/telnet users in the same rooms as
WebSocket users, driven with raw sockets. Every read has a deadline."""

from __future__ import annotations

import re
import signal
import socket
import struct

import pytest

from confabtest.chat import changes_in, has_change, is_message
from confabtest.linechat import LineUser, line_port
from confabtest.probes import metric_value
from confabtest.waiting import poll_until, server_timeout

LINE_CONFIG = "chat:\n  historySize: 50\nline:\n  enabled: true\n  port: 0\nlog:\n  level: debug\n"

# The banner with the line listener: `(WebSocket at /ws, line chat at 127.0.0.1:PORT)`.


@pytest.fixture
def line_server(server_factory):
    srv = server_factory(LINE_CONFIG)
    srv.line_port = line_port(srv)
    return srv


@pytest.fixture
def line_user_of():
    """`line_user_of(server, name=None, rcvbuf=None)`: a line user past the prompt (named, when
    `name` is given); all are closed at teardown."""
    users: list[LineUser] = []

    def connect(srv, name: str | None = None, rcvbuf: int | None = None) -> LineUser:
        user = LineUser(line_port(srv))
        if rcvbuf is not None:
            user.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        users.append(user)
        prompt = user.line()
        assert "What is your name?" in prompt, prompt
        if name is not None:
            user.say(name, end=b"\r\n")
            user.wait_line(rf"^-- Welcome to .*, {re.escape(name)}!")
        return user

    yield connect
    for user in users:
        user.close()


@pytest.fixture
def line_user(line_server, line_user_of):
    return lambda name=None: line_user_of(line_server, name)


def test_banner_names_the_line_port(line_server):
    assert line_server.line_port > 0 and line_server.line_port != line_server.port


def test_name_first_then_chat_with_lf_and_crlf(line_user):
    user = line_user("Liner")
    user.wait_line(r"^-- In lobby \(1\): Liner$")
    user.say("with lf")
    user.wait_line(r"^\d\d:\d\d:\d\d \[lobby\] Liner: with lf$")
    user.say("with crlf", end=b"\r\n")
    text, _ = user.wait_line(r"Liner: with crlf")
    assert text.endswith("Liner: with crlf"), repr(text)


def test_empty_name_gets_a_random_one(line_user):
    user = line_user()
    user.say("")
    text, _ = user.wait_line(r"^-- Welcome to ")
    assert re.search(r"Welcome to .*, [a-z]+-[a-z]+-\d+!", text), text


def test_line_and_websocket_users_share_a_room(line_server, line_user):
    ws = line_server.client("name=Webby")
    user = line_user("Liner")
    joined = ws.expect_change("join")
    assert joined["user"]["name"] == "Liner"
    ws.say("hello line")
    user.wait_line(r"\[lobby\] Webby: hello line$")
    user.say("hello web")
    msg = ws.expect("message", text="hello web")
    assert msg["from"]["name"] == "Liner" and msg["room"] == "lobby"
    user.say("/me waves")
    user.wait_line(r"\[lobby\] \* Liner waves$")
    assert ws.expect("message", text="waves").get("action") is True
    # Commands work from the line chat, and rooms are shared with WebSocket users.
    user.say("/join dev")
    user.wait_line(r"^-- You joined dev\.$")
    ws.send({"type": "join", "room": "dev"})
    ws.expect("joined", room="dev")
    user.wait_line(r"^\[dev\] -- Webby joined$")
    ws.say("in dev", room="dev")
    user.wait_line(r"\[dev\] Webby: in dev$")
    user.say("/users")
    text, _ = user.wait_line(r"^-- In dev \(2\): ")
    assert set(text.split(": ", 1)[1].split(", ")) == {"Liner", "Webby"}
    user.say("/nope")
    user.wait_line(r"^!! .*\(unknown_command\)$")


def test_quit_says_bye_and_others_see_the_leave(line_server, line_user):
    ws = line_server.client()
    user = line_user("Quitter")
    ws.expect_change("join")
    user.say("/quit")
    user.wait_line(r"^-- Bye!$")
    assert user.wait_eof(), "the server closes the connection after /quit"
    leave = ws.expect_change("leave")
    assert leave["user"]["name"] == "Quitter"


def test_long_line_is_refused_and_the_connection_stays_usable(line_user):
    user = line_user("Longer")
    user.say("a" * 9000)
    text, skipped = user.wait_line(r"^!! line longer than")
    assert text == "!! line longer than 8192 bytes; ignored", text
    assert not any("aaaa" in line for line in skipped)
    user.say("still here")
    user.wait_line(r"Longer: still here$")


def test_a_line_without_newline_is_bounded(line_user):
    user = line_user("Endless")
    user.send(b"b" * 20000)  # never a newline
    user.wait_line(r"^!! line longer than 8192 bytes")
    user.say("tail of the long line, then a new one")  # this newline ends the dropped line
    user.say("fresh")
    text, skipped = user.wait_line(r"Endless: ")
    assert text.endswith("Endless: fresh"), (text, skipped)


def test_invalid_utf8_is_refused_and_the_connection_stays_usable(line_user):
    user = line_user("Bytes")
    user.send(b"\xff\xfe\x00junk\n")
    user.wait_line(r"^!! input must be UTF-8 text")
    user.say("ok now")
    user.wait_line(r"Bytes: ok now$")


def test_invalid_utf8_as_name_is_refused(line_user):
    user = line_user()
    user.send(b"\xc3\x28\n")
    user.wait_line(r"^!! input must be UTF-8 text")
    user.say("Named")
    user.wait_line(r"^-- Welcome to .*, Named!")


def test_terminal_client_and_line_user_talk(line_server, line_user):
    from test_cli import ChatProcess

    user = line_user("Liner")
    term = ChatProcess(line_server.ws_url(), "--name", "Term")
    try:
        term.wait_line(r"^-- Welcome")
        user.wait_line(r"^\[lobby\] -- Term joined$")
        user.say("hi term")
        term.wait_line(r"\[lobby\] Liner: hi term$")
        term.say("hi line")
        user.wait_line(r"\[lobby\] Term: hi line$")
        term.end_input()
        assert term.wait_exit() == 0
        user.wait_line(r"^\[lobby\] -- Term left$")
    finally:
        term.kill()


# -- names at the prompt ---------------------------------------------------------------------

def test_a_taken_or_invalid_name_at_the_prompt_is_asked_again(line_server, line_user):
    """At the prompt nothing has started yet: a name that cannot be had is refused with the
    reason, and the prompt asks again; no session (no random name) is made meanwhile."""
    ws = line_server.client("name=Ann")
    user = line_user()
    for name, why in [("ann", "the name ann is taken (name_taken)"),
                      ("bad,name", "(invalid_name)"),
                      ("Admin", "(invalid_name)")]:  # reserved
        user.say(name)
        text = user.line()
        assert text.startswith("!! ") and why in text, text
        assert text.endswith("; another name? (empty line for a random one)"), text
    user.say("Annie")
    user.wait_line(r"^-- Welcome to .*, Annie!")
    ws.say("marker")
    user.wait_line(r"\[lobby\] Ann: marker$")
    _, skipped = ws.recv_until(is_message("marker"))
    assert [(c["event"], c["user"]["name"]) for c in changes_in(skipped)] == [("join", "Annie")], skipped


# -- how a line user's session ends ------------------------------------------------------------

@pytest.mark.parametrize("how", ["FIN", "RST"])
def test_dropping_tcp_without_quit_is_a_leave_at_once(line_server, line_user, how):
    """A line user cannot resume, so a dropped connection ends the session at once: the others
    see the leave well inside the default 30 s grace period, and the name is free again."""
    ws = line_server.client()
    user = line_user("Dropper")
    ws.expect_change("join")
    if how == "RST":
        user.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    user.close()
    leave = ws.expect_change("leave", timeout=20)  # the grace period would be 30 s
    assert leave["user"]["name"] == "Dropper"
    line_user("Dropper")  # the name is free again


def test_sigterm_gives_line_users_a_last_line_then_closes(line_server, line_user):
    user = line_user("Stayer")
    user.wait_line(r"^-- In lobby")
    line_server.signal(signal.SIGTERM)
    _, skipped = user.wait_line(r"^-- server shutting down$")
    assert skipped == [], skipped
    assert user.wait_eof(), "the line connection stays open after the last line"
    assert line_server.wait(timeout=server_timeout(5)) == 0  # shutdownTimeoutSeconds 5 at the most


LINE_ONLY = "line:\n  enabled: true\n  port: 0\n"
FLOOD_CONFIG = LINE_ONLY + "chat:\n  rate:\n    perSecond: 1\n    burst: 3\n    disconnectAfter: 5\n"


def test_a_flooding_line_user_is_rate_limited_then_told_and_disconnected(server_factory, line_user_of):
    """docs/PROTOCOL.md (Rate limit) for a line user: the burst goes out, the next lines are
    refused with the reason, and after disconnectAfter refusals in a row the last line says why
    before the connection ends; the others see the burst, then the leave."""
    srv = server_factory(FLOOD_CONFIG)
    ws = srv.client()
    user = line_user_of(srv, "Flood")
    user.wait_line(r"^-- In lobby")
    user.send(b"".join(f"f{i}\n".encode() for i in range(12)))  # one write: faster than any refill
    lines = [user.line() for _ in range(8)]
    assert [re.sub(r"^\d\d:\d\d:\d\d ", "", t) for t in lines[:3]] == [f"[lobby] Flood: f{i}" for i in range(3)]
    for t in lines[3:7]:
        assert re.fullmatch(r"!! too many requests; retry in \d+ ms \(rate_limited\)", t), lines
    assert lines[7] == "!! disconnected: rate limit exceeded", lines
    assert user.wait_eof()
    leave, skipped = ws.recv_until(has_change("leave"))
    assert [m["text"] for m in skipped if m.get("type") == "message"] == ["f0", "f1", "f2"]
    assert changes_in([leave], "leave")[0]["user"]["name"] == "Flood"


def test_a_line_user_who_never_reads_is_dropped(server_factory, line_user_of):
    """What a line user is sent is bounded like a WebSocket's (websocket.maxOutboundBytes): one
    who never reads while others talk is dropped (counted as a slow consumer, seen to leave),
    and the talkers never wait for it."""
    srv = server_factory(LINE_ONLY + "websocket:\n  maxOutboundBytes: 65536\n"
                         "chat:\n  rate:\n    perSecond: 100000\n    burst: 100000\n")
    talker = srv.client()
    deaf = line_user_of(srv, "Deaf", rcvbuf=4096)
    talker.expect_change("join")
    payload = "z" * 4000
    seen: list[dict] = []
    for r in range(100):  # up to 100 x 20 x 4 KB = 8 MB, far beyond the bound and any socket buffer
        texts = [f"{r:03d}-{i:02d}{payload}" for i in range(20)]
        for t in texts:
            talker.say(t)
        for t in texts:
            _, skipped = talker.recv_until(is_message(t), timeout=30)
            seen += skipped
        if metric_value(srv.get("/metrics").body.decode(), "confab_slow_consumers_dropped_total") == 1:
            break
    else:
        raise AssertionError("the line user who never reads was never dropped")
    if not changes_in(seen, "leave"):
        talker.expect_change("leave", timeout=20)
    # The server lets go of the connection within the close timeout (5 s), unread bytes or
    # not (what the kernel still holds drains at the reader's pace: slow with a 4 KB window).
    poll_until(lambda: metric_value(srv.get("/metrics").body.decode(), "confab_tcp_connections"),
               lambda n: n == 2, timeout=server_timeout(5))  # the talker and this scrape
