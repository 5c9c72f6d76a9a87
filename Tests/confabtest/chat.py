"""A protocol-v1 chat client over the `websockets` synchronous client, and message predicates.

Every read has a deadline; messages read ahead while looking for another are kept
in `pending`, so nothing is lost between two waits.
"""

from __future__ import annotations

import collections
import json
import socket
import time
from typing import TYPE_CHECKING, Any, Callable

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from confabtest.waiting import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from confabtest.server import ConfabServer


class Welcomed:
    """Who a connection is, from its `welcome` (set as `self.welcome`)."""

    welcome: dict

    @property
    def id(self) -> str:
        return self.welcome["user"]["id"]

    @property
    def name(self) -> str:
        return self.welcome["user"]["name"]

    @property
    def user(self) -> dict:
        return {"id": self.id, "name": self.name}


class ChatClient(Welcomed):
    """A protocol-v1 chat client; messages read ahead are kept in `pending`."""

    def __init__(self, ws, server: ConfabServer):
        self.ws = ws
        self.server = server
        self.pending: collections.deque[dict] = collections.deque()
        self.welcome: dict = {}
        self.users: dict = {}
        self.history: dict = {}
        self.intro: list[dict] = []

    @classmethod
    def connect(cls, server: ConfabServer, query: str = "", read_intro: bool = True,
                timeout: float = DEFAULT_TIMEOUT, headers: dict[str, str] | None = None) -> "ChatClient":
        ws = ws_connect(server.ws_url(query), open_timeout=timeout, close_timeout=1,
                        compression=None, ping_interval=None, max_size=None, max_queue=None,
                        proxy=None, additional_headers=headers)
        ws.__enter__()  # the context-manager form is the supported one in websockets >= 17
        client = cls(ws, server)
        if read_intro:
            client.read_intro(timeout)
        return client

    def read_intro(self, timeout: float = DEFAULT_TIMEOUT) -> list[dict]:
        """welcome, then everything up to the first history; other messages
        (an `error` right after the welcome, say) are kept in `pending`."""
        deadline = time.monotonic() + timeout
        first = self._recv_raw(max(0.01, deadline - time.monotonic()))
        assert first.get("type") == "welcome", f"first message is not welcome: {first}"
        self.welcome = first
        self.intro = [first]
        for _ in range(1000):
            msg = self._recv_raw(max(0.01, deadline - time.monotonic()))
            self.intro.append(msg)
            if msg.get("type") == "users" and not self.users:
                self.users = msg
            elif msg.get("type") == "history":
                self.history = msg
                return self.intro
            else:
                self.pending.append(msg)
        raise AssertionError(f"no history after welcome: {self.intro}")

    @property
    def token(self) -> str:
        return self.welcome["token"]

    def _recv_raw(self, timeout: float) -> dict:
        try:
            data = self.ws.recv(timeout=timeout)
        except TimeoutError:
            raise AssertionError(f"no message from the server within {timeout:.1f}s") from None
        assert isinstance(data, str), f"expected a text frame, got binary {data!r}"
        msg = json.loads(data)
        assert isinstance(msg, dict), f"server message is not a JSON object: {data!r}"
        return msg

    def recv(self, timeout: float = DEFAULT_TIMEOUT) -> dict:
        if self.pending:
            return self.pending.popleft()
        return self._recv_raw(timeout)

    def recv_until(self, predicate: Callable[[dict], bool], timeout: float = DEFAULT_TIMEOUT,
                   max_messages: int = 1000) -> tuple[dict, list[dict]]:
        """Read until a message matches; return it and the messages skipped."""
        deadline = time.monotonic() + timeout
        skipped: list[dict] = []
        for _ in range(max_messages):
            remaining = deadline - time.monotonic()
            if remaining <= 0 and not self.pending:
                break
            try:
                msg = self.recv(timeout=max(0.01, remaining))
            except AssertionError:
                break
            if predicate(msg):
                return msg, skipped
            skipped.append(msg)
        raise AssertionError(f"no matching message within {timeout}s; skipped: {skipped}")

    def expect(self, type_: str, timeout: float = DEFAULT_TIMEOUT, **fields: Any) -> dict:
        """The next message of `type_` with the given field values (others skipped)."""
        msg, _ = self.recv_until(is_type(type_, **fields), timeout=timeout)
        return msg

    def expect_change(self, event: str | None = None, timeout: float = DEFAULT_TIMEOUT, room: str | None = None,
                      user_id: str | None = None, user: dict | None = None) -> dict:
        """The next presence change that matches (other messages, and changes before it in
        its message, skipped), as the change with its message's `room` added:
        `{"room", "event", "user", "oldName"?}`.

        One `presence` carries all the changes of a server loop turn, so the changes after
        the matched one are put back at the front of `pending` as a `presence` of their own:
        the next wait sees them, in order, however the server happened to group them."""
        match = change_matcher(event, room=room, user_id=user_id, user=user)
        msg, _ = self.recv_until(lambda m: any(match(m.get("room"), c) for c in presence_changes(m)),
                                 timeout=timeout)
        changes = msg["changes"]
        index = next(i for i, c in enumerate(changes) if match(msg.get("room"), c))
        if index + 1 < len(changes):
            self.pending.appendleft({"type": "presence", "room": msg["room"], "changes": changes[index + 1:]})
        return {"room": msg["room"], **changes[index]}

    def expect_next(self, type_: str, timeout: float = DEFAULT_TIMEOUT) -> dict:
        """The very next message, which must be of `type_`."""
        msg = self.recv(timeout=timeout)
        assert msg.get("type") == type_, f"expected {type_}, got {msg}"
        return msg

    def messages(self, n: int, timeout: float = DEFAULT_TIMEOUT) -> list[dict]:
        """The next n chat `message`s (other types skipped)."""
        return [self.expect("message", timeout=timeout) for _ in range(n)]

    def send(self, obj: Any) -> None:
        # ensure_ascii=False: non-ASCII text travels as raw UTF-8, as browsers send it
        self.ws.send(json.dumps(obj, ensure_ascii=False) if not isinstance(obj, (str, bytes)) else obj)

    def say(self, text: str, **extra: Any) -> None:
        self.send({"type": "send", "text": text, **extra})

    def wait_closed(self, timeout: float = DEFAULT_TIMEOUT) -> tuple[int | None, list[dict]]:
        """Read until the server closes; return its close code and the messages read."""
        deadline = time.monotonic() + timeout
        seen: list[dict] = list(self.pending)
        self.pending.clear()
        for _ in range(100000):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"server did not close within {timeout}s; messages: {seen[-10:]}")
            try:
                data = self.ws.recv(timeout=remaining)
            except TimeoutError:
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
        """End the TCP connection abruptly, without a close frame."""
        sock = self.ws.socket
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
        try:
            self.ws.close_socket()
        except Exception:
            pass


