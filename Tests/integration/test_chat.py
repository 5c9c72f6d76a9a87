"""Protocol v1 in the lobby: welcome, presence, messages, history, names, errors."""

import re

import pytest

from confabtest.chat import changes_in, is_message

RANDOM_NAME = re.compile(r"^[a-z]+-[a-z]+-\d{1,4}$")
ISO_8601 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")


def user_ids(users_msg):
    return {u["id"] for u in users_msg["users"]}


def test_welcome_users_history_in_order(server):
    c = server.client(read_intro=False)
    welcome, users, history = c.recv(), c.recv(), c.recv()
    assert [welcome["type"], users["type"], history["type"]] == ["welcome", "users", "history"]

    assert isinstance(welcome["user"]["id"], str) and welcome["user"]["id"]
    assert RANDOM_NAME.match(welcome["user"]["name"]), welcome
    assert welcome["room"] == "lobby"
    assert "lobby" in welcome["rooms"]
    assert isinstance(welcome["token"], str) and len(welcome["token"]) >= 16, welcome
    assert isinstance(welcome["limits"]["maxMessageBytes"], int)
    assert welcome["limits"]["maxMessageBytes"] > 0

    assert users == {"type": "users", "room": "lobby", "mode": "full", "count": 1,
                     "users": [{"id": welcome["user"]["id"], "name": welcome["user"]["name"]}]}
    assert history == {"type": "history", "room": "lobby", "lastSeq": 0, "messages": []}


def test_each_client_gets_distinct_identity(server):
    a, b = server.client(), server.client()
    assert a.id != b.id
    assert a.name.lower() != b.name.lower()
    assert a.token != b.token


def test_two_clients_see_each_other(server):
    a = server.client()
    b = server.client()
    assert user_ids(b.users) == {a.id, b.id}
    assert b.users["mode"] == "full" and b.users["count"] == 2 and "next" not in b.users
    join = a.expect_change("join")
    assert join["room"] == "lobby"
    assert join["user"] == {"id": b.id, "name": b.name}
    assert "oldName" not in join


def test_leave_presence_on_close(server):
    a, b = server.client(), server.client()
    a.expect_change("join")
    b.close()
    leave = a.expect_change("leave")
    assert leave["user"] == {"id": b.id, "name": b.name}
    assert leave["room"] == "lobby"


TEXTS = [
    "hello",
    "héllo wörld — Ωμέγα 你好 Привет",
    "emoji 👋🏽 family 👨‍👩‍👧‍👦 flag 🇫🇷",
    'quotes "double" \'single\' back\\slash \\" \\n not-escape\nnew line\r\ttab </script> {"type":"x"}',
    "\u2028line separator\u2029 and \u00a0nbsp and \ufeffbom",
]


@pytest.mark.parametrize("text", TEXTS, ids=["ascii", "unicode", "emoji", "json-hostile", "separators"])
def test_message_reaches_both_exactly(server, text):
    a, b = server.client(), server.client()
    a.expect_change("join")
    a.say(text)
    ma = a.expect("message")
    mb = b.expect("message")
    assert ma == mb, "sender and receiver got different messages"
    assert ma["text"] == text
    assert ma["room"] == "lobby"
    assert ma["from"] == {"id": a.id, "name": a.name}
    assert isinstance(ma["seq"], int)
    assert ISO_8601.match(ma["ts"]), ma["ts"]


def test_json_escaped_text_is_decoded(server):
    a = server.client()
    # \\u escapes, including a surrogate pair for an emoji, must decode to the same text
    a.send('{"type":"send","text":"caf\\u00e9 \\ud83d\\udc4b \\"q\\" \\\\ \\/"}')
    assert a.expect("message")["text"] == 'café 👋 "q" \\ /'


def test_seq_increases_by_one(server):
    a, b = server.client(), server.client()
    a.expect_change("join")
    for i in range(4):
        (a if i % 2 == 0 else b).say(f"m{i}")
    got_a, got_b = a.messages(4), b.messages(4)
    assert got_a == got_b, "the two clients saw different messages or orders"
    seqs = [m["seq"] for m in got_a]
    assert seqs == list(range(seqs[0], seqs[0] + 4)), seqs
    assert sorted(m["text"] for m in got_a) == ["m0", "m1", "m2", "m3"]
    # one sender's messages keep their order
    assert [m["text"] for m in got_a if m["from"]["id"] == a.id] == ["m0", "m2"]


