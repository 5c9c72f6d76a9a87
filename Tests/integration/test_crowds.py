"""Presence and crowds (issue 10): coalesced presence, large rooms (occupancy, pages, lookup),
hysteresis, roomsChanged, and how the line chat shows them, with real clients on real sockets.

Crowds are `ChatMember`s (no reader thread each); an observer whose timing matters is read by a
`Recorder` thread that notes when each message arrived. Every wait is on a message with a
deadline; "nothing arrived" is proved by a marker that must come with nothing forbidden before
it; every crowd loop is bounded in count and in time.
"""

from __future__ import annotations

import time

import pytest

from confabtest.chat import ChatClient, changes_in, is_message, is_type, presence_changes
from confabtest.crowd import ChatMember, Recorder, raise_fd_limit, text_frame
from confabtest.linechat import LineUser, line_port
from confabtest.waiting import LOAD_MARGIN


def crowd_config(full_list_max: int | None = None, interval_ms: int | None = None, line: bool = False) -> str:
    """A server for crowds: a rate limit that a pager or a crowd driver never meets, and the
    presence settings given (the defaults otherwise)."""
    text = "chat:\n  historySize: 50\n  rate:\n    perSecond: 10000\n    burst: 10000\n"
    if full_list_max is not None or interval_ms is not None:
        text += "  presence:\n"
        if full_list_max is not None:
            text += f"    fullListMax: {full_list_max}\n"
        if interval_ms is not None:
            text += f"    intervalMs: {interval_ms}\n"
    if line:
        text += "line:\n  enabled: true\n  port: 0\n"
    return text + "log:\n  level: info\n"


@pytest.fixture
def crowd(server_factory):
    """`crowd(server, name)`: a `ChatMember`, its socket closed at teardown (before the
    server stops, so that shutdown has no unread connection to wait for)."""
    members: list[ChatMember] = []

    def member(srv, name: str | None = None, **kw) -> ChatMember:
        m = ChatMember(srv, name, **kw)
        members.append(m)
        return m

    yield member
    for m in members:
        m.close()


def ids(users_msg: dict) -> list[str]:
    return [u["id"] for u in users_msg["users"]]


def occupancies(records: list[tuple[float, dict]]) -> list[tuple[float, dict]]:
    return [(t, m) for t, m in records if m.get("type") == "occupancy"]


def assert_spaced(times: list[float], interval_s: float, slack: float = 0.5) -> None:
    """At most one message per interval: consecutive arrivals at least `slack` × interval apart
    (arrival times carry the client's jitter: half a 1 s interval holds on a loaded machine, and
    still tells two messages sent together), and no more of them than the interval allows over
    the span (which jitter does not move)."""
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(g >= slack * interval_s for g in gaps), f"gaps {gaps} (interval {interval_s} s)"
    if times:
        assert len(times) <= 2 + (times[-1] - times[0]) / interval_s, (len(times), times[-1] - times[0])


def marker_from(client: ChatClient, text: str, room: str | None = None) -> None:
    client.say(text, **({"room": room} if room else {}))


# --------------------------------------------------------------------------
# Crossing the threshold
# --------------------------------------------------------------------------

