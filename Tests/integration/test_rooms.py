"""Rooms (issue 3): join, isolation, listings, leave and its errors."""

import pytest

from confabtest.chat import changes_in, is_message


def join(client, room, **extra):
    """Join and consume the direct reply: joined, users, history (in this order)."""
    client.send({"type": "join", "room": room, **extra})
    joined = client.expect("joined")
    users = client.expect_next("users")
    history = client.expect_next("history")
    return joined, users, history


def test_join_replies_joined_users_history(server):
    a = server.client()
    a.send({"type": "join", "room": "dev", "id": "j1"})
    joined = a.recv()
    assert joined["type"] == "joined" and joined["room"] == "dev", joined
    assert joined["re"] == "j1"
    users = a.expect_next("users")
    assert users == {"type": "users", "room": "dev", "mode": "full", "count": 1,
                     "users": [{"id": a.id, "name": a.name}]}
    history = a.expect_next("history")
    assert history["room"] == "dev" and history["messages"] == []


def test_room_isolation_three_clients(server):
    a, b, c = server.client(), server.client(), server.client()
    join(a, "dev")
    join(b, "dev")
    assert a.expect_change("join", room="dev")["user"]["id"] == b.id

    a.say("secret in dev")          # current room of A is dev now
    ma = a.expect("message", text="secret in dev")
    mb = b.expect("message", text="secret in dev")
    assert ma == mb and ma["room"] == "dev"
    b.send({"type": "send", "room": "dev", "text": "reply in dev"})
    a.expect("message", text="reply in dev", room="dev")

    # Marker in the lobby (A is still a member): C must see it and nothing
    # from dev before it.
    a.send({"type": "send", "room": "lobby", "text": "lobby marker"})
    marker, skipped = c.recv_until(is_message("lobby marker"))
    assert marker["room"] == "lobby"
    leaked = [m for m in skipped if m.get("room") == "dev" or "dev" in str(m.get("text", ""))]
    assert not leaked, f"C (lobby only) received dev traffic: {leaked}"


def test_member_of_two_rooms_and_current_room(server):
    a, b = server.client(), server.client()
    join(a, "dev")
    a.say("to current")  # dev
    assert a.expect("message", text="to current")["room"] == "dev"
    # B, lobby only, must not get it; marker in lobby proves it.
    a.send({"type": "send", "room": "lobby", "text": "to lobby"})
    m, skipped = b.recv_until(is_message("to lobby"))
    assert m["room"] == "lobby"
    assert not [x for x in skipped if x.get("type") == "message"], skipped


def test_rooms_listing(server):
    a, b, c = server.client(), server.client(), server.client()
    join(a, "dev")
    join(b, "dev")
    c.send({"type": "rooms", "id": 3})
    rooms = c.expect("rooms")
    assert rooms["re"] == 3
    counts = {r["name"]: r["users"] for r in rooms["rooms"]}
    assert counts == {"lobby": 3, "dev": 2}


def test_users_listing_and_no_such_room(server):
    a, b = server.client(), server.client()
    join(a, "dev")
    b.send({"type": "users", "room": "dev", "id": "u"})
    users = b.expect("users")
    assert users == {"type": "users", "room": "dev", "mode": "full", "count": 1,
                     "users": [{"id": a.id, "name": a.name}], "re": "u"}
    b.send({"type": "users", "room": "nowhere", "id": "u2"})
    err = b.expect("error")
    assert err["code"] == "no_such_room" and err["re"] == "u2"


def test_leave_and_presence(server):
    a, b = server.client(), server.client()
    join(a, "dev")
    join(b, "dev")
    a.expect_change("join", room="dev")
    b.send({"type": "leave", "room": "dev", "id": "l"})
    left = b.expect("left")
    assert left["room"] == "dev" and left["current"] == "lobby" and left["re"] == "l"
    pres = a.expect_change("leave", room="dev")
    assert pres["user"]["id"] == b.id
    # B no longer receives dev messages
    a.say("after leave")
    a.expect("message", text="after leave", room="dev")
    a.send({"type": "send", "room": "lobby", "text": "marker"})
    _, skipped = b.recv_until(is_message("marker"))
    assert not [m for m in skipped if m.get("room") == "dev"], skipped


def test_leave_default_is_current_room(server):
    a = server.client()
    join(a, "dev")
    a.send({"type": "leave"})
    left = a.expect("left")
    assert left == {"type": "left", "room": "dev", "current": "lobby"}


def test_last_room_refused(server):
    a = server.client()
    a.send({"type": "leave", "room": "lobby", "id": 1})
    err = a.expect("error")
    assert err["code"] == "last_room" and err["re"] == 1
    a.say("still in lobby")
    assert a.expect("message", text="still in lobby")["room"] == "lobby"


def test_not_in_room(server):
    a, c = server.client(), server.client()
    join(a, "dev")
    c.send({"type": "send", "room": "dev", "text": "intrusion", "id": "x"})
    err = c.expect("error")
    assert err["code"] == "not_in_room" and err["re"] == "x"
    c.send({"type": "send", "room": "lobby", "text": "marker"})
    _, skipped = a.recv_until(is_message("marker"))
    assert not [m for m in skipped if m.get("text") == "intrusion"]


