"""A crowd for the browser tests: raw WebSocket chat clients (`confabtest.websocket.RawWebSocket`)
that fill a room past `chat.presence.fullListMax`, so the page shows a large room.

Each member connects with `?name=`, and `join` returns only once the server has sent its
intro (welcome .. history): the server has counted it. Members never read what the
server sends them afterwards (occupancy, roomsChanged): a few KiB that the socket
buffers hold. `leave` says goodbye with close 1000 (the session ends at once, no grace
period) and waits for the server's close; `close_all` does that for everyone left.
A crowd of a thousand needs as many file descriptors here: the soft limit is raised
towards the hard one when needed (the server raises its own at start-up).
"""


from __future__ import annotations

import json
import resource

import pytest

from confabtest.websocket import OP_CLOSE, OP_TEXT, RawWebSocket, ws_close_payload


def ensure_open_files(n: int) -> None:
    """Room for `n` more sockets in this process, or a failure that says why."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 512  # the browser driver, the server's pipes and logs, Python itself
    if soft == resource.RLIM_INFINITY or soft >= want:
        return
    new = want if hard == resource.RLIM_INFINITY else min(hard, want)
    resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    if new < want:
        pytest.fail(f"a crowd of {n} needs about {want} open files; the hard limit is {hard}")


class Crowd:
    def __init__(self, server):
        self.server = server
        self.members: dict[str, RawWebSocket] = {}

    def join(self, *names: str) -> None:
        """Connect one session per name (each in the home room), in this order."""
        ensure_open_files(len(self.members) + len(names))
        for name in names:
            ws = RawWebSocket(self.server, f"name={name}")
            try:
                intro = ws.read_intro()
            except BaseException:
                ws.close()
                raise
            got = intro[0].get("user", {}).get("name")
            assert got == name, f"asked for the name {name!r}, got {got!r}: {intro[:2]}"
            self.members[name] = ws

    def send(self, name: str, request: dict) -> None:
        self.members[name].send_frame(OP_TEXT, json.dumps(request).encode())

    def join_room(self, name: str, room: str) -> None:
        """`name` joins (or creates) `room`; returns once the server said `joined`."""
        self.send(name, {"type": "join", "room": room})
        self.members[name].read_json_until(lambda m: m.get("type") == "joined" and m.get("room") == room)

    def leave(self, *names: str) -> None:
        """Goodbye (close 1000): the sessions end at once; returns once the server closed."""
        for name in names:
            ws = self.members.pop(name)
            try:
                ws.send_frame(OP_CLOSE, ws_close_payload(1000))
                ws.read_until_opcode(OP_CLOSE, max_frames=100_000)
            finally:
                ws.close()

    def close_all(self) -> None:
        for name in list(self.members):
            try:
                self.leave(name)
            except Exception:  # noqa: BLE001 - teardown: the server may be gone already
                self.members.pop(name, None)
