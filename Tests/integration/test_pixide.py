"""The PixIDE dialect (`compat.pixidePath`): PixIDE chat clients in the same rooms as protocol
v1 users, on the same state machine.

`PixIDEClient` below is written from the PixIDE server's own document (its README: the
`join` / `chat_message` / `switch_room` requests and the `joined` / `chat_message` /
`user_joined` / `error` messages) and nothing of Confab's: it sends exactly the documented
shapes, `userId` included in every request, and reads JSON text frames. The v1 side uses
conftest's `ChatClient`. Every wait has a deadline; absence is proved by a marker that must
arrive with nothing forbidden before it.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from confabtest.chat import changes_in, is_message
from confabtest.waiting import DEFAULT_TIMEOUT, server_timeout
from confabtest.websocket import status_of_upgrade

PIXIDE_PATH = "/pixide"
PIXIDE_CONFIG = f"compat:\n  pixidePath: {PIXIDE_PATH}\nchat:\n  historySize: 50\nlog:\n  level: debug\n"
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class PixIDEClient:
    """A minimal PixIDE chat client: JSON objects over one WebSocket, per the PixIDE README."""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT):
        self.ws = ws_connect(url, open_timeout=timeout, close_timeout=1, compression=None,
                             ping_interval=None, max_size=None, proxy=None)
        self.ws.__enter__()
        self.user_id: str | None = None
        self.pending: list[dict] = []

    # -- client -> server, exactly the documented shapes -------------------------------

    def send(self, obj: Any) -> None:
        self.ws.send(obj if isinstance(obj, (str, bytes)) else json.dumps(obj, ensure_ascii=False))

    def join(self, user_id: str, room_id: str | None = None) -> None:
        self.user_id = user_id
        msg = {"type": "join", "userId": user_id}
        if room_id is not None:
            msg["roomId"] = room_id
        self.send(msg)

    def chat(self, content: str) -> None:
        self.send({"type": "chat_message", "userId": self.user_id, "content": content})

    def switch_room(self, room_id: str) -> None:
        self.send({"type": "switch_room", "userId": self.user_id, "roomId": room_id})

    # -- server -> client ------------------------------------------------------------------

    def recv(self, timeout: float = DEFAULT_TIMEOUT) -> dict:
        if self.pending:
            return self.pending.pop(0)
        try:
            data = self.ws.recv(timeout=timeout)
        except TimeoutError:
            raise AssertionError(f"no PixIDE message within {timeout:.1f}s") from None
        assert isinstance(data, str), f"expected a text frame, got {data!r}"
        msg = json.loads(data)
        assert isinstance(msg, dict) and isinstance(msg.get("type"), str), data
        return msg

    def expect(self, type_: str, timeout: float = DEFAULT_TIMEOUT, **fields: Any) -> tuple[dict, list[dict]]:
        """The next message of `type_` with these field values, and what came before it."""
        deadline = time.monotonic() + timeout
        skipped: list[dict] = []
        for _ in range(1000):
            msg = self.recv(max(0.01, deadline - time.monotonic()))
            if msg.get("type") == type_ and all(msg.get(k) == v for k, v in fields.items()):
                return msg, skipped
            skipped.append(msg)
        raise AssertionError(f"no {type_} {fields}; skipped {skipped}")

    def expect_next(self, type_: str, timeout: float = DEFAULT_TIMEOUT) -> dict:
        msg = self.recv(timeout)
        assert msg.get("type") == type_, f"expected {type_}, got {msg}"
        return msg

    def wait_closed(self, timeout: float = DEFAULT_TIMEOUT) -> tuple[int | None, list[dict]]:
        deadline = time.monotonic() + timeout
        seen: list[dict] = list(self.pending)
        self.pending.clear()
        for _ in range(10000):
            try:
                data = self.ws.recv(timeout=max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                if time.monotonic() >= deadline:
                    raise AssertionError(f"not closed within {timeout}s; got {seen}") from None
                continue
            except ConnectionClosed as e:
                return (e.rcvd.code if e.rcvd is not None else None), seen
            seen.append(json.loads(data) if isinstance(data, str) else {"binary": data})
        raise AssertionError("unbounded stream before close")

    def close(self, code: int = 1000) -> None:
        try:
            self.ws.close(code)
        except Exception:
            pass

    def drop(self) -> None:
        try:
            self.ws.socket.close()
            self.ws.close_socket()
        except Exception:
            pass


@pytest.fixture
def pix_server(server_factory):
    return server_factory(PIXIDE_CONFIG)


@pytest.fixture
def pixide(pix_server):
    """`pixide(user_id=None, room_id=None)`: a PixIDE client, joined when user_id is given."""
    clients: list[PixIDEClient] = []

    def make(user_id: str | None = None, room_id: str | None = None) -> PixIDEClient:
        c = PixIDEClient(f"ws://127.0.0.1:{pix_server.port}{PIXIDE_PATH}")
        clients.append(c)
        if user_id is not None:
            c.join(user_id, room_id)
            joined = c.expect_next("joined")
            assert joined["userId"] == user_id.strip(), joined
        return c

    yield make
    for c in clients:
        c.close()


def v1_in(server, name: str, room: str | None = None):
    """A protocol v1 user named `name`, in `room` as well as the home room when given."""
    c = server.client(f"name={name}")
    if room is not None:
        c.send({"type": "join", "room": room})
        c.expect("history", room=room)
    return c


def marker(c, text: str = "marker") -> None:
    """A v1 user's message to its current room, to prove what did not arrive before it."""
    c.say(text)