def test_third_client_gets_history_oldest_first(server):
    a, b = server.client(), server.client()
    texts = ["first", "second ✓", "third"]
    sent = []
    for i, t in enumerate(texts):
        (a if i != 1 else b).say(t)
        sent.append(a.expect("message", text=t))
    c = server.client()
    assert c.history["room"] == "lobby"
    assert c.history["messages"] == sent
    assert user_ids(c.users) == {a.id, b.id, c.id}


def test_history_keeps_only_configured_count(server_factory):
    srv = server_factory("chat:\n  historySize: 3\n")
    a = srv.client()
    for i in range(5):
        a.say(f"h{i}")
        a.expect("message", text=f"h{i}")
    c = srv.client()
    assert [m["text"] for m in c.history["messages"]] == ["h2", "h3", "h4"]


def test_rename_with_slash_name(server):
    a, b = server.client(), server.client()
    a.expect_change("join")
    old = a.name
    a.say("/name Bob")
    renamed = a.expect("renamed")
    assert renamed["user"] == {"id": a.id, "name": "Bob"}
    assert renamed["oldName"] == old
    pres = b.expect_change("rename")
    assert pres["user"] == {"id": a.id, "name": "Bob"}
    assert pres["oldName"] == old
    assert pres["room"] == "lobby"
    # and later messages carry the new name
    a.say("as bob")
    assert b.expect("message", text="as bob")["from"] == {"id": a.id, "name": "Bob"}


def test_rename_with_name_request_echoes_id(server):
    a, b = server.client(), server.client()
    a.expect_change("join")
    old = a.name
    a.send({"type": "name", "name": "Carol", "id": 7})
    renamed = a.expect("renamed")
    assert renamed["user"] == {"id": a.id, "name": "Carol"}
    assert renamed["oldName"] == old
    assert renamed["re"] == 7
    pres = b.expect_change("rename")
    assert pres["user"]["name"] == "Carol" and pres["oldName"] == old
    assert "re" not in pres


def test_name_at_connect(server):
    a = server.client("name=Alice")
    assert a.name == "Alice"
    assert {"id": a.id, "name": "Alice"} in a.users["users"]
    assert not [m for m in a.pending if m.get("type") == "error"]


def test_taken_name_at_connect_gives_error_after_welcome(server):
    server.client("name=Alice")
    b = server.client("name=alice")  # names are unique case-insensitively
    assert b.name.lower() != "alice"
    assert RANDOM_NAME.match(b.name), b.name
    err = b.intro[1]
    assert err["type"] == "error" and err["code"] == "name_taken", b.intro


def test_invalid_name_at_connect_gives_error(server):
    b = server.client("name=%3Cscript%3E")
    assert b.name != "<script>"
    errors = [m for m in b.intro if m["type"] == "error"]
    assert errors and errors[0]["code"] == "invalid_name", b.intro


@pytest.mark.parametrize("name", ["", "   ", "x" * 25, "bad/name", "system", "ADMIN"])
def test_invalid_rename_refused(server, name):
    a = server.client()
    a.send({"type": "name", "name": name, "id": "n1"})
    err = a.expect("error")
    assert err["code"] == "invalid_name", err
    assert err["re"] == "n1"
    assert isinstance(err["message"], str) and err["message"]


def test_rename_to_taken_name_refused(server):
    a, b = server.client("name=Alice"), server.client()
    b.say("/name ALICE")
    assert b.expect("error")["code"] == "name_taken"


def test_invalid_json(server):
    a = server.client()
    a.send("{not json")
    err = a.expect("error")
    assert err["code"] == "invalid_json"
    assert isinstance(err["message"], str) and err["message"]
    # the connection survives
    a.say("still here")
    a.expect("message", text="still here")


def test_unknown_type_echoes_id(server):
    a = server.client()
    a.send({"type": "dance", "id": "abc"})
    err = a.expect("error")
    assert err["code"] == "unknown_type"
    assert err["re"] == "abc"


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_message(server, text):
    a = server.client()
    a.send({"type": "send", "text": text, "id": 1})
    err = a.expect("error")
    assert err["code"] == "empty_message"
    assert err["re"] == 1


def test_message_too_long_counts_utf8_bytes(server_factory):
    srv = server_factory("chat:\n  maxMessageBytes: 16\n")
    a = srv.client()
    assert a.welcome["limits"]["maxMessageBytes"] == 16
    a.say("x" * 16)                      # exactly at the limit: accepted
    a.expect("message", text="x" * 16)
    a.send({"type": "send", "text": "x" * 17, "id": "long"})
    err = a.expect("error")
    assert err["code"] == "message_too_long" and err["re"] == "long"
    a.send({"type": "send", "text": "é" * 9, "id": "utf8"})  # 9 chars, 18 bytes
    err = a.expect("error")
    assert err["code"] == "message_too_long" and err["re"] == "utf8"