def test_room_crossing_the_threshold_switches_from_presence_to_occupancy(server_factory, crowd):
    """fullListMax 5: presence up to 5 members; the 6th turns the room large: an occupancy
    (count, recent arrivals) at most every intervalMs instead of presence, and joiners get
    mode count with the first page of members in join order."""
    raise_fd_limit(1024)
    interval = 1000
    srv = server_factory(crowd_config(5, interval))
    obs = srv.client("name=Obs")
    order = [obs.id]  # everyone listed in the lobby, in join order
    small = []
    for k in range(2, 6):
        m = crowd(srv, f"m{k}")
        small.append(m)
        order.append(m.id)
        assert m.users["mode"] == "full" and m.users["count"] == k and "next" not in m.users, m.users
        assert ids(m.users) == order
    for m in small:  # each joined in a loop turn of its own
        assert obs.expect_change("join")["user"] == m.user

    rec = Recorder(obs)
    churn: list[ChatMember] = []
    try:
        crossing = crowd(srv, "m6")
        order.append(crossing.id)
        first = rec.wait_for(is_type("occupancy"))
        assert first == {"type": "occupancy", "room": "lobby", "count": 6, "recent": [crossing.user]}

        # Keep the count changing (join, join, goodbye: it rises) until three more occupancies
        # have come, about twenty changes an interval (the spacing is stimulus): bounded by 400
        # steps and the time four intervals take on a loaded machine.
        expected_users: list[tuple[ChatMember, list[str]]] = []
        most = len(order)

        def arrive(name: str) -> ChatMember:
            nonlocal most
            m = crowd(srv, name)
            churn.append(m)
            order.append(m.id)
            most = max(most, len(order))
            expected_users.append((m, order[:50]))
            assert m.users["count"] == len(order), m.users
            return m

        started = time.monotonic()
        for step in range(400):
            if len(occupancies(rec.records_now())) >= 4 or time.monotonic() - started > 4 * interval / 1000 + 2 * LOAD_MARGIN:
                break
            if step % 3 == 2:
                gone = churn.pop(0)
                gone.goodbye()
                order.remove(gone.id)
            else:
                arrive(f"c{step:03d}")
            time.sleep(interval / 1000 / 20)
        peak = most
        for i in range(3):  # end on a count never reached before (the count is at least peak - 1)
            final = arrive(f"last{i}")
            if len(order) > peak:
                break
        assert len(order) > peak
        rec.wait_for(lambda m: m.get("type") == "occupancy" and m["count"] == len(order),
                     timeout=2 * interval / 1000 + LOAD_MARGIN)
    finally:
        records = rec.stop()

    assert len(occupancies(records)) >= 4, "the room kept changing for three intervals at least"
    assert [m for _, m in records if m.get("type") != "occupancy"] == [], "a large room sends no presence"
    occ = occupancies(records)
    assert_spaced([t for t, _ in occ], interval / 1000)
    assert all(m["room"] == "lobby" and 6 <= m["count"] <= most for _, m in occ)
    assert occ[-1][1]["count"] == len(order)
    # recent: at most 5 arrivals since the previous occupancy, newest last, all real arrivals
    arrivals = [crossing.id] + [m.id for m, _ in expected_users]
    recent = [u["id"] for _, m in occ for u in m["recent"]]
    assert all(len(m["recent"]) <= 5 for _, m in occ)
    assert recent == [i for i in arrivals if i in set(recent)], "recent arrivals out of join order"
    assert occ[-1][1]["recent"][-1] == final.user
    # every joiner of the large room: mode count, the count, the first page in join order
    for m, first_page in expected_users:
        u = m.users
        assert u["mode"] == "count" and ids(u) == first_page, u
        assert ("next" in u) == (u["count"] > 50), u
    obs.send({"type": "rooms", "id": "r"})
    assert {r["name"]: r["users"] for r in obs.expect("rooms", re="r")["rooms"]} == {"lobby": len(order)}


def test_the_joiner_who_makes_a_room_large_gets_a_page(server_factory, crowd):
    """The join that takes the room above fullListMax makes it large for the joiner too:
    mode count, and then the occupancy like everyone in the room."""
    srv = server_factory(crowd_config(5))
    members = [crowd(srv, f"m{k}") for k in range(1, 6)]
    assert members[-1].users["mode"] == "full" and members[-1].users["count"] == 5
    crossing = crowd(srv, "m6")  # 6 > 5: the room is large with this join
    assert crossing.users["mode"] == "count" and crossing.users["count"] == 6, crossing.users
    assert ids(crossing.users) == [m.id for m in members] + [crossing.id]
    occupancy, skipped = crossing.read_until_match(is_type("occupancy"))
    assert occupancy["count"] == 6 and changes_in(skipped) == [], skipped


