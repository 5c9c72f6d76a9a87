"""Session resume (issue 3): an unplanned drop keeps the session for the grace period."""

import socket

import pytest

from confabtest.chat import changes_in, has_change, is_message
from confabtest.waiting import server_timeout
from confabtest.websocket import OP_CLOSE, RawWebSocket, ws_close_payload, ws_frame


def no_presence_about(user_id, messages):
    return changes_in(messages, user_id=user_id)


def test_resume_after_dropped_connection(server):
    a, b = server.client(), server.client()
    a.expect_change("join")
    b_id, b_name, token = b.id, b.name, b.token
    b.drop()

    r = server.client(f"resume={token}")
    assert r.welcome.get("resumed") is True, r.welcome
    assert r.id == b_id and r.name == b_name
    assert r.welcome["room"] == "lobby"
    assert r.token != token, "a resumed session must get a new token"
    assert {"id": b_id, "name": b_name} in r.users["users"]
    assert [u["id"] for u in r.users["users"]].count(b_id) == 1

    # A saw neither leave nor join for B: a marker from the resumed B proves
    # everything before it was read.
    r.say("back again")
    m, skipped = a.recv_until(is_message("back again"))
    assert m["from"] == {"id": b_id, "name": b_name}
    assert not no_presence_about(b_id, skipped), skipped


def test_user_listed_during_grace_period(server):
    a, b = server.client(), server.client()
    b.drop()
    c = server.client()
    assert b.id in {u["id"] for u in c.users["users"]}, "dropped user must stay listed during grace"
    assert c.users["count"] == 3, c.users
    a.send({"type": "users", "room": "lobby"})
    listed = a.expect("users")
    assert b.id in {u["id"] for u in listed["users"]} and listed["count"] == 3, listed


def test_resume_restores_rooms_and_current_room(server):
    b = server.client()
    b.send({"type": "join", "room": "dev"})
    b.expect("joined")
    b.say("in dev before drop")
    sent = b.expect("message", text="in dev before drop")
    b.drop()

    r = server.client(f"resume={b.token}", read_intro=False)
    welcome = r.recv()
    assert welcome["type"] == "welcome" and welcome["resumed"] is True, welcome
    assert welcome["room"] == "dev"
    assert set(welcome["rooms"]) == {"lobby", "dev"}
    rest = [r.recv() for _ in range(4)]
    assert [m["type"] for m in rest] == ["users", "history", "users", "history"], rest
    histories = {m["room"]: m for m in rest if m["type"] == "history"}
    assert histories["dev"]["messages"][-1] == sent


def test_close_1000_ends_session(server):
    a, b = server.client(), server.client()
    a.expect_change("join")
    b.close(1000)
    leave = a.expect_change("leave")
    assert leave["user"]["id"] == b.id

    r = server.client(f"resume={b.token}")
    assert r.welcome.get("resumed") is False, r.welcome
    assert r.id != b.id
    assert [m for m in r.intro if m.get("type") == "error"] == []


def test_close_1001_starts_grace_period(server):
    a, b = server.client(), server.client()
    a.expect_change("join")
    b.close(1001)
    r = server.client(f"resume={b.token}")
    assert r.welcome.get("resumed") is True, r.welcome
    assert r.id == b.id
    r.say("marker")
    _, skipped = a.recv_until(is_message("marker"))
    assert not no_presence_about(b.id, skipped), skipped


def test_unknown_token_gives_fresh_session(server):
    r = server.client("resume=not-a-real-token")
    assert r.welcome.get("resumed") is False, r.welcome
    assert [m for m in r.intro if m.get("type") == "error"] == []


def test_token_is_single_use(server):
    b = server.client()
    old = b.token
    b.drop()
    r = server.client(f"resume={old}")
    assert r.welcome["resumed"] is True
    again = server.client(f"resume={old}")
    assert again.welcome.get("resumed") is False
    assert again.id != b.id


def test_grace_expiry_broadcasts_leave(server_factory):
    srv = server_factory("chat:\n  resumeGraceSeconds: 1\n")
    a, b = srv.client(), srv.client()
    for c in (a, b):
        c.send({"type": "join", "room": "dev"})
        c.expect("joined")
    b.drop()
    # both rooms' leaves come from the same expiry
    leaves = [a.expect_change("leave", timeout=server_timeout(1)), a.expect_change("leave")]
    assert {m["room"] for m in leaves} == {"lobby", "dev"}
    assert all(m["user"]["id"] == b.id for m in leaves)
    r = srv.client(f"resume={b.token}")
    assert r.welcome.get("resumed") is False


