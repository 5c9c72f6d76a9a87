"""Shared fixtures and helpers for Confab's integration tests.

The tests start the real `confab` binary (path in the environment variable
CONFAB_BINARY) on an ephemeral port on 127.0.0.1 and talk to it over real
sockets: raw `socket` for HTTP (so the bytes are exactly ours) and the
`websockets` synchronous client for WebSocket chat.

Rules every helper follows:
- every wait is on an event (a message, a line, EOF, process exit) with a
  deadline; there is no sleep used as synchronisation;
- every loop is bounded (by a deadline and/or a count);
- everything listens on and connects to 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import json
import os
import queue
import re
import signal
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent

STARTUP_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
DEFAULT_TIMEOUT = 5.0
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

LISTEN_LINE = re.compile(
    r"^confab (?P<version>\S+) listening on http://127\.0\.0\.1:(?P<port>\d+) "
    r"\(WebSocket at (?P<ws_path>/[^,\s)]*)(?:, line chat at 127\.0\.0\.1:(?P<line_port>\d+))?\)$"
)

# The default configuration for a test server. Kept to keys issue 2 requires
# so that every test does not depend on later config keys.
DEFAULT_CONFIG = "chat:\n  historySize: 50\nlog:\n  level: debug\n"


# --------------------------------------------------------------------------
# Locating the binary and the web root
# --------------------------------------------------------------------------

def confab_binary() -> str:
    path = os.environ.get("CONFAB_BINARY")
    if not path:
        candidate = REPO_ROOT / ".build" / "debug" / "confab"
        if candidate.exists():
            return str(candidate)
        pytest.skip("CONFAB_BINARY is not set (path to the confab executable)")
    if not os.access(path, os.X_OK):
        pytest.fail(f"CONFAB_BINARY={path!r} is not an executable file")
    return path


def web_root() -> Path:
    """The web root the server is started with.

    CONFAB_WEB_ROOT wins; else `<repo>/web` next to these tests when it holds
    the page; else the `web/` of the checkout the binary was built in.
    """
    explicit = os.environ.get("CONFAB_WEB_ROOT")
    if explicit:
        return Path(explicit).resolve()
    local = REPO_ROOT / "web"
    if (local / "index.html").exists():
        return local
    binary = os.environ.get("CONFAB_BINARY")
    if binary:
        p = Path(os.path.abspath(binary))
        for parent in list(p.parents)[:6]:
            if (parent / "Package.swift").exists() and (parent / "web").is_dir():
                return parent / "web"
    return local


def web_file(name: str) -> Path | None:
    """The file `/static/<name>` should serve, if it exists in the web root."""
    root = web_root()
    for candidate in (root / name, root / "static" / name):
        if candidate.is_file():
            return candidate
    return None


# --------------------------------------------------------------------------
# The server process
# --------------------------------------------------------------------------

class ConfabServer:
    """One running `confab serve` process on an ephemeral port."""

    def __init__(self, workdir: Path, config_yaml: str, extra_args: Iterable[str] = (),
                 env: dict[str, str] | None = None):
        self.workdir = workdir
        self.config_path = workdir / "confab.yaml"
        self.config_path.write_text(config_yaml)
        self.log_path = workdir / "confab.stderr.log"
        self.config_yaml = config_yaml
        self.extra_args = list(extra_args)
        self.extra_env = dict(env or {})
        self.signalled = False
        self.problem: str | None = None  # set by stop(): a crash or an unclean exit
        self.proc: subprocess.Popen | None = None
        self.port: int = 0
        self.host = "127.0.0.1"
        self.ws_path = "/ws"
        self.version = ""
        self.listen_line = ""
        self._stdout_lines: "queue.Queue[str | None]" = queue.Queue()
        self._log_file = None
        self.clients: list[ChatClient] = []

    # -- lifecycle -----------------------------------------------------------

    def command(self) -> list[str]:
        return [
            confab_binary(), "serve",
            "--host", "127.0.0.1", "--port", "0",
            "--config", str(self.config_path),
            "--web-root", str(web_root()),
            *self.extra_args,
        ]

    def start(self) -> "ConfabServer":
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONFAB_") and k != "PORT"}
        env.update(self.extra_env)
        self._log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            env=env,
            cwd=str(self.workdir),
        )
        threading.Thread(target=self._pump_stdout, daemon=True).start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                pytest.fail(f"confab did not print its listening line within {STARTUP_TIMEOUT}s\n{self.logs()}")
            try:
                line = self._stdout_lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                code = self.proc.wait(timeout=STOP_TIMEOUT)
                pytest.fail(f"confab exited with code {code} before listening\n{self.logs()}")
            m = LISTEN_LINE.match(line.rstrip("\r\n"))
            if m:
                self.port = int(m.group("port"))
                self.ws_path = m.group("ws_path")
                self.version = m.group("version")
                self.listen_line = line.rstrip("\r\n")
                return self
            # Any other stdout line before the listening line is a contract
            # violation (logs belong to stderr).
            self.kill()
            pytest.fail(f"unexpected stdout line before the listening line: {line!r}\n{self.logs()}")

    def _pump_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in self.proc.stdout:
            self._stdout_lines.put(raw.decode("utf-8", "replace"))
        self._stdout_lines.put(None)

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.signalled = True
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int | None:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> int | None:
        """SIGTERM, wait up to STOP_TIMEOUT, then SIGKILL. Returns the exit code and records in
        `problem` a server that died on its own or did not exit 0 on SIGTERM."""
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

    def logs(self) -> str:
        try:
            if self._log_file is not None:
                self._log_file.flush()
            text = self.log_path.read_text(errors="replace")
        except OSError as e:  # pragma: no cover - diagnostics only
            text = f"(cannot read log: {e})"
        tail = text[-20000:]
        return f"----- confab stderr ({self.log_path}) -----\n{tail}\n----- end of confab stderr -----"

    # -- addresses -------------------------------------------------------------

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws_url(self, query: str = "") -> str:
        url = f"ws://127.0.0.1:{self.port}{self.ws_path}"
        return f"{url}?{query}" if query else url

    # -- conveniences ----------------------------------------------------------

    def http(self, raw: bytes, timeout: float = DEFAULT_TIMEOUT) -> "HttpResponse":
        return http_request(self.port, raw, timeout=timeout)

    def get(self, path: str, headers: dict[str, str] | None = None) -> "HttpResponse":
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", "Connection: close"]
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        return self.http(("\r\n".join(lines) + "\r\n\r\n").encode())

    def healthz(self) -> dict:
        resp = self.get("/healthz")
        assert resp.status == 200, resp
        return json.loads(resp.body)

    def client(self, query: str = "", read_intro: bool = True, **kw: Any) -> "ChatClient":
        c = ChatClient.connect(self, query=query, read_intro=read_intro, **kw)
        self.clients.append(c)
        return c


_servers_for_item: dict[str, list[ConfabServer]] = collections.defaultdict(list)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    setattr(item, "rep_" + rep.when, rep)
    return rep


def _failed(request) -> bool:
    node = request.node
    return any(getattr(getattr(node, "rep_" + w, None), "failed", False) for w in ("setup", "call"))


@pytest.fixture
def server_factory(tmp_path, request):
    """`server_factory(config_yaml=...)` starts a confab; all are stopped at teardown."""
    started: list[ConfabServer] = []
    counter = iter(range(1000))

    def start(config_yaml: str = DEFAULT_CONFIG, extra_args: Iterable[str] = (),
              env: dict[str, str] | None = None) -> ConfabServer:
        workdir = tmp_path / f"server{next(counter)}"
        workdir.mkdir()
        srv = ConfabServer(workdir, config_yaml, extra_args, env)
        started.append(srv)
        return srv.start()

    yield start
    problems = []
    for srv in started:
        srv.stop()
        if srv.problem:
            problems.append(srv.problem)
        if _failed(request) or srv.problem:
            print(f"\nconfab command: {' '.join(srv.command())}\nconfig:\n{srv.config_yaml}")
            print(srv.logs())
    if problems:
        pytest.fail("; ".join(problems))


@pytest.fixture
def server(server_factory) -> ConfabServer:
    """A fresh server with the default configuration (per test: rooms, seq and history start empty)."""
    return server_factory()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory, request):
    """One server for a whole module of tests that do not depend on chat state."""
    yield from module_server(tmp_path_factory, request, DEFAULT_CONFIG, "shared")


# --------------------------------------------------------------------------
# Raw HTTP
# --------------------------------------------------------------------------

class HttpResponse:
    def __init__(self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes, raw_head: bytes):
        self.status = status
        self.reason = reason
        self.header_list = headers
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body
        self.raw_head = raw_head

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def __repr__(self) -> str:
        return (f"HttpResponse({self.status} {self.reason}, headers={self.header_list}, "
                f"body={self.body[:300]!r}{'...' if len(self.body) > 300 else ''})")


class RawConn:
    """A TCP connection with a read buffer; every read has a deadline.

    The buffer is a bytearray (MiB-sized reads stay linear); reads return bytes."""

    RECV_CHUNK = 65536
    # wait_eof: drop bytes as they arrive (True) or keep them until EOF, so that a test can look
    # at what came when the deadline passed (False)
    DISCARD_WHILE_WAITING = False

    def __init__(self, port: int, timeout: float = DEFAULT_TIMEOUT, nodelay: bool = False):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if nodelay:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.eof = False

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self, deadline: float) -> bool:
        """Read more bytes; False on EOF. Raises TimeoutError at the deadline."""
        if self.eof:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed waiting for bytes from the server")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(self.RECV_CHUNK)
        except socket.timeout:
            raise TimeoutError("deadline passed waiting for bytes from the server") from None
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _take(self, n: int, deadline: float) -> bytes:
        while len(self.buf) < n:
            if not self._fill(deadline):
                raise EOFError(f"connection closed after {len(self.buf)} of {n} bytes")
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_until(self, marker: bytes, timeout: float = DEFAULT_TIMEOUT) -> bytes:
        deadline = time.monotonic() + timeout
        while marker not in self.buf:
            if not self._fill(deadline):
                raise EOFError(f"connection closed before {marker!r}; got {bytes(self.buf[:500])!r}")
        return self._take(self.buf.index(marker) + len(marker), deadline)

    def read_exact(self, n: int, timeout: float = DEFAULT_TIMEOUT) -> bytes:
        return self._take(n, time.monotonic() + timeout)

    def read_to_eof(self, timeout: float = DEFAULT_TIMEOUT) -> bytes:
        deadline = time.monotonic() + timeout
        while self._fill(deadline):
            pass
        out = bytes(self.buf)
        self.buf.clear()
        return out

    def wait_eof(self, timeout: float = DEFAULT_TIMEOUT) -> bool:
        """True if the server ends TCP (FIN or reset) before the deadline; the bytes read are discarded."""
        deadline = time.monotonic() + timeout
        try:
            while self._fill(deadline):
                if self.DISCARD_WHILE_WAITING:
                    self.buf.clear()
        except TimeoutError:
            return False
        self.buf.clear()
        return True

    def read_response(self, method: str = "GET", timeout: float = DEFAULT_TIMEOUT) -> HttpResponse:
        deadline = time.monotonic() + timeout
        head = self.read_until(b"\r\n\r\n", timeout=timeout)
        lines = head[:-4].decode("iso-8859-1").split("\r\n")
        m = re.match(r"^HTTP/1\.[01] (\d{3})(?: (.*))?$", lines[0])
        assert m, f"bad status line {lines[0]!r}"
        status, reason = int(m.group(1)), m.group(2) or ""
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            assert sep, f"bad header line {line!r}"
            headers.append((name.strip(), value.strip()))
        hmap = {k.lower(): v for k, v in headers}
        left = lambda: max(0.01, deadline - time.monotonic())  # noqa: E731
        if method == "HEAD" or status in (101, 204, 304) or 100 <= status < 200:
            body = b""
        elif "content-length" in hmap:
            body = self.read_exact(int(hmap["content-length"]), timeout=left())
        elif hmap.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            for _ in range(100000):
                size_line = self.read_until(b"\r\n", timeout=left())
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    self.read_until(b"\r\n", timeout=left())
                    break
                body += self.read_exact(size, timeout=left())
                self.read_exact(2, timeout=left())
        else:
            body = self.read_to_eof(timeout=left())
        return HttpResponse(status, reason, headers, body, head)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "RawConn":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def http_request(port: int, raw: bytes, timeout: float = DEFAULT_TIMEOUT) -> HttpResponse:
    method = raw.split(b" ", 1)[0].decode("ascii", "replace")
    conn = RawConn(port, timeout)
    try:
        conn.send(raw)
        return conn.read_response(method=method, timeout=timeout)
    finally:
        conn.close()


def ws_accept(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


# --------------------------------------------------------------------------
# Raw WebSocket (for protocol-level tests): an independent RFC 6455 frame
# encoder/decoder with any mask, RSV bits and length form, a raw client for
# any WebSocket path (WsPeer) and a raw chat client on it (RawWebSocket).
# --------------------------------------------------------------------------

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

# A mask key for tests that want the same bytes on every run (ws_frame's default is a random key).
FIXED_MASK_KEY = b"\x37\xfa\x21\x3d"

WsFrame = collections.namedtuple("WsFrame", "fin rsv opcode payload")


def ws_mask(payload: bytes, key: bytes) -> bytes:
    """XOR `payload` with the 4-byte `key` repeated (RFC 6455 §5.3); fast for MiBs."""
    n = len(payload)
    if n == 0:
        return b""
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(stream, "little")).to_bytes(n, "little")


def ws_frame(opcode: int, payload: bytes = b"", fin: bool = True, rsv: int = 0, mask: bool = True,
             key: bytes | None = None, length: int | None = None, length_form: int | None = None) -> bytes:
    """One frame, masked with `key` (a random one when None) unless `mask` is False.
    `length` overrides the announced payload length (header-only tricks);
    `length_form` forces the 7-, 16- or 64-bit length encoding."""
    n = len(payload) if length is None else length
    form = length_form or (7 if n < 126 else 16 if n < 65536 else 64)
    b0 = (0x80 if fin else 0) | ((rsv & 0x7) << 4) | (opcode & 0x0F)
    mbit = 0x80 if mask else 0
    if form == 7:
        head = bytes([b0, mbit | n])
    elif form == 16:
        head = bytes([b0, mbit | 126]) + struct.pack("!H", n)
    else:
        head = bytes([b0, mbit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = key if key is not None else os.urandom(4)
    return head + key + ws_mask(payload, key)


def ws_close_payload(code: int, reason: str | bytes = b"") -> bytes:
    """A close frame's payload; a str reason is sent as UTF-8."""
    return struct.pack("!H", code) + (reason.encode() if isinstance(reason, str) else reason)