def test_default_threshold_with_250_real_clients(server_factory, crowd):
    """The defaults (fullListMax 200, intervalMs 1000) with 250 real WebSocket clients:
    presence for the first 200, then occupancy; pages of 50 with `next` for later joiners;
    paging and lookup through the whole crowd."""
    n = 250
    raise_fd_limit(4 * n + 256)
    srv = server_factory(crowd_config())
    obs = srv.client("name=Watcher")
    rec = Recorder(obs, timeout=600)  # stopped below; each connect has its own deadline
    members: list[ChatMember] = []
    try:
        for k in range(2, n + 1):
            members.append(crowd(srv, f"c{k:03d}"))
        # the next occupancy after the last arrival: within an interval (1 s), give or take a tick
        rec.wait_for(lambda m: m.get("type") == "occupancy" and m["count"] == n, timeout=2 + LOAD_MARGIN)
    finally:
        records = rec.stop()
    order = [obs.id] + [m.id for m in members]

    for k, m in enumerate(members, start=2):
        u = m.users
        assert u["count"] == k, u
        if k <= 200:
            assert u["mode"] == "full" and ids(u) == order[:k] and "next" not in u, (k, u)
        else:  # the 201st too: its join made the room large
            assert u["mode"] == "count" and ids(u) == order[:50] and "next" in u, (k, u)

    # the watcher: a join each for members 2..200, then occupancy only
    occ = occupancies(records)
    first_occ = next(i for i, (_, m) in enumerate(records) if m.get("type") == "occupancy")
    before, after = [m for _, m in records[:first_occ]], [m for _, m in records[first_occ:]]
    assert all(m.get("type") == "presence" for m in before), before[:5]
    joins = changes_in(before)
    assert [c["event"] for c in joins] == ["join"] * 199
    assert [c["user"]["id"] for c in joins] == order[1:200]
    assert occ[0][1] == {"type": "occupancy", "room": "lobby", "count": 201, "recent": [members[199].user]}
    assert all(m.get("type") == "occupancy" for m in after), [m for m in after if m.get("type") != "occupancy"][:3]
    assert occ[-1][1]["count"] == n and len(occ) >= 2
    assert_spaced([t for t, _ in occ], 1.0)
    last_recent = occ[-1][1]["recent"]  # the newest arrivals (at most 5), newest last
    assert 1 <= len(last_recent) <= 5 and last_recent == [m.user for m in members[-len(last_recent):]]

    # pages of 200 then 50, every member once, in join order; a lookup finds one of them
    seen, cursor = [], None
    for page_no in range(1, 4):
        obs.send({"type": "users", "limit": 200, "id": page_no, **({"cursor": cursor} if cursor else {})})
        page = obs.expect("users", re=page_no)
        assert page["mode"] == "count" and page["count"] == n
        seen += ids(page)
        cursor = page.get("next")
        if cursor is None:
            break
    assert seen == order
    obs.send({"type": "users", "name": "C123", "id": "find"})
    found = obs.expect("users", re="find")
    assert found["users"] == [members[121].user] and found["name"] == "C123" and found["count"] == n


# --------------------------------------------------------------------------
# Paging and lookup
# --------------------------------------------------------------------------