# ------------------------------------------------------------------------------------------
# Endpoint and join
# ------------------------------------------------------------------------------------------

def test_endpoint_is_off_by_default(server):
    assert status_of_upgrade(server, path=PIXIDE_PATH) == 404


def test_endpoint_upgrades_when_configured(pix_server):
    assert status_of_upgrade(pix_server, path=PIXIDE_PATH) == 101
    assert status_of_upgrade(pix_server, path="/ws") == 101


def test_join_without_room_goes_to_the_users_own_room(pixide):
    c = pixide()
    c.join("user_abc123")
    assert c.expect_next("joined") == {"type": "joined", "roomId": "user_abc123", "userId": "user_abc123",
                                       "message": "Joined room: user_abc123"}


def test_join_with_room(pixide):
    c = pixide()
    c.join("user_abc123", "room_name")
    assert c.expect_next("joined") == {"type": "joined", "roomId": "room_name", "userId": "user_abc123",
                                       "message": "Joined room: room_name"}


def test_nothing_is_sent_before_the_join(pix_server, pixide):
    c = pixide()
    bob = pix_server.client("name=Bob")
    c.join("carol", "lobby")
    # The joined is the very first message: no welcome, users or history in PixIDE terms.
    assert c.expect_next("joined")["roomId"] == "lobby"
    bob.expect_change("join")


# ------------------------------------------------------------------------------------------
# The proof: PixIDE and protocol v1 in one room
# ------------------------------------------------------------------------------------------

def test_pixide_and_v1_users_see_each_others_messages_and_arrivals(pix_server, pixide):
    bob = v1_in(pix_server, "Bob", "studio")
    alice = pixide("alice", "studio")

    # Bob sees Alice arrive, under her userId as name, in the room she asked for.
    arrival = bob.expect_change("join", room="studio")
    assert arrival["user"]["name"] == "alice"

    # Alice's message reaches Bob as a v1 message, and Alice as a PixIDE chat_message.
    alice.chat("Hello everyone!")
    got = bob.expect("message", room="studio")
    assert got["from"]["name"] == "alice" and got["text"] == "Hello everyone!"
    own, skipped = alice.expect("chat_message")
    assert skipped == []
    assert own == {"type": "chat_message", "userId": "alice", "roomId": "studio",
                   "content": "Hello everyone!", "timestamp": got["ts"]}

    # Bob's message reaches Alice.
    bob.say("hi alice", room="studio")
    msg, skipped = alice.expect("chat_message")
    assert skipped == []
    assert msg["userId"] == "Bob" and msg["roomId"] == "studio" and msg["content"] == "hi alice"
    assert ISO_MS.match(msg["timestamp"]), msg

    # A second v1 user arriving is a user_joined for Alice.
    carol = v1_in(pix_server, "Carol", "studio")
    joined, skipped = alice.expect("user_joined")
    assert skipped == []
    assert joined == {"type": "user_joined", "userId": "Carol", "roomId": "studio",
                      "message": "Carol joined the room"}
    # ... and a second PixIDE user arriving is one for both Alice and (as presence) Bob.
    dave = pixide("dave", "studio")
    assert alice.expect("user_joined", userId="dave")[1] == []
    bob.recv_until(lambda m: any(c["user"]["name"] == "dave" for c in changes_in([m], "join")))
    dave.chat("from dave")
    assert alice.expect("chat_message", content="from dave")[0]["userId"] == "dave"
    carol.expect("message", text="from dave")


