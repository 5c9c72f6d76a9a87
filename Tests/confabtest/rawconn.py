"""A TCP connection to the server whose every read has a deadline, and raw HTTP/1.1 over it.

Raw `socket`, so the bytes on the wire are exactly the test's: requests are written
by hand and responses parsed here (status line, headers, Content-Length, chunked, EOF).
"""

from __future__ import annotations

import re
import socket
import time
from typing import Any

from confabtest.waiting import DEFAULT_TIMEOUT


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