def test_paging_sees_every_member_once_while_others_come_and_go(server_factory, crowd):
    srv = server_factory(crowd_config(5))
    pager = srv.client("name=Pager")
    join_order = [pager.id]
    stable: list[ChatMember] = []
    leaving: list[ChatMember] = []
    for i in range(30):  # leavers interleaved: some before the cursor, some after it
        m = crowd(srv, f"p{i:02d}")
        join_order.append(m.id)
        (leaving if i % 3 == 0 else stable).append(m)
    left: set[str] = set()
    arrivals: list[ChatMember] = []
    seen: list[str] = []
    cursor = None
    for page_no in range(1, 101):
        request = {"type": "users", "room": "lobby", "limit": 3, "id": page_no}
        if cursor is not None:
            request["cursor"] = cursor
        pager.send(request)
        page = pager.expect("users", re=page_no)
        assert page["mode"] == "count" and page["room"] == "lobby" and 1 <= len(page["users"]) <= 3, page
        assert page["count"] == len(join_order) - len(left), page
        seen += ids(page)
        cursor = page.get("next")
        if cursor is None:
            break
        assert isinstance(cursor, str) and cursor
        if leaving:  # one leaves (alternately from the front and the back of the list) ...
            gone = leaving.pop(0 if page_no % 2 else -1)
            gone.goodbye()
            left.add(gone.id)
        arrival = crowd(srv, f"n{page_no:02d}")  # ... and one arrives
        arrivals.append(arrival)
        join_order.append(arrival.id)
    else:
        pytest.fail("paging did not end within 100 pages")

    assert not leaving, "every leaver left during the paging"
    assert len(seen) == len(set(seen)), f"someone was listed twice: {seen}"
    assert seen == [i for i in join_order if i in set(seen)], "pages are not in join order"
    stayed = [pager.id] + [m.id for m in stable] + [m.id for m in arrivals]
    assert set(stayed) <= set(seen), f"missing: {set(stayed) - set(seen)}"
    assert set(seen) - set(stayed) <= left


def test_users_page_requests_are_checked(server_factory, crowd):
    srv = server_factory(crowd_config())
    a = srv.client("name=Ann")
    others = [crowd(srv, n) for n in ("Bob", "Cy")]
    # a small room pages too when asked: mode stays full
    a.send({"type": "users", "limit": 2, "id": 1})
    page = a.expect("users", re=1)
    assert page["mode"] == "full" and page["count"] == 3 and ids(page) == [a.id, others[0].id] and page["next"]
    a.send({"type": "users", "limit": 2, "cursor": page["next"], "id": 2})
    page2 = a.expect("users", re=2)
    assert ids(page2) == [others[1].id] and "next" not in page2
    a.send({"type": "users", "limit": 200, "id": 3})
    assert ids(a.expect("users", re=3)) == [a.id] + [m.id for m in others]
    for i, bad in enumerate([{"limit": 0}, {"limit": 201}, {"limit": "5"}, {"limit": 2.5}, {"cursor": 7},
                             {"cursor": "not-a-cursor"}, {"name": 3}], start=10):
        a.send({"type": "users", "id": i, **bad})
        err = a.expect("error", re=i)
        assert err["code"] == "invalid_request", (bad, err)
    a.say("/users")  # still fine afterwards
    assert a.expect("users")["count"] == 3


def test_lookup_by_name(server_factory, crowd):
    srv = server_factory(crowd_config(5))
    asker = srv.client("name=Asker")
    people = {n: crowd(srv, n) for n in ("Ann", "Bob", "Cy", "Dee", "Eve", "Jürgen M.")}
    hermit = crowd(srv, "Hermit")  # on the server, but not in the lobby
    hermit.request({"type": "join", "room": "cave"})
    hermit.read_until_match(is_type("joined", room="cave"))
    hermit.request({"type": "leave", "room": "lobby", "id": "bye"})
    hermit.read_until_match(is_type("left", re="bye"))

    def lookup(name: str, **extra) -> dict:
        asker.send({"type": "users", "name": name, "id": name, **extra})
        return asker.expect("users", re=name)

    found = lookup("ann")
    assert found == {"type": "users", "room": "lobby", "mode": "count", "count": 7, "name": "ann",
                     "users": [people["Ann"].user], "re": "ann"}
    assert lookup("ANN")["users"] == [people["Ann"].user]
    assert lookup("jürgen m.")["users"] == [people["Jürgen M."].user]
    assert lookup("Asker")["users"] == [{"id": asker.id, "name": "Asker"}]
    nobody = lookup("Nobody")
    assert nobody["users"] == [] and nobody["name"] == "Nobody" and nobody["count"] == 7
    assert lookup("hermit")["users"] == [], "a user in another room is not in this one"
    assert lookup("HERMIT", room="cave") == {"type": "users", "room": "cave", "mode": "full", "count": 1,
                                             "name": "HERMIT", "users": [hermit.user], "re": "HERMIT"}
    # /find is the same request in the current room
    asker.send({"type": "send", "text": "/find bob", "id": "cmd"})
    assert asker.expect("users", re="cmd")["users"] == [people["Bob"].user]
    # a renamed user is found by the new name only
    people["Cy"].request({"type": "name", "name": "Cyrus"})
    people["Cy"].read_until_match(is_type("renamed"))
    assert lookup("cyrus")["users"] == [{"id": people["Cy"].id, "name": "Cyrus"}]
    assert lookup("cy")["users"] == []