def test_a_v1_user_joining_the_pixide_users_own_room(pix_server, pixide):
    alice = pixide("alice")
    bob = v1_in(pix_server, "Bob", "alice")
    assert alice.expect("user_joined", userId="Bob")[0]["roomId"] == "alice"
    bob.say("in your room", room="alice")
    assert alice.expect("chat_message")[0]["content"] == "in your room"


def test_exact_text_both_ways(pix_server, pixide):
    bob = v1_in(pix_server, "Bob", "r1")
    alice = pixide("alice", "r1")
    bob.expect_change("join")
    for text in ['quote " backslash \\ slash / </script>', "line\nbreak\ttab", "Zoë 😀 日本語", "\u0001ctl"]:
        alice.chat(text)
        got, _ = bob.recv_until(lambda m: m.get("type") == "message" and m["from"]["name"] == "alice")
        assert got["text"] == text
        assert alice.expect("chat_message")[0]["content"] == text
        bob.say(text, room="r1")
        got, _ = alice.expect("chat_message", userId="Bob")
        assert got["content"] == text


def test_content_is_literal_never_a_command(pix_server, pixide):
    bob = v1_in(pix_server, "Bob", "r1")
    alice = pixide("alice", "r1")
    alice.chat("/join elsewhere")
    assert bob.expect("message", room="r1")["text"] == "/join elsewhere"
    bob.send({"type": "rooms"})
    rooms = {r["name"] for r in bob.expect("rooms")["rooms"]}
    assert "elsewhere" not in rooms


def test_v1_actions_leaves_and_renames(pix_server, pixide):
    bob = v1_in(pix_server, "Bob", "r1")
    alice = pixide("alice", "r1")
    bob.say("/me waves", room="r1")
    assert alice.expect("chat_message")[0]["content"] == "/me waves"
    bob.send({"type": "name", "name": "Rob"})
    left, skipped = alice.expect("user_left")
    assert skipped == []
    assert left == {"type": "user_left", "userId": "Bob", "roomId": "r1", "message": "Bob left the room"}
    assert alice.expect_next("user_joined")["userId"] == "Rob"
    bob.send({"type": "leave", "room": "r1"})
    gone, skipped = alice.expect("user_left")
    assert skipped == [] and gone["userId"] == "Rob"


# ------------------------------------------------------------------------------------------
# switch_room and rooms
# ------------------------------------------------------------------------------------------

def test_switch_room_joins_then_leaves(pix_server, pixide):
    carol = v1_in(pix_server, "Carol", "old")
    dan = v1_in(pix_server, "Dan", "new")
    alice = pixide("alice", "old")
    carol.expect_change("join", room="old")

    alice.switch_room("new")
    assert alice.expect_next("joined") == {"type": "joined", "roomId": "new", "userId": "alice",
                                           "message": "Joined room: new"}
    dan.expect_change("join", room="new")
    assert carol.expect_change("leave", room="old")["user"]["name"] == "alice"

    # Alice now speaks in the new room only.
    alice.chat("now in new")
    assert dan.expect("message", room="new")["text"] == "now in new"
    marker(carol)  # Carol's current room is old
    msg, skipped = carol.recv_until(is_message("marker"))
    assert not any(m.get("type") == "message" and m.get("text") == "now in new" for m in skipped), skipped
    # And hears the new room only: Carol's marker in old did not reach her.
    dan.say("dan in new", room="new")
    got, skipped = alice.expect("chat_message", content="dan in new")
    assert not any(m.get("content") == "marker" for m in skipped), skipped


def test_an_empty_room_is_removed_after_a_switch(pix_server, pixide):
    bob = pix_server.client("name=Bob")
    alice = pixide("alice")  # in her own room
    bob.send({"type": "rooms"})
    assert "alice" in {r["name"] for r in bob.expect("rooms")["rooms"]}
    alice.switch_room("lobby")
    alice.expect_next("joined")
    bob.expect_change("join", room="lobby")
    bob.send({"type": "rooms"})
    assert "alice" not in {r["name"] for r in bob.expect("rooms")["rooms"]}


