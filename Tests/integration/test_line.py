"""The plain-TCP line chat (`line.enabled`): nc/telnet users in the same rooms as
WebSocket users, driven with raw sockets. Every read has a deadline."""

from __future__ import annotations

import re

import pytest

from confabtest.linechat import LineUser, line_port

LINE_CONFIG = "chat:\n  historySize: 50\nline:\n  enabled: true\n  port: 0\nlog:\n  level: debug\n"

# The banner with the line listener: `(WebSocket at /ws, line chat at 127.0.0.1:PORT)`.


@pytest.fixture
def line_server(server_factory):
    srv = server_factory(LINE_CONFIG)
    srv.line_port = line_port(srv)
    return srv


@pytest.fixture
def line_user(line_server):
    users: list[LineUser] = []

    def connect(name: str | None = None) -> LineUser:
        user = LineUser(line_server.line_port)
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