def upgrade_bytes(port: int, path: str, key: str | None = None, version: str | None = "13",
                  extra: dict[str, str] | None = None, host: str | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host or f'127.0.0.1:{port}'}",
             "Upgrade: websocket", "Connection: Upgrade"]
    if key is not None:
        lines.append(f"Sec-WebSocket-Key: {key}")
    if version is not None:
        lines.append(f"Sec-WebSocket-Version: {version}")
    for k, v in (extra or {}).items():
        lines.append(f"{k}: {v}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def good_key() -> str:
    """A fresh, valid Sec-WebSocket-Key."""
    return base64.b64encode(os.urandom(16)).decode()


_AUTO = object()  # upgrade_status: a fresh valid key


def upgrade_status(srv, path: str = "/ws", key=_AUTO, version: str | None = "13",
                   headers: dict[str, str] | None = None, host: str | None = None):
    """Sends one upgrade request and returns (response, conn); the caller closes conn."""
    conn = RawConn(srv.port)
    conn.send(upgrade_bytes(srv.port, path, key=good_key() if key is _AUTO else key, version=version,
                            extra=headers, host=host))
    return conn.read_response(), conn


def status_of_upgrade(srv, **kw) -> int:
    resp, conn = upgrade_status(srv, **kw)
    conn.close()
    return resp.status


def _close_code(payload: bytes) -> int | None:
    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None


class WsPeer(RawConn):
    """A hand-driven WebSocket client for any path (chat or echo), with its own decoder."""

    RECV_CHUNK = 1 << 20
    DISCARD_WHILE_WAITING = True

    def __init__(self, port: int, path: str = "/echo", timeout: float = DEFAULT_TIMEOUT,
                 headers: dict[str, str] | None = None, nodelay: bool = True):
        super().__init__(port, timeout, nodelay=nodelay)
        try:
            self._handshake(port, path, timeout, headers)
        except BaseException:
            self.sock.close()  # a failed handshake must not keep the server's connection open
            raise

    def _handshake(self, port: int, path: str, timeout: float, headers: dict[str, str] | None) -> None:
        key = good_key()
        self.send(upgrade_bytes(port, path, key=key, extra=headers))
        try:
            head = self.read_until(b"\r\n\r\n", timeout=timeout).decode("iso-8859-1")
        except EOFError:
            raise EOFError(f"closed during the handshake: {bytes(self.buf)!r}") from None
        self.response_head = head
        assert head.startswith("HTTP/1.1 101"), f"upgrade refused: {head!r}"
        accept = [v.strip() for k, _, v in (line.partition(":") for line in head.split("\r\n")[1:])
                  if k.strip().lower() == "sec-websocket-accept"]
        assert accept == [ws_accept(key)], head

    # -- frames --------------------------------------------------------------

    def send_frame(self, opcode: int, payload: bytes = b"", **kw: Any) -> None:
        self.send(ws_frame(opcode, payload, **kw))

    def read_frame(self, timeout: float = DEFAULT_TIMEOUT) -> WsFrame:
        deadline = time.monotonic() + timeout
        b0, b1 = self._take(2, deadline)
        assert not (b1 & 0x80), "server frames must not be masked"
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._take(2, deadline))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._take(8, deadline))[0]
        return WsFrame(bool(b0 & 0x80), (b0 >> 4) & 0x7, b0 & 0x0F, self._take(n, deadline))

    def read_message(self, timeout: float = DEFAULT_TIMEOUT) -> tuple[int, bytes, list[WsFrame]]:
        """(opcode, payload) of the next data message, and the control frames read before
        it; a close frame instead raises."""
        deadline = time.monotonic() + timeout
        controls: list[WsFrame] = []
        opcode, parts = None, []
        for _ in range(1_000_000):
            f = self.read_frame(max(0.01, deadline - time.monotonic()))
            if f.opcode == OP_CLOSE:
                raise AssertionError(f"server sent close {_close_code(f.payload)} {f.payload[2:]!r} "
                                     f"instead of a message")
            if f.opcode >= 0x8:
                controls.append(f)
                continue
            if opcode is None:
                assert f.opcode in (0x1, 0x2), f"message starts with opcode {f.opcode}"
                opcode = f.opcode
            else:
                assert f.opcode == 0x0, f"data frame {f.opcode} inside a server message"
            parts.append(f.payload)
            if f.fin:
                return opcode, b"".join(parts), controls
        raise AssertionError("unbounded message")

    def read_close(self, timeout: float = DEFAULT_TIMEOUT) -> tuple[int | None, bytes, list[WsFrame]]:
        """The server's close: (code, reason bytes, frames before it)."""
        deadline = time.monotonic() + timeout
        before: list[WsFrame] = []
        for _ in range(1_000_000):
            try:
                f = self.read_frame(max(0.01, deadline - time.monotonic()))
            except EOFError:
                raise AssertionError(f"TCP closed without a close frame; frames before: {before[-5:]}") from None
            if f.opcode == OP_CLOSE:
                return _close_code(f.payload), f.payload[2:], before
            before.append(f)
        raise AssertionError("unbounded stream before close")


