"""Raw WebSocket for protocol-level tests: an independent RFC 6455 frame encoder and
decoder with any mask, RSV bits and length form, the opening handshake written by
hand, a raw client for any WebSocket path (`WsPeer`) and a raw chat client on the
server's chat path that reads JSON text frames (`RawWebSocket`).
"""

from __future__ import annotations

import base64
import collections
import hashlib
import json
import os
import struct
import time
from typing import TYPE_CHECKING, Any, Callable

from confabtest.rawconn import RawConn
from confabtest.waiting import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from confabtest.server import ConfabServer

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

# A mask key for tests that want the same bytes on every run (ws_frame's default is a random key).
FIXED_MASK_KEY = b"\x37\xfa\x21\x3d"

WsFrame = collections.namedtuple("WsFrame", "fin rsv opcode payload")


def ws_accept(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


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