# --------------------------------------------------------------------------
# Hysteresis
# --------------------------------------------------------------------------

def test_hysteresis_no_flapping_then_full_list_below_three_quarters(server_factory, crowd):
    """fullListMax 8: large above 8, small again only below 6 (three quarters of 8); then
    everyone gets users mode full once and presence resumes."""
    srv = server_factory(crowd_config(8, 100))
    obs = srv.client("name=Obs")
    members = [crowd(srv, f"h{i}") for i in range(2, 9)]  # 8 in the lobby: small
    for m in members:
        obs.expect_change("join", user=m.user)
    members.append(crowd(srv, "h9"))  # 9: large
    assert obs.expect("occupancy")["count"] == 9

    def quiet_until_marker(text: str) -> list[dict]:
        """What the observer got before its own marker, occupancy dropped."""
        marker_from(obs, text)
        _, skipped = obs.recv_until(is_message(text))
        return [m for m in skipped if m.get("type") != "occupancy"]

    # around the threshold: 8, 9, 8, 9, 8, 9 ... the room stays large, nobody gets a list
    for i in range(10):
        if i % 2 == 0:
            members.pop().goodbye()
        else:
            members.append(crowd(srv, f"flap{i}"))
            assert members[-1].users["mode"] == "count", members[-1].users
    assert quiet_until_marker("after flapping") == []
    # down to 6: still large
    while len(members) + 1 > 6:
        members.pop().goodbye()
    assert quiet_until_marker("at six") == []
    obs.send({"type": "users", "id": "six"})
    assert obs.expect("users", re="six")["mode"] == "count"

    members.pop().goodbye()  # 5 < 6: small again
    full, skipped = obs.recv_until(is_type("users"))
    assert [m for m in skipped if m.get("type") != "occupancy"] == [], skipped
    everyone = [obs.id] + [m.id for m in members]
    assert full == {"type": "users", "room": "lobby", "mode": "full", "count": 5,
                    "users": full["users"]}, "sent to everyone, no re, no next"
    assert ids(full) == everyone
    for m in members:
        got, _ = m.read_until_match(is_type("users"))
        assert got == full
    # presence again, and no second list
    joiner = crowd(srv, "back")
    assert joiner.users["mode"] == "full" and ids(joiner.users) == everyone + [joiner.id]
    assert obs.expect_change("join")["user"] == joiner.user
    rest = quiet_until_marker("small again")
    assert [m for m in rest if m.get("type") == "users"] == [] and changes_in(rest) == []


# --------------------------------------------------------------------------
# Coalescing
# --------------------------------------------------------------------------

