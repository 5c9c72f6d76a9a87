"""Many chat members in one test: a member without a reader thread, a timestamping recorder
for one client's messages, and the fd limit a crowd needs.

`ChatMember` is a real WebSocket chat client (`RawWebSocket`) that reads its intro
(welcome, users, history) when it connects and then reads nothing until asked: what the
server sends it waits in the socket, so hundreds of members cost no threads.
`Recorder` reads one `ChatClient` on a thread and notes when each message arrived, so that
a test can check intervals between server messages while its main thread drives a crowd.
"""

from __future__ import annotations

import json
import resource
import threading
import time
import urllib.parse
from typing import TYPE_CHECKING, Callable

from confabtest.chat import Welcomed
from confabtest.waiting import DEFAULT_TIMEOUT
from confabtest.websocket import OP_CLOSE, OP_TEXT, RawWebSocket, ws_close_payload, ws_frame

if TYPE_CHECKING:
    from confabtest.chat import ChatClient
    from confabtest.server import ConfabServer


def raise_fd_limit(needed: int) -> None:
    """Raise this process's soft open-file limit to at least `needed` (servers started
    afterwards inherit it); fails the test when the hard limit is lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise AssertionError(f"this test needs {needed} open files; the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def text_frame(obj: dict) -> bytes:
    """One masked text frame holding `obj` as JSON (to send several in one write)."""
    return ws_frame(OP_TEXT, json.dumps(obj, ensure_ascii=False).encode())


class ChatMember(RawWebSocket, Welcomed):
    """A chat member without a reader thread; see the module docstring."""

    def __init__(self, server: ConfabServer, name: str | None = None, query: str = "",
                 timeout: float = DEFAULT_TIMEOUT):
        if name is not None:
            query = "&".join(q for q in (query, "name=" + urllib.parse.quote(name)) if q)
        super().__init__(server, query, timeout)
        self.intro = self.read_intro(timeout)
        self.welcome = self.intro[0]
        assert self.welcome.get("type") == "welcome", self.intro
        self.users = next(m for m in self.intro if m.get("type") == "users")

    def request(self, obj: dict) -> None:
        self.send(text_frame(obj))

    def next_message(self, timeout: float = DEFAULT_TIMEOUT) -> dict:
        payload, _ = self.read_until_opcode(OP_TEXT, timeout=timeout)
        return json.loads(payload)

    def read_until_match(self, predicate: Callable[[dict], bool], timeout: float = DEFAULT_TIMEOUT,
                         max_messages: int = 10000) -> tuple[dict, list[dict]]:
        """The first message that matches, and the messages before it."""
        deadline = time.monotonic() + timeout
        skipped: list[dict] = []
        for _ in range(max_messages):
            msg = self.next_message(max(0.01, deadline - time.monotonic()))
            if predicate(msg):
                return msg, skipped
            skipped.append(msg)
        raise AssertionError(f"no matching message in {max_messages}; last: {skipped[-5:]}")

    def goodbye(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Close with 1000 (the session ends at once) and wait for the server's close echo:
        when this returns, the server has ended the session."""
        self.send(ws_frame(OP_CLOSE, ws_close_payload(1000)))
        self.read_until_opcode(OP_CLOSE, timeout=timeout, max_frames=100000)
        self.close()


class Recorder:
    """Reads `client` on a thread until `stop()` or `timeout`, keeping (arrival time, message)."""

    def __init__(self, client: ChatClient, timeout: float = 60.0):
        self.client = client
        self.records: list[tuple[float, dict]] = []
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._deadline = time.monotonic() + timeout
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set() and time.monotonic() < self._deadline:
                try:
                    msg = self.client.recv(timeout=0.05)
                except AssertionError:  # nothing within 50 ms: look at the stop flag again
                    continue
                with self._lock:
                    self.records.append((time.monotonic(), msg))
                    self._lock.notify_all()
        except BaseException as e:  # the connection ended: the test sees it in `error`
            with self._lock:
                self.error = e
                self._lock.notify_all()

    def messages(self) -> list[dict]:
        with self._lock:
            return [m for _, m in self.records]

    def records_now(self) -> list[tuple[float, dict]]:
        with self._lock:
            return list(self.records)

    def wait_for(self, predicate: Callable[[dict], bool], timeout: float = DEFAULT_TIMEOUT) -> dict:
        """The first recorded message that matches (already recorded, or arriving before the deadline)."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._lock:
            while True:
                for _, msg in self.records[seen:]:
                    if predicate(msg):
                        return msg
                seen = len(self.records)
                if self.error is not None:
                    raise AssertionError(f"the recorded client failed: {self.error!r}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no matching message within {timeout}s; last: "
                                         f"{[m for _, m in self.records[-5:]]}")
                self._lock.wait(remaining)  # woken by each new record

    def stop(self) -> list[tuple[float, dict]]:
        self._stop.set()
        self._thread.join(timeout=5)
        assert not self._thread.is_alive(), "the recorder did not stop"
        with self._lock:
            return list(self.records)