@pytest.mark.parametrize("room", ["", "has space", "x" * 33, "slash/room", "bad😀"])
def test_invalid_room_name(server, room):
    a = server.client()
    a.send({"type": "join", "room": room, "id": "r"})
    err = a.expect("error")
    assert err["code"] == "invalid_room" and err["re"] == "r"


def test_room_names_case_insensitive(server):
    a, b = server.client(), server.client()
    join(a, "Dev_Team-1")
    joined, users, _ = join(b, "dev_team-1")
    assert {u["id"] for u in users["users"]} == {a.id, b.id}
    a.say("hi team")
    assert b.expect("message", text="hi team")


def test_empty_room_is_removed_with_history(server):
    a = server.client()
    join(a, "tmp")
    a.say("old")
    a.expect("message", text="old")
    a.send({"type": "leave", "room": "tmp"})
    a.expect("left")
    a.send({"type": "rooms"})
    names = {r["name"] for r in a.expect("rooms")["rooms"]}
    assert names == {"lobby"}
    _, _, history = join(a, "tmp")
    assert history["messages"] == []


def test_slash_commands_match_structured_forms(server):
    a, b = server.client(), server.client()
    a.say("/join dev")
    assert a.expect("joined")["room"] == "dev"
    a.expect_next("users")
    a.expect_next("history")
    a.say("/rooms")
    assert {r["name"] for r in a.expect("rooms")["rooms"]} == {"lobby", "dev"}
    a.say("/users lobby")
    assert a.expect("users", room="lobby")
    a.say("/me waves")
    act = a.expect("message", text="waves")
    assert act.get("action") is True and act["room"] == "dev"
    a.say("/leave")
    assert a.expect("left")["current"] == "lobby"


def test_configured_rooms_always_exist(server_factory):
    srv = server_factory("chat:\n  rooms: [lobby, random]\n")
    a = srv.client()
    a.send({"type": "rooms"})
    counts = {r["name"]: r["users"] for r in a.expect("rooms")["rooms"]}
    assert counts == {"lobby": 1, "random": 0}


def test_max_rooms_per_user(server_factory):
    srv = server_factory("chat:\n  maxRoomsPerUser: 2\n")
    b = srv.client()
    join(b, "second")
    b.send({"type": "join", "room": "third", "id": 3})
    err = b.expect("error")
    assert err["code"] == "room_limit" and err["re"] == 3


def test_max_rooms_server_wide(server_factory):
    srv = server_factory("chat:\n  maxRooms: 2\n")
    a, b = srv.client(), srv.client()
    join(a, "only")
    b.send({"type": "join", "room": "another", "id": 4})
    err = b.expect("error")
    assert err["code"] == "room_limit" and err["re"] == 4
    join(b, "only")  # an existing room is still joinable


def test_users_without_room_means_current_room(server):
    a, b = server.client(), server.client()
    join(a, "dev")
    a.send({"type": "users"})
    users = a.expect("users")
    assert users["room"] == "dev" and users["users"] == [{"id": a.id, "name": a.name}]


def test_join_is_idempotent_and_gives_history(server):
    a, b = server.client(), server.client()
    join(a, "dev")
    a.say("in dev")
    sent = a.expect("message", text="in dev")
    joined, users, history = join(b, "dev")
    assert history["messages"] == [sent]
    a.expect_change("join", room="dev")
    # joining again: same replies, no second presence
    joined, users, history = join(b, "dev")
    assert [u["id"] for u in users["users"]].count(b.id) == 1
    assert history["messages"] == [sent]
    b.say("marker")
    _, skipped = a.recv_until(is_message("marker"))
    assert not changes_in(skipped), skipped


def test_seq_is_per_room(server):
    a = server.client()
    a.say("l1")
    l1 = a.expect("message", text="l1")
    join(a, "dev")
    for t in ("d1", "d2"):
        a.say(t)
    d1, d2 = a.expect("message", text="d1"), a.expect("message", text="d2")
    assert d2["seq"] == d1["seq"] + 1
    a.send({"type": "send", "room": "lobby", "text": "l2"})
    l2 = a.expect("message", text="l2")
    assert l2["seq"] == l1["seq"] + 1, "messages in dev must not advance lobby's seq"


def test_rename_reaches_every_room_of_the_user(server):
    a, b, c = server.client(), server.client(), server.client()
    join(a, "dev")
    join(b, "dev")
    b.send({"type": "leave", "room": "lobby"})
    b.expect("left")
    a.say("/name Renamed")
    a.expect("renamed")
    pb = b.expect_change("rename")
    pc = c.expect_change("rename")
    assert pb["user"]["name"] == pc["user"]["name"] == "Renamed"
    assert pb["room"] == "dev" and pc["room"] == "lobby"


def test_reserved_names_configurable(server_factory):
    srv = server_factory("chat:\n  reservedNames: [moderator]\n")
    a = srv.client()
    a.send({"type": "name", "name": "Moderator"})
    assert a.expect("error")["code"] == "invalid_name"


def test_room_name_boundaries_accepted(server):
    a = server.client()
    for room in ("x" * 32, "a", "Dev-Ops_2"):
        joined, _, _ = join(a, room)
        assert joined["room"] == room  # original case kept for display
