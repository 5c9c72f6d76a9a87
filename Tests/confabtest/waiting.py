"""Waiting on events with deadlines: nothing here sleeps to synchronise.

`poll_until` is a condition wait (for figures that only exist when asked, like
/healthz counts); `LineReader` turns a child process's output into lines that
are waited for one by one, each wait bounded by a deadline.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import IO, Any, Callable

# How long a wait for an event gives up after. Waits end as soon as the event comes, so this
# only bounds a failing test; it is generous because a loaded machine (two cores, load
# average 4) can hold a process up for a second or more.
DEFAULT_TIMEOUT = 10.0

# What a loaded machine may add on top of when the server is due to act on its own clock.
LOAD_MARGIN = 5.0
# The server checks its timeouts (handshake, idle, close) on a once-a-second sweep.
SWEEP_SECONDS = 1.0


def server_timeout(seconds: float) -> float:
    """The latest a test should see the server act on a timeout of `seconds` (handshake, idle,
    close, shutdown, grace): the timeout, the sweep that notices it, and LOAD_MARGIN."""
    return seconds + SWEEP_SECONDS + LOAD_MARGIN


def poll_until(fn: Callable[[], Any], pred: Callable[[Any], bool], timeout: float = DEFAULT_TIMEOUT,
               interval: float = 0.02) -> Any:
    """Call fn until pred(value) holds (a condition wait with a deadline)."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = fn()
        if pred(value):
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")


class LineReader:
    """The lines of a binary stream (a child's stdout), read by a daemon thread.

    `next_line(deadline)` returns the next line without the characters in `strip`
    at its end, None once the stream has ended (and every time after), and raises
    TimeoutError when the deadline passes first."""

    def __init__(self, stream: IO[bytes], strip: str = "\r\n"):
        self._stream = stream
        self._strip = strip
        self._lines: "queue.Queue[str | None]" = queue.Queue()
        self.ended = False
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for raw in self._stream:
            self._lines.put(raw.decode("utf-8", "replace").rstrip(self._strip))
        self._lines.put(None)

    def next_line(self, deadline: float) -> str | None:
        if self.ended:
            return None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed waiting for a line")
        try:
            line = self._lines.get(timeout=remaining)
        except queue.Empty:
            raise TimeoutError("deadline passed waiting for a line") from None
        if line is None:
            self.ended = True
        return line