def test_a_later_join_is_a_switch_and_defaults_to_the_own_room(pix_server, pixide):
    bob = v1_in(pix_server, "Bob", "alice")
    alice = pixide("alice", "lobby")
    alice.join("alice", "other")
    assert alice.expect_next("joined")["roomId"] == "other"
    alice.join("someone-else")  # the userId of later requests is not looked at
    assert alice.expect_next("joined") == {"type": "joined", "roomId": "alice", "userId": "alice",
                                           "message": "Joined room: alice"}
    assert bob.expect_change("join", room="alice")["user"]["name"] == "alice"


def test_switching_to_the_current_room_changes_nothing(pix_server, pixide):
    bob = v1_in(pix_server, "Bob", "r1")
    alice = pixide("alice", "r1")
    bob.expect_change("join", room="r1")
    alice.switch_room("R1")
    assert alice.expect_next("joined")["roomId"] == "r1"
    marker(bob, "after")
    _, skipped = bob.recv_until(is_message("after"))
    assert changes_in(skipped) == [], skipped


def test_a_refused_switch_keeps_the_user_in_place(pix_server, pixide):
    bob = v1_in(pix_server, "Bob", "r1")
    alice = pixide("alice", "r1")
    alice.switch_room("no spaces allowed")
    err = alice.expect_next("error")
    assert err["code"] == "invalid_room" and err["message"]
    alice.chat("still here")
    assert bob.expect("message", room="r1")["text"] == "still here"


# ------------------------------------------------------------------------------------------
# Names and rooms our rules refuse
# ------------------------------------------------------------------------------------------

def test_a_taken_user_id_is_refused_and_the_client_may_retry(pix_server, pixide):
    pix_server.client("name=Bob")
    c = pixide()
    c.join("bob")
    err = c.expect_next("error")
    assert err["code"] == "name_taken" and "taken" in err["message"]
    c.join("bob2", "lobby")
    assert c.expect_next("joined")["userId"] == "bob2"


def test_two_pixide_tabs_with_one_user_id(pixide):
    pixide("alice")
    second = pixide()
    second.join("ALICE")
    assert second.expect_next("error")["code"] == "name_taken"


@pytest.mark.parametrize("user_id", ["a/b", "admin", "", "   ", "x" * 25])
def test_an_invalid_user_id_is_refused(pixide, user_id):
    c = pixide()
    c.join(user_id)
    assert c.expect_next("error")["code"] == "invalid_name"


def test_a_user_id_that_is_no_room_name_starts_in_the_home_room(pix_server, pixide):
    bob = pix_server.client("name=Bob")
    c = pixide()
    c.join("Jane Doe")
    assert c.expect_next("joined") == {"type": "joined", "roomId": "lobby", "userId": "Jane Doe",
                                       "message": "Joined room: lobby"}
    assert c.expect_next("error")["code"] == "invalid_room"
    assert bob.expect_change("join")["user"]["name"] == "Jane Doe"


def test_a_refused_start_room_starts_in_the_home_room(pixide):
    c = pixide()
    c.join("alice", "r" * 33)
    assert c.expect_next("joined")["roomId"] == "lobby"
    assert c.expect_next("error")["code"] == "invalid_room"


def test_rooms_are_case_insensitive_and_keep_the_creators_case(pix_server, pixide):
    bob = v1_in(pix_server, "Bob", "Studio")
    alice = pixide("alice", "STUDIO")
    assert bob.expect_change("join")["room"] == "Studio"
    alice.chat("x")
    assert alice.expect("chat_message")[0]["roomId"] == "Studio"


