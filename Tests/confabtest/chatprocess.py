"""One `confab chat` process driven through pipes, as a script would: lines written to its
stdin, its stdout read line by line (each wait with a deadline)."""

from __future__ import annotations

import re
import subprocess
import time

from confabtest.paths import confab_binary
from confabtest.waiting import DEFAULT_TIMEOUT, LineReader


class ChatProcess:
    """One `confab chat` process; stdout lines are collected by a thread."""

    def __init__(self, url: str, *args: str):
        self.proc = subprocess.Popen(
            [confab_binary(), "chat", url, *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin", "TZ": "UTC"},
        )
        self.lines: list[str] = []
        assert self.proc.stdout is not None
        self._stdout = LineReader(self.proc.stdout, strip="\n")
        self._read = 0

    def _more(self, deadline: float) -> bool:
        try:
            line = self._stdout.next_line(deadline)
        except TimeoutError:
            return False
        if line is None:
            return False
        self.lines.append(line)
        return True

    def wait_line(self, pattern: str, timeout: float = DEFAULT_TIMEOUT) -> str:
        """The next line (after the last one matched) that matches `pattern` (a regex)."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            while self._read < len(self.lines):
                line = self.lines[self._read]
                self._read += 1
                if regex.search(line):
                    return line
            if not self._more(deadline):
                raise AssertionError(f"no line matching {pattern!r} within {timeout}s; output so far:\n"
                                     + "\n".join(self.lines) + f"\nstderr: {self.stderr_now()}")

    def say(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def end_input(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def wait_exit(self, timeout: float = DEFAULT_TIMEOUT) -> int:
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"confab chat did not exit within {timeout}s; output:\n" + "\n".join(self.lines))
        deadline = time.monotonic() + 1
        while self._more(deadline):  # the rest of stdout
            pass
        return code

    def stderr_now(self) -> str:
        return "" if self.proc.poll() is None else (self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else "")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