def test_joins_of_one_moment_reach_a_member_in_fewer_messages(server_factory, crowd):
    """Eight members send a join at the same moment: an existing member gets every join once,
    in at most eight presence messages (fewer when the server read several in one loop turn,
    which must happen at least once in five rounds); every joiner's list converges."""
    srv = server_factory(crowd_config())
    obs = srv.client("name=Obs")
    coalesced_rounds = 0
    for r in range(5):
        room = f"burst{r}"
        obs.send({"type": "join", "room": room})
        obs.expect("joined", room=room)
        burst = [crowd(srv, f"b{r}-{i}") for i in range(8)]
        frames = [text_frame({"type": "join", "room": room}) for _ in burst]
        for m, frame in zip(burst, frames):  # back to back, as close together as one thread can
            m.send(frame)
        joiners_users = [m.read_until_match(is_type("users", room=room))[0] for m in burst]
        marker = f"marker {r}"
        marker_from(obs, marker, room)
        _, skipped = obs.recv_until(is_message(marker, room=room))
        in_room = [m for m in skipped if m.get("type") == "presence" and m["room"] == room]
        joins = changes_in(in_room)
        assert sorted(c["user"]["id"] for c in joins) == sorted(m.id for m in burst), in_room
        assert all(c["event"] == "join" for c in joins)
        assert 1 <= len(in_room) <= len(burst)
        coalesced_rounds += len(in_room) < len(burst)
        # every joiner: its users list plus the presence it got (applied in order) is the room
        everyone = {obs.id} | {m.id for m in burst}
        for m, users in zip(burst, joiners_users):
            _, got = m.read_until_match(is_message(marker, room=room))
            view = set(ids(users))
            for change in changes_in(got, room=room):
                (view.add if change["event"] == "join" else view.discard)(change["user"]["id"])
            assert view == everyone, (m.name, users, got)
            mine = [msg for msg in got if msg.get("type") == "presence"
                    and {c["user"]["id"] for c in msg["changes"]} == {m.id}]
            assert mine == [], "a member is never sent a presence holding only its own change"
        if coalesced_rounds:
            break
    assert coalesced_rounds >= 1, "eight joins sent together never shared a presence message"


def test_one_members_changes_in_one_moment_are_one_message(server_factory, crowd):
    """A join and a rename in one write: one presence with both, in order, to the others;
    nothing to the member itself (its joined and renamed told it)."""
    srv = server_factory(crowd_config())
    obs = srv.client("name=Obs")
    obs.send({"type": "join", "room": "dev"})
    obs.expect("joined")
    x = crowd(srv, "Ex")
    obs.expect_change("join", user=x.user)  # into the lobby
    x.send(text_frame({"type": "join", "room": "dev"}) + text_frame({"type": "name", "name": "Xavier"}))
    msg, _ = obs.recv_until(is_type("presence", room="dev"))
    assert msg == {"type": "presence", "room": "dev", "changes": [
        {"event": "join", "user": {"id": x.id, "name": "Ex"}},
        {"event": "rename", "user": {"id": x.id, "name": "Xavier"}, "oldName": "Ex"}]}
    x.request({"type": "send", "room": "dev", "text": "marker"})
    _, got = x.read_until_match(is_message("marker"))
    assert [m for m in got if m.get("type") == "presence"] == [], got


def test_a_joiners_message_follows_their_join(server_factory, crowd):
    srv = server_factory(crowd_config())
    obs = srv.client("name=Obs")
    obs.send({"type": "join", "room": "dev"})
    obs.expect("joined")
    x = crowd(srv, "Ex")
    x.send(text_frame({"type": "join", "room": "dev"}) + text_frame({"type": "send", "room": "dev", "text": "hi"}))
    _, before = obs.recv_until(is_message("hi", room="dev"))
    assert changes_in(before, "join", room="dev", user_id=x.id), f"the message came first: {before}"


# --------------------------------------------------------------------------
# The room list
# --------------------------------------------------------------------------