def test_help_command_gives_system_message(server):
    a = server.client()
    a.say("/help")
    msg = a.expect("system")
    assert isinstance(msg["text"], str) and "/name" in msg["text"]


def test_unknown_command(server):
    a, b = server.client(), server.client()
    a.send({"type": "send", "text": "/frobnicate now", "id": 9})
    err = a.expect("error")
    assert err["code"] == "unknown_command"
    assert err["re"] == 9
    assert "/help" in err["message"]
    # nobody else sees it as a message
    a.say("marker")
    _, skipped = b.recv_until(is_message("marker"))
    assert not [m for m in skipped if m.get("type") == "message"], skipped


def test_commands_case_insensitive(server):
    a = server.client()
    a.say("/NAME   Dora  ")
    assert a.expect("renamed")["user"]["name"] == "Dora"


def test_binary_frame_closes_1003(server):
    a = server.client()
    a.ws.send(b"\x00\x01binary")
    code, _ = a.wait_closed()
    assert code == 1003


def test_send_with_id_is_acked(server):
    a = server.client()
    a.say("acked", id="m-1")
    msgs = [a.recv(), a.recv()]
    ack = next(m for m in msgs if m.get("type") == "ack")
    msg = next(m for m in msgs if m.get("type") == "message")
    assert ack["re"] == "m-1" and ack["room"] == "lobby"
    assert ack["seq"] == msg["seq"]


def test_broadcast_to_many_clients(server):
    n = 40
    cs = [server.client() for _ in range(n)]
    assert len(cs[-1].users["users"]) == n
    assert cs[-1].users["mode"] == "full" and cs[-1].users["count"] == n
    cs[0].say("to everyone")
    got = [c.expect("message", text="to everyone") for c in cs]
    assert len({(m["seq"], m["ts"], m["from"]["id"]) for m in got}) == 1


def test_presence_not_sent_to_the_joiner(server):
    a = server.client()
    b = server.client()
    a.expect_change("join")
    b.say("marker")
    _, skipped = b.recv_until(is_message("marker"))
    assert not changes_in(skipped), skipped


def test_name_with_space_and_unicode_at_connect(server):
    a = server.client("name=J%C3%BCrgen%20M.")
    assert a.name == "Jürgen M."
    b = server.client("name=%20%20Trim%20me%20")
    assert b.name == "Trim me"


@pytest.mark.parametrize("raw", [
    "[1, 2, 3]",
    '"just a string"',
    "null",
    '{"type": 42}',
    '{"type": "send"}',
    '{"type": "send", "text": 123}',
    '{"type": "send", "text": ["a"]}',
    '{"type": "name", "name": null}',
    '{"type": "join", "room": {"x": 1}}',
    '{"type":"send","text":"dup","text":"licate"}',
    "[" * 12000 + "]" * 12000,                      # deep nesting within the request size cap
    '{"a":' * 4000 + "1" + "}" * 4000,
    '{"type":"send","text":"\\ud800"}',               # lone surrogate escape
], ids=["array", "string", "null", "type-int", "no-text", "text-int", "text-array", "name-null",
        "room-object", "duplicate-key", "deep-array", "deep-object", "lone-surrogate"])
def test_hostile_json_gets_error_and_server_survives(server, raw):
    a, b = server.client(), server.client()
    a.send(raw)
    if raw.startswith('{"type":"send","text":"dup"'):
        # duplicate keys: either an error or one of the values, never a crash
        m = a.recv_until(lambda m: m.get("type") in ("error", "message"))[0]
    else:
        m = a.expect("error")
        assert m["code"] in ("invalid_json", "unknown_type", "invalid_request", "empty_message",
                             "invalid_name", "invalid_room", "invalid_text", "message_too_long"), m
        assert isinstance(m["message"], str) and m["message"]
    # both connections still work
    b.say("after hostile input")
    a.expect("message", text="after hostile input")


def test_connection_churn_leaves_no_trace(server):
    for _ in range(30):
        c = server.client()
        c.close()
    for _ in range(30):
        c = server.client()
        c.drop()
    a = server.client()
    a.send({"type": "rooms"})
    rooms = a.expect("rooms")["rooms"]
    # dropped sessions may still be listed during their grace period; closed ones never
    assert next(r for r in rooms if r["name"] == "lobby")["users"] <= 31


def test_name_boundaries_accepted(server):
    a = server.client()
    for name in ("x" * 24, "Q", "dot.ted name_-1"):
        a.send({"type": "name", "name": name})
        assert a.expect("renamed")["user"]["name"] == name