def is_message(text: str | None = None, room: str | None = None) -> Callable[[dict], bool]:
    def pred(m: dict) -> bool:
        return (m.get("type") == "message"
                and (text is None or m.get("text") == text)
                and (room is None or m.get("room") == room))
    return pred


def is_type(type_: str, **fields: Any) -> Callable[[dict], bool]:
    return lambda m: m.get("type") == type_ and all(m.get(k) == v for k, v in fields.items())



def presence_changes(msg: dict) -> list[dict]:
    """The `changes` of a `presence` message; [] for any other message."""
    if msg.get("type") != "presence":
        return []
    changes = msg.get("changes")
    assert isinstance(changes, list) and changes, f"presence without a list of changes: {msg}"
    return changes


def change_matcher(event: str | None = None, room: str | None = None, user_id: str | None = None,
                   user: dict | None = None) -> Callable[[str | None, dict], bool]:
    """A predicate on (room, change) for the given event, room, user id or whole user."""
    def pred(msg_room: str | None, change: dict) -> bool:
        return ((event is None or change.get("event") == event)
                and (room is None or msg_room == room)
                and (user_id is None or change.get("user", {}).get("id") == user_id)
                and (user is None or change.get("user") == user))
    return pred


def has_change(event: str | None = None, room: str | None = None, user_id: str | None = None,
               user: dict | None = None) -> Callable[[dict], bool]:
    """A message predicate: a `presence` with at least one change that matches."""
    match = change_matcher(event, room=room, user_id=user_id, user=user)
    return lambda m: any(match(m.get("room"), c) for c in presence_changes(m))


def changes_in(messages: list[dict], event: str | None = None, room: str | None = None,
               user_id: str | None = None) -> list[dict]:
    """Every matching presence change in `messages`, each with its message's `room` added."""
    match = change_matcher(event, room=room, user_id=user_id)
    return [{"room": m.get("room"), **c} for m in messages for c in presence_changes(m) if match(m.get("room"), c)]
