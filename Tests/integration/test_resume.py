"""Session resume (issue 3): an unplanned drop keeps the session for the grace period."""

from confabtest.chat import changes_in, is_message


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
    leaves = [a.expect_change("leave", timeout=8), a.expect_change("leave", timeout=3)]
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