def test_rooms_watch_reports_changes_and_removals_until_unwatched(server_factory):
    srv = server_factory(crowd_config(interval_ms=100))
    watcher, second = srv.client("name=Watcher"), srv.client("name=Second")
    views: dict[str, dict[str, int]] = {}
    for w in (watcher, second):
        w.send({"type": "rooms", "watch": True, "id": "w"})
        views[w.name] = {r["name"]: r["users"] for r in w.expect("rooms", re="w")["rooms"]}

    def follow(w: ChatClient, expected: dict[str, int]) -> list[dict]:
        """roomsChanged applied to the watcher's view until it is `expected`; returns them."""
        view, got = views[w.name], []
        for _ in range(100):
            if view == expected:
                return got
            msg = w.expect("roomsChanged")
            got.append(msg)
            assert set(msg) == {"type", "rooms", "removed"}, msg
            for name in msg["removed"]:
                assert name not in {r["name"] for r in msg["rooms"]}, msg
                view.pop(name, None)
            view.update({r["name"]: r["users"] for r in msg["rooms"]})
        raise AssertionError(f"view {view} never became {expected}")

    follow(watcher, {"lobby": 2})
    ann = srv.client("name=Ann")
    follow(watcher, {"lobby": 3})
    ann.send({"type": "join", "room": "dev"})
    ann.expect("joined")
    created = follow(watcher, {"lobby": 3, "dev": 1})
    assert {"name": "dev", "users": 1} in created[-1]["rooms"]
    bo = srv.client("name=Bo")
    bo.send({"type": "join", "room": "dev"})
    bo.expect("joined")
    follow(watcher, {"lobby": 4, "dev": 2})
    for c in (ann, bo):
        c.send({"type": "leave", "room": "dev"})
        c.expect("left")
    removed = follow(watcher, {"lobby": 4})
    assert "dev" in removed[-1]["removed"]

    watcher.send({"type": "rooms", "watch": False, "id": "unwatch"})
    watcher.expect("rooms", re="unwatch")
    ann.send({"type": "join", "room": "tmp"})
    ann.expect("joined")
    follow(second, {"lobby": 4, "tmp": 1})  # the same broadcast would have gone to the watcher
    watcher.send({"type": "rooms", "id": "after"})
    snapshot, skipped = watcher.recv_until(is_type("rooms", re="after"))
    assert [m for m in skipped if m.get("type") == "roomsChanged"] == [], skipped
    assert {r["name"]: r["users"] for r in snapshot["rooms"]} == {"lobby": 4, "tmp": 1}
    watcher.send({"type": "rooms", "watch": "yes", "id": "bad"})
    assert watcher.expect("error", re="bad")["code"] == "invalid_request"


# --------------------------------------------------------------------------
# The line chat
# --------------------------------------------------------------------------

def connect_line(srv, name: str) -> LineUser:
    user = LineUser(line_port(srv))
    assert "What is your name?" in user.line(), "no name prompt"
    user.say(name, end=b"\r\n")
    user.wait_line(rf"^-- Welcome to .*, {name}!")
    return user


def test_line_chat_users_and_find_in_a_large_room(server_factory, crowd):
    srv = server_factory(crowd_config(5, line=True))
    people = [crowd(srv, f"user{i:02d}") for i in range(1, 60)]
    liner = connect_line(srv, "Liner")
    try:
        shown = ", ".join(m.name for m in people[:50])
        listing = f"-- In lobby (60 online, 50 shown): {shown}, … — /find NAME looks someone up"
        intro, _ = liner.wait_line(r"^-- In lobby ")
        assert intro == listing
        liner.say("/users")
        assert liner.wait_line(r"^-- In lobby ")[0] == listing
        liner.say("/find USER07")
        assert liner.wait_line(r"^-- .* in lobby\.$")[0] == "-- user07 is in lobby."
        liner.say("/find nobody")
        assert liner.wait_line(r"^-- .* in lobby\.$")[0] == "-- nobody is not in lobby."
        # a large room announces nobody, and occupancy is no line either
        late = crowd(srv, "late-comer")
        late.request({"type": "send", "text": "marker"})
        _, before = liner.wait_line(r"late-comer: marker$")
        assert before == [], before
    finally:
        liner.close()


def test_line_chat_shows_each_change_of_a_presence_on_its_own_line(server_factory, crowd):
    srv = server_factory(crowd_config(line=True))
    liner = connect_line(srv, "Liner")
    try:
        liner.say("/join dev")
        liner.wait_line(r"^-- In dev \(1\): Liner$")
        x = crowd(srv, "Ex")
        x.send(text_frame({"type": "join", "room": "dev"}) + text_frame({"type": "name", "name": "Xavier"}))
        x.read_until_match(is_type("renamed"))
        x.request({"type": "send", "room": "dev", "text": "marker"})
        _, before = liner.wait_line(r"\[dev\] Xavier: marker$")
        in_dev = [line for line in before if line.startswith("[dev]")]
        assert in_dev == ["[dev] -- Ex joined", "[dev] -- Ex is now known as Xavier"], before
    finally:
        liner.close()