def test_resumed_history_catches_up(server):
    a, b = server.client(), server.client()
    b.drop()
    a.say("while you were away")
    sent = a.expect("message", text="while you were away")
    r = server.client(f"resume={b.token}")
    assert r.welcome["resumed"] is True
    assert sent in r.history["messages"]


# -- take-over: a token resumed while its connection is still open --------------------------

@pytest.mark.parametrize("old_ends", ["echoes the close", "just ends TCP"])
def test_takeover_closes_the_old_connection_4000_and_its_end_changes_nothing(server_factory, old_ends):
    """docs/PROTOCOL.md (Session resume): the new connection takes the session over; the old one
    is closed with 4000 "session resumed elsewhere", and nobody else sees anything. Its end
    afterwards is the end of a connection the session no longer has: no grace period starts
    (which would broadcast a leave when it ran out), the user stays listed once."""
    srv = server_factory("chat:\n  resumeGraceSeconds: 2\n")
    a = srv.client()
    with RawWebSocket(srv) as old:
        welcome = old.read_intro()[0]
        user = welcome["user"]
        a.expect_change("join", user=user)
        new = srv.client(f"resume={welcome['token']}")
        assert new.welcome["resumed"] is True and new.welcome["user"] == user, new.welcome
        assert old.read_close() == (4000, "session resumed elsewhere")
        if old_ends == "echoes the close":
            old.send(ws_frame(OP_CLOSE, ws_close_payload(4000)))
        else:
            old.sock.shutdown(socket.SHUT_WR)
        assert old.wait_eof(timeout=10), "the server kept the old connection's TCP open"
    # A clock for the grace period the old connection's end must not have started: a session
    # dropped now runs out no earlier than that one would have.
    clock = srv.client()
    a.expect_change("join", user_id=clock.id)
    clock.drop()
    expired, skipped = a.recv_until(has_change("leave", user_id=clock.id), timeout=server_timeout(2))
    assert not changes_in(skipped + [expired], user_id=user["id"]), skipped + [expired]
    new.say("still here")
    _, skipped = a.recv_until(is_message("still here"))
    assert not changes_in(skipped, user_id=user["id"]), skipped
    a.send({"type": "users"})
    listed = a.expect("users")
    assert [u["id"] for u in listed["users"]] == [a.id, user["id"]] and listed["count"] == 2, listed


# -- resume after missing more than the history holds -------------------------------------

def missed_while_away(srv, sent: int):
    """`b` sees one message and drops; `a` sends `sent` more; returns (b's last seen message,
    what a sent, b resumed)."""
    a, b = srv.client(), srv.client()
    a.say("seen")
    seen = b.expect("message", text="seen")
    b.drop()
    texts = [f"away {i}" for i in range(sent)]
    for t in texts:
        a.say(t)
    for t in texts:
        a.expect("message", text=t)
    r = srv.client(f"resume={b.token}")
    assert r.welcome["resumed"] is True
    return seen, texts, r


def test_resume_after_more_than_the_history_holds_shows_the_gap(server_factory):
    """docs/PROTOCOL.md (Session resume): `history` carries the room's `lastSeq`; the messages
    keep their seqs, so a client that resumes after missing more than the history holds sees
    exactly how many are gone: here the first kept seq is 8 past the last one it saw."""
    srv = server_factory("chat:\n  historySize: 5\n")
    seen, texts, r = missed_while_away(srv, 12)
    history = r.history
    assert [m["text"] for m in history["messages"]] == texts[-5:]
    assert history["lastSeq"] == seen["seq"] + 12 == history["messages"][-1]["seq"]
    assert history["messages"][0]["seq"] - seen["seq"] - 1 == 7  # gone: away 0 .. away 6
    assert list(history) == ["type", "room", "lastSeq", "messages"]  # the documented key order


def test_resume_with_no_history_kept_still_shows_the_gap(server_factory):
    """historySize 0 keeps nothing: lastSeq alone tells the client it missed 3 messages."""
    srv = server_factory("chat:\n  historySize: 0\n")
    seen, _, r = missed_while_away(srv, 3)
    assert r.history["messages"] == []
    assert r.history["lastSeq"] - seen["seq"] == 3