class RawWebSocket(WsPeer):
    """A hand-driven chat client: a WsPeer on the server's chat path that reads JSON text frames."""

    def __init__(self, server: ConfabServer, query: str = "", timeout: float = DEFAULT_TIMEOUT):
        super().__init__(server.port, server.ws_path + (f"?{query}" if query else ""), timeout, nodelay=False)

    def read_until_opcode(self, opcode: int, timeout: float = DEFAULT_TIMEOUT,
                          max_frames: int = 1000) -> tuple[bytes, list[tuple[int, bytes]]]:
        """Payload of the first frame with `opcode`, and the frames skipped before it."""
        deadline = time.monotonic() + timeout
        skipped = []
        for _ in range(max_frames):
            f = self.read_frame(timeout=max(0.01, deadline - time.monotonic()))
            if f.opcode == opcode:
                return f.payload, skipped
            if f.opcode == OP_CLOSE:
                raise AssertionError(f"server sent close {_close_code(f.payload)} {f.payload[2:]!r} while "
                                     f"waiting for opcode {opcode}; frames before: {skipped[-5:]}")
            skipped.append((f.opcode, f.payload))
        raise AssertionError(f"no frame with opcode {opcode} in {max_frames} frames: {skipped[-5:]}")

    def read_close(self, timeout: float = DEFAULT_TIMEOUT) -> tuple[int | None, str]:  # type: ignore[override]
        """The server's close as (code, reason text); TCP ending first raises EOFError."""
        payload, _ = self.read_until_opcode(OP_CLOSE, timeout=timeout)
        if len(payload) < 2:
            return None, ""
        return _close_code(payload), payload[2:].decode("utf-8", "replace")

    def read_json_until(self, predicate: Callable[[dict], bool],
                        timeout: float = DEFAULT_TIMEOUT) -> dict:
        """The first text frame whose JSON matches; control frames are skipped."""
        deadline = time.monotonic() + timeout
        seen = []
        for _ in range(1000):
            payload, _ = self.read_until_opcode(OP_TEXT, timeout=max(0.01, deadline - time.monotonic()))
            msg = json.loads(payload)
            if predicate(msg):
                return msg
            seen.append(msg)
        raise AssertionError(f"no matching text frame; seen {seen[-10:]}")

    def read_intro(self, timeout: float = DEFAULT_TIMEOUT) -> list[dict]:
        """Read text frames up to and including the first `history`."""
        deadline = time.monotonic() + timeout
        out = []
        for _ in range(100):
            f = self.read_frame(timeout=max(0.01, deadline - time.monotonic()))
            assert f.opcode == OP_TEXT, f"expected text frame, got opcode {f.opcode}: {f.payload!r}"
            msg = json.loads(f.payload)
            out.append(msg)
            if msg.get("type") == "history":
                return out
        raise AssertionError(f"no history message among {out}")