# ------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("frame,code", [
    ("not json", "invalid_json"),
    ("[1,2]", "invalid_json"),
    ('{"type":"send","text":"v1"}', "unknown_type"),
    ('{"type":"leave_room","userId":"a"}', "unknown_type"),
    ('{"userId":"a"}', "invalid_request"),
    ('{"type":"chat_message","userId":"a"}', "invalid_request"),
    ('{"type":"switch_room","userId":"a","roomId":7}', "invalid_request"),
])
def test_bad_input_after_join_is_an_error_and_the_session_goes_on(pix_server, pixide, frame, code):
    bob = v1_in(pix_server, "Bob", "r1")
    alice = pixide("alice", "r1")
    alice.send(frame)
    err = alice.expect_next("error")
    assert err["type"] == "error" and err["code"] == code and isinstance(err["message"], str), err
    alice.chat("fine")
    assert bob.expect("message", room="r1")["text"] == "fine"


@pytest.mark.parametrize("frame,code", [
    ('{"type":"chat_message","userId":"a","content":"hi"}', "invalid_request"),
    ('{"type":"switch_room","userId":"a","roomId":"x"}', "invalid_request"),
    ("{oops", "invalid_json"),
    ('{"type":"join"}', "invalid_request"),
    ('{"type":"hello"}', "unknown_type"),
])
def test_bad_input_before_join_is_an_error_and_join_still_works(pixide, frame, code):
    c = pixide()
    c.send(frame)
    assert c.expect_next("error")["code"] == code
    c.join("alice")
    assert c.expect_next("joined")["roomId"] == "alice"


def test_empty_and_oversized_content(pix_server, pixide):
    alice = pixide("alice")
    alice.chat("   ")
    assert alice.expect_next("error")["code"] == "empty_message"
    alice.chat("x" * 4097)
    assert alice.expect_next("error")["code"] == "message_too_long"


def test_binary_frame_closes_1003(pixide):
    c = pixide("alice")
    c.send(b'{"type":"chat_message","userId":"alice","content":"hi"}')
    code, _ = c.wait_closed()
    assert code == 1003


def test_too_many_requests_before_a_join_close_1008(server_factory):
    srv = server_factory(f"compat:\n  pixidePath: {PIXIDE_PATH}\nchat:\n  rate:\n    disconnectAfter: 3\n")
    c = PixIDEClient(f"ws://127.0.0.1:{srv.port}{PIXIDE_PATH}")
    try:
        for _ in range(3):
            c.send("nonsense")
        code, seen = c.wait_closed()
        assert code == 1008
        assert [m.get("code") for m in seen] == ["invalid_json"] * 3
    finally:
        c.close()


def test_requests_after_join_are_rate_limited(server_factory):
    srv = server_factory(f"compat:\n  pixidePath: {PIXIDE_PATH}\n"
                         "chat:\n  rate:\n    perSecond: 0.001\n    burst: 3\n    disconnectAfter: 100\n")
    c = PixIDEClient(f"ws://127.0.0.1:{srv.port}{PIXIDE_PATH}")
    try:
        c.join("alice")  # before the session: not counted
        c.expect_next("joined")
        for i in range(4):
            c.chat(f"m{i}")
        contents = [c.expect("chat_message")[0]["content"] for _ in range(3)]
        assert contents == ["m0", "m1", "m2"]
        assert c.expect_next("error")["code"] == "rate_limited"
    finally:
        c.close()


# ------------------------------------------------------------------------------------------
# Leaving
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["close", "drop"])
def test_the_session_ends_with_the_connection(pix_server, pixide, how):
    bob = v1_in(pix_server, "Bob", "r1")
    alice = pixide("alice", "r1")
    bob.expect_change("join", room="r1")
    alice.close(1001) if how == "close" else alice.drop()
    # No grace period: the leave comes at once, and the userId is free again.
    assert bob.expect_change("leave", room="r1")["user"]["name"] == "alice"
    again = pixide("alice", "r1")
    again.chat("back")
    assert bob.expect("message", room="r1")["text"] == "back"


def test_a_pixide_user_leaving_is_user_left_for_another_pixide_user(pixide):
    alice = pixide("alice", "r1")
    dave = pixide("dave", "r1")
    alice.expect("user_joined", userId="dave")
    dave.close()
    left, skipped = alice.expect("user_left")
    assert skipped == [] and left["userId"] == "dave" and left["roomId"] == "r1"


def test_shutdown_closes_pixide_clients_1012(pix_server, pixide):
    alice = pixide("alice")
    pix_server.signal(15)
    code, _ = alice.wait_closed()
    assert code == 1012
    assert pix_server.wait(server_timeout(5)) == 0  # shutdownTimeoutSeconds 5 at the most
