"""A line-chat user (`line.enabled`): a telnet-like TCP client, every read with a deadline."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from confabtest.rawconn import RawConn
from confabtest.server import LISTEN_LINE
from confabtest.waiting import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from confabtest.server import ConfabServer


def line_port(server: ConfabServer) -> int:
    """The line chat's port, from the server's listening line."""
    m = LISTEN_LINE.match(server.listen_line)
    assert m and m.group("line_port"), f"no line chat in the listening line: {server.listen_line!r}"
    return int(m.group("line_port"))


class LineUser(RawConn):
    """A telnet-like user: lines out, CRLF-terminated lines in."""

    def line(self, timeout: float = DEFAULT_TIMEOUT) -> str:
        return self.read_until(b"\r\n", timeout=timeout)[:-2].decode("utf-8")

    def wait_line(self, pattern: str, timeout: float = DEFAULT_TIMEOUT, max_lines: int = 200) -> tuple[str, list[str]]:
        """The first line matching `pattern`, and the lines before it."""
        regex = re.compile(pattern)
        skipped: list[str] = []
        for _ in range(max_lines):
            text = self.line(timeout)
            if regex.search(text):
                return text, skipped
            skipped.append(text)
        raise AssertionError(f"no line matching {pattern!r} in {max_lines} lines: {skipped[-10:]}")

    def say(self, text: str, end: bytes = b"\n") -> None:
        self.send(text.encode() + end)