# --------------------------------------------------------------------------
# Chat client over the websockets sync API
# --------------------------------------------------------------------------

class ChatClient:
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
                timeout: float = DEFAULT_TIMEOUT) -> "ChatClient":
        ws = ws_connect(server.ws_url(query), open_timeout=timeout, close_timeout=1,
                        compression=None, ping_interval=None, max_size=None, max_queue=None,
                        proxy=None)
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
    def id(self) -> str:
        return self.welcome["user"]["id"]

    @property
    def name(self) -> str:
        return self.welcome["user"]["name"]

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


# --------------------------------------------------------------------------
# Module-scoped servers and process probes
# --------------------------------------------------------------------------

def module_server(tmp_path_factory, request, config_yaml: str, name: str = "module"):
    """Generator body for a module-scoped server fixture with `config_yaml`
    (`yield from module_server(...)`); logs are printed when a test of the module failed."""
    workdir = tmp_path_factory.mktemp(name)
    srv = ConfabServer(workdir, config_yaml).start()
    yield srv
    srv.stop()
    failed = any(getattr(getattr(item, "rep_call", None), "failed", False)
                 for item in request.session.items if item.module is request.module)
    if failed or srv.problem:
        print(f"\nconfig:\n{config_yaml}")
        print(srv.logs())
    if srv.problem:
        pytest.fail(srv.problem)


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def metric_value(text: str, name: str, labels: dict[str, str] | None = None) -> float | None:
    """The value of one sample in Prometheus text (`name{labels} value`), or None."""
    want = labels or {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$', line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if got == want:
            return float(m.group(3))
    return None


def proc_rss_bytes(pid: int) -> int:
    """Resident set size of a process, from /proc/PID/status."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")
