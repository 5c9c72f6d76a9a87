"""One `confab serve` process on an ephemeral port.

The server is started with a config file written into its own work folder,
`--host 127.0.0.1 --port 0`, and an environment without CONFAB_* variables (the
server refuses unknown ones, CONFAB_BINARY among them). Its port comes from the
one line it prints on stdout (the readiness banner); any other stdout line
before it fails the test, since logs belong to stderr, which goes to a file.
`stop()` sends SIGTERM, waits, and kills only if it must.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import pytest

from confabtest.paths import confab_binary, web_root
from confabtest.rawconn import HttpResponse, http_request
from confabtest.waiting import DEFAULT_TIMEOUT, LineReader

if TYPE_CHECKING:
    from confabtest.chat import ChatClient

# Deadlines for a debug build on a loaded machine; both end as soon as the process does.
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0  # more than the default server.shutdownTimeoutSeconds (5) and then some

# The readiness banner, the only line `confab serve` prints on stdout.
LISTEN_LINE = re.compile(
    r"^confab (?P<version>\S+) listening on http://127\.0\.0\.1:(?P<port>\d+) "
    r"\(WebSocket at (?P<ws_path>/[^,\s)]*)(?:, line chat at 127\.0\.0\.1:(?P<line_port>\d+))?\)$"
)

# The default configuration for a test server. Kept to keys issue 2 requires
# so that every test does not depend on later config keys.
DEFAULT_CONFIG = "chat:\n  historySize: 50\nlog:\n  level: debug\n"


def server_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without CONFAB_* and PORT, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFAB_") and k != "PORT"}
    env.update(extra or {})
    return env


class ConfabServer:
    """One running `confab serve` process on an ephemeral port.

    `workdir` holds confab.yaml and is the process's working directory; stderr goes
    to `log_path` (default: `workdir/confab.stderr.log`)."""

    def __init__(self, workdir: Path, config_yaml: str = DEFAULT_CONFIG, extra_args: Iterable[str] = (),
                 env: dict[str, str] | None = None, log_path: Path | None = None, port: int = 0):
        """`port` 0 takes a free one; a restart test gives the port of the process it follows."""
        self.requested_port = port
        self.workdir = workdir
        self.config_path = workdir / "confab.yaml"
        self.config_path.write_text(config_yaml)
        self.log_path = log_path or workdir / "confab.stderr.log"
        self.config_yaml = config_yaml
        self.extra_args = list(extra_args)
        self.extra_env = dict(env or {})
        self.signalled = False  # a signal was sent on purpose (by the test or by stop())
        self.problem: str | None = None  # set by stop(): a crash or an unclean exit
        self.proc: subprocess.Popen | None = None
        self.port: int = 0
        self.host = "127.0.0.1"
        self.ws_path = "/ws"
        self.version = ""
        self.listen_line = ""
        self._stdout: LineReader | None = None
        self._log_file = None
        self.clients: list[ChatClient] = []

    # -- lifecycle -----------------------------------------------------------

    def command(self) -> list[str]:
        return [
            confab_binary(), "serve",
            "--host", "127.0.0.1", "--port", str(self.requested_port),
            "--config", str(self.config_path),
            "--web-root", str(web_root()),
            *self.extra_args,
        ]

    def start(self) -> "ConfabServer":
        """Start the process and wait (with a deadline) for its listening line."""
        command = self.command()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            env=server_environment(self.extra_env),
            cwd=str(self.workdir),
        )
        assert self.proc.stdout is not None
        self._stdout = LineReader(self.proc.stdout)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        try:
            line = self._stdout.next_line(deadline)
        except TimeoutError:
            self.kill()
            pytest.fail(f"confab did not print its listening line within {STARTUP_TIMEOUT}s\n{self.logs()}")
        if line is None:
            code = self.proc.wait(timeout=STOP_TIMEOUT)
            pytest.fail(f"confab exited with code {code} before listening\n{self.logs()}")
        m = LISTEN_LINE.match(line)
        if not m:
            # Any other stdout line before the listening line is a contract
            # violation (logs belong to stderr).
            self.kill()
            pytest.fail(f"unexpected stdout line before the listening line: {line!r}\n{self.logs()}")
        self.port = int(m.group("port"))
        self.ws_path = m.group("ws_path")
        self.version = m.group("version")
        self.listen_line = line
        return self

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.signalled = True
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int | None:
        """The exit code, or None if the process still runs after `timeout` seconds."""
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> int | None:
        """SIGTERM, wait up to STOP_TIMEOUT, then SIGKILL. Returns the exit code and records in
        `problem` a server that died on its own or did not exit 0 on SIGTERM. Idempotent."""
        if self.proc is None:
            return None
        early = self.proc.poll()
        if early is not None and not self.signalled:
            self.problem = f"confab exited on its own during the test with code {early}"
        if self.proc.poll() is None:
            signalled_here = not self.signalled
            self.signalled = True
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            code = self.wait(STOP_TIMEOUT)
            if code is None:
                self.kill()
                self.problem = f"confab did not exit within {STOP_TIMEOUT}s of SIGTERM"
            elif code != 0 and signalled_here:
                self.problem = f"confab exited with code {code} after SIGTERM (expected 0)"
        for c in self.clients:  # closed by the server's 1001 by now; this frees their threads
            c.close()
        self.clients.clear()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT)

    # -- the stderr log ----------------------------------------------------------

    def log_text(self) -> str:
        """Everything the server wrote to stderr so far (or why the file cannot be read)."""
        try:
            if self._log_file is not None:
                self._log_file.flush()
            return self.log_path.read_text("utf-8", "replace")
        except OSError as e:  # pragma: no cover - diagnostics only
            return f"(cannot read log: {e})"

    def logs(self) -> str:
        """The end of the stderr log, framed for a failure report."""
        tail = self.log_text()[-20000:]
        return f"----- confab stderr ({self.log_path}) -----\n{tail}\n----- end of confab stderr -----"

    # -- addresses -------------------------------------------------------------

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The chat page's address."""
        return f"{self.http_url}/"

    def ws_url(self, query: str = "") -> str:
        url = f"ws://127.0.0.1:{self.port}{self.ws_path}"
        return f"{url}?{query}" if query else url

    # -- conveniences ----------------------------------------------------------

    def http(self, raw: bytes, timeout: float = DEFAULT_TIMEOUT) -> HttpResponse:
        return http_request(self.port, raw, timeout=timeout)

    def get(self, path: str, headers: dict[str, str] | None = None) -> HttpResponse:
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", "Connection: close"]
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        return self.http(("\r\n".join(lines) + "\r\n\r\n").encode())

    def healthz(self) -> dict:
        resp = self.get("/healthz")
        assert resp.status == 200, resp
        return json.loads(resp.body)

    def client(self, query: str = "", read_intro: bool = True, **kw: Any) -> "ChatClient":
        """A chat client (closed at stop()); imported here so that suites without the
        `websockets` library can use the server."""
        from confabtest.chat import ChatClient
        c = ChatClient.connect(self, query=query, read_intro=read_intro, **kw)
        self.clients.append(c)
        return c
