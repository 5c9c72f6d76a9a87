"""RFC 6455 conformance against the echo endpoint (`diagnostics.echoPath`), Autobahn style.

Every case opens its own raw connection (`WsPeer`, our own frame codec: masking, RSV
bits, 7/16/64-bit lengths) to a module-wide server and checks exactly what comes back:
the echo, the pongs, or the close code. "Fail fast" cases never send the rest of the
message, so a close that arrives proves the server decided early.
"""

from __future__ import annotations

import os
import struct
import time

import pytest

from confabtest.plugin import module_server
from confabtest.waiting import DEFAULT_TIMEOUT
from confabtest.websocket import WsPeer, ws_close_payload, ws_frame

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

# A close timeout far beyond any wait here: TCP that ends is ended by the close handshake,
# never by the timeout that would cut it anyway.
ECHO_CONFIG = "diagnostics:\n  echoPath: /echo\nwebsocket:\n  closeTimeoutSeconds: 60\nlog:\n  level: info\n"
BIG_CONFIG = ("diagnostics:\n  echoPath: /echo\n"
              "websocket:\n  maxMessageBytes: 16777216\n  maxFrameBytes: 16777216\n  maxFragments: 65536\n"
              "log:\n  level: info\n")
MIB = 1 << 20


@pytest.fixture(scope="module")
def echo(tmp_path_factory, request):
    """Echo endpoint with the default WebSocket limits (64 KiB frames and messages)."""
    yield from module_server(tmp_path_factory, request, ECHO_CONFIG, "echo")


@pytest.fixture(scope="module")
def big_echo(tmp_path_factory, request):
    """Echo endpoint configured like the Autobahn suites: 16 MiB messages, 65,536 fragments."""
    yield from module_server(tmp_path_factory, request, BIG_CONFIG, "bigecho")


def peer(srv, timeout: float = DEFAULT_TIMEOUT) -> WsPeer:
    return WsPeer(srv.port, "/echo", timeout=timeout)


def text_of_size(n: int) -> bytes:
    """Valid UTF-8 of exactly n bytes, mixing 1-, 2-, 3- and 4-byte sequences."""
    unit = "aé€😀".encode()  # 1 + 2 + 3 + 4 = 10 bytes
    out = unit * (n // len(unit))
    return out + b"z" * (n - len(out))


def assert_closed_with(p: WsPeer, code: int, why: str, timeout: float = DEFAULT_TIMEOUT) -> None:
    got, reason, before = p.read_close(timeout=timeout)
    data = [f for f in before if f.opcode in (TEXT, BINARY, CONT)]
    assert got == code, f"{why}: close code {got} {reason!r} (expected {code})"
    assert not data, f"{why}: the server echoed data before closing: {data[:3]}"


# -- echo at every length encoding ---------------------------------------------------

SIZES = [0, 125, 126, 65535, 65536, MIB]


@pytest.mark.parametrize("opcode", [TEXT, BINARY], ids=["text", "binary"])
@pytest.mark.parametrize("size", SIZES)
def test_echo_sizes(big_echo, size, opcode):
    payload = text_of_size(size) if opcode == TEXT else os.urandom(size)
    with peer(big_echo) as p:
        p.send_frame(opcode, payload)
        got_op, got, controls = p.read_message(timeout=20)
        assert got_op == opcode
        assert len(got) == size and got == payload
        assert not controls


@pytest.mark.parametrize("form", [16, 64])
def test_non_minimal_length_encodings_are_accepted(echo, form):
    # RFC 6455 asks for the minimal length form but the decoder must read what it is told.
    with peer(echo) as p:
        p.send_frame(TEXT, b"tiny", length_form=form)
        assert p.read_message()[:2] == (TEXT, b"tiny")


def test_echo_16_mib_message(big_echo):
    payload = os.urandom(16 * MIB)
    with peer(big_echo, timeout=30) as p:
        p.send_frame(BINARY, payload)
        got_op, got, _ = p.read_message(timeout=60)
        assert got_op == BINARY and len(got) == len(payload)
        assert got == payload


def test_echo_message_in_65536_fragments(big_echo):
    data = text_of_size(65536)
    frames = [ws_frame(TEXT, data[:1], fin=False)]
    frames += [ws_frame(CONT, data[i:i + 1], fin=False) for i in range(1, 65535)]
    frames.append(ws_frame(CONT, data[65535:], fin=True))
    assert len(frames) == 65536
    with peer(big_echo, timeout=30) as p:
        p.send(b"".join(frames))
        got_op, got, _ = p.read_message(timeout=60)
        assert got_op == TEXT and got == data


def test_fragment_65537_closes_1009(big_echo):
    with peer(big_echo, timeout=30) as p:
        frames = [ws_frame(BINARY, b"x", fin=False)] + [ws_frame(CONT, b"x", fin=False)] * 65535
        p.send(b"".join(frames) + ws_frame(CONT, b"x", fin=True))
        assert_closed_with(p, 1009, "65,537 fragments", timeout=30)


def test_frame_over_16_mib_closes_1009_from_header(big_echo):
    with peer(big_echo) as p:
        p.send(ws_frame(BINARY, b"", length=16 * MIB + 1))  # header and mask only
        assert_closed_with(p, 1009, "16 MiB + 1 frame announced")


# -- fragmentation ---------------------------------------------------------------------

def test_fragmented_with_pings_interleaved(echo):
    parts = [b"Hello, ", "wörld".encode(), b" - ", "fragmented 😀".encode()]
    with peer(echo) as p:
        p.send(ws_frame(TEXT, parts[0], fin=False) + ws_frame(PING, b"p1")
               + ws_frame(CONT, parts[1], fin=False) + ws_frame(PING, b"p2")
               + ws_frame(CONT, parts[2], fin=False) + ws_frame(PING, b"")
               + ws_frame(CONT, parts[3], fin=True))
        op, data, controls = p.read_message()
        assert op == TEXT and data == b"".join(parts)
        assert [(f.opcode, f.payload) for f in controls] == [(PONG, b"p1"), (PONG, b"p2"), (PONG, b"")], \
            "each pong must arrive, in order, before the echo of the message it interrupted"


def test_fragmented_binary_with_empty_fragments(echo):
    with peer(echo) as p:
        p.send(ws_frame(BINARY, b"", fin=False) + ws_frame(CONT, b"\x00\x01", fin=False)
               + ws_frame(CONT, b"", fin=False) + ws_frame(CONT, b"\xff", fin=True))
        assert p.read_message()[:2] == (BINARY, b"\x00\x01\xff")


def test_frames_each_in_own_write_byte_by_byte(echo):
    with peer(echo) as p:
        data = ws_frame(TEXT, "split €".encode(), fin=False) + ws_frame(CONT, b" done", fin=True)
        for i in range(len(data)):
            p.send(data[i:i + 1])
        assert p.read_message()[:2] == (TEXT, "split € done".encode())


@pytest.mark.parametrize("frames, why", [
    ([ws_frame(CONT, b"orphan", fin=True)], "continuation without a start"),
    ([ws_frame(CONT, b"orphan", fin=False)], "non-final continuation without a start"),
    ([ws_frame(TEXT, b"one", fin=True), ws_frame(CONT, b"late", fin=True)], "continuation after a finished message"),
    ([ws_frame(TEXT, b"start", fin=False), ws_frame(TEXT, b"again", fin=True)], "text inside an unfinished message"),
    ([ws_frame(BINARY, b"start", fin=False), ws_frame(BINARY, b"again", fin=False)], "binary inside an unfinished message"),
    ([ws_frame(TEXT, b"start", fin=False), ws_frame(BINARY, b"x", fin=True)], "binary inside unfinished text"),
])
def test_fragmentation_errors_close_1002(echo, frames, why):
    with peer(echo) as p:
        p.send(b"".join(frames))
        code, reason, before = p.read_close()
        assert code == 1002, f"{why}: close {code} {reason!r}"
        # The one complete message ahead of the violation is echoed, nothing else.
        assert all(f.payload == b"one" for f in before if f.opcode in (TEXT, BINARY, CONT)), before


# -- control frames, RSV bits, opcodes --------------------------------------------------

@pytest.mark.parametrize("opcode", [PING, PONG, CLOSE], ids=["ping", "pong", "close"])
def test_control_frame_over_125_bytes_closes_1002(echo, opcode):
    payload = ws_close_payload(1000, b"r" * 124) if opcode == CLOSE else b"x" * 126
    with peer(echo) as p:
        p.send_frame(opcode, payload)
        assert_closed_with(p, 1002, f"control opcode {opcode} with {len(payload)} bytes")


def test_control_frame_of_125_bytes_is_fine(echo):
    with peer(echo) as p:
        p.send_frame(PING, b"y" * 125)
        f = p.read_frame()
        assert (f.opcode, f.payload) == (PONG, b"y" * 125)


@pytest.mark.parametrize("opcode", [PING, PONG, CLOSE], ids=["ping", "pong", "close"])
def test_fragmented_control_frame_closes_1002(echo, opcode):
    with peer(echo) as p:
        p.send(ws_frame(opcode, ws_close_payload(1000) if opcode == CLOSE else b"part", fin=False))
        assert_closed_with(p, 1002, f"control opcode {opcode} without FIN")


@pytest.mark.parametrize("rsv", range(1, 8))
@pytest.mark.parametrize("opcode", [TEXT, BINARY, PING], ids=["text", "binary", "ping"])
def test_rsv_bits_close_1002(echo, rsv, opcode):
    with peer(echo) as p:
        p.send_frame(opcode, b"rsv", rsv=rsv)
        assert_closed_with(p, 1002, f"RSV={rsv:03b} on opcode {opcode}")


def test_rsv_bits_on_continuation_close_1002(echo):
    with peer(echo) as p:
        p.send(ws_frame(TEXT, b"ok so far", fin=False) + ws_frame(CONT, b"rsv", rsv=4))
        assert_closed_with(p, 1002, "RSV1 on a continuation")


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 11, 12, 13, 14, 15])
def test_reserved_opcode_closes_1002(echo, opcode):
    with peer(echo) as p:
        p.send(ws_frame(TEXT, b"before") + ws_frame(opcode, b"reserved"))
        op, data, _ = p.read_message()
        assert (op, data) == (TEXT, b"before"), "the valid message ahead must still be echoed"
        code, reason, _ = p.read_close()
        assert code == 1002, f"reserved opcode {opcode}: close {code} {reason!r}"


def test_unsolicited_pong_is_ignored(echo):
    with peer(echo) as p:
        p.send(ws_frame(PONG, b"unasked") + ws_frame(PONG, b"") + ws_frame(TEXT, b"still here"))
        op, data, controls = p.read_message()
        assert (op, data) == (TEXT, b"still here")
        assert not controls, f"the server answered a pong: {controls}"


# -- UTF-8 ------------------------------------------------------------------------------

INVALID_UTF8 = {
    "lone-continuation": b"\x80",
    "ff-byte": b"abc\xff",
    "overlong-slash": b"\xc0\xaf",
    "overlong-3byte": b"\xe0\x80\xaf",
    "overlong-4byte": b"\xf0\x80\x80\xaf",
    "surrogate-d800": b"\xed\xa0\x80",
    "surrogate-dfff": b"\xed\xbf\xbf",
    "above-10ffff": b"\xf4\x90\x80\x80",
    "f5-lead": b"\xf5\x80\x80\x80",
    "truncated-at-end": "κόσμε".encode() + b"\xe2\x82",
    "5-byte-form": b"\xf8\x88\x80\x80\x80",
    "autobahn-6.3.1": b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",
}


@pytest.mark.parametrize("payload", INVALID_UTF8.values(), ids=INVALID_UTF8.keys())
def test_invalid_utf8_closes_1007(echo, payload):
    with peer(echo) as p:
        p.send_frame(TEXT, payload)
        assert_closed_with(p, 1007, f"text {payload!r}")


@pytest.mark.parametrize("payload", INVALID_UTF8.values(), ids=INVALID_UTF8.keys())
def test_invalid_utf8_in_fragments_closes_1007(echo, payload):
    # One byte per fragment: every sequence is split across frames.
    frames = [ws_frame(TEXT if i == 0 else CONT, payload[i:i + 1], fin=i == len(payload) - 1)
              for i in range(len(payload))]
    with peer(echo) as p:
        p.send(b"".join(frames))
        assert_closed_with(p, 1007, f"fragmented text {payload!r}")


def test_invalid_utf8_fails_fast_after_first_bad_fragment(echo):
    """Autobahn 6.4.1: valid fragment, invalid fragment, and the final fragment never sent."""
    with peer(echo) as p:
        p.send(ws_frame(TEXT, "κόσμε".encode(), fin=False))
        p.send(ws_frame(CONT, b"\xf4\x90\x80\x80", fin=False))
        assert_closed_with(p, 1007, "invalid second fragment of an unfinished message")


def test_invalid_utf8_split_across_fragments_fails_fast(echo):
    """Autobahn 6.4.2: the lead byte F4 ends one fragment, the bad 90 starts the next."""
    with peer(echo) as p:
        p.send(ws_frame(TEXT, "κόσμε".encode() + b"\xf4", fin=False))
        p.send(ws_frame(CONT, b"\x90\x80\x80", fin=False))
        assert_closed_with(p, 1007, "F4 | 90 split across unfinished fragments")


def test_invalid_utf8_fails_fast_inside_one_partial_frame(echo):
    """Autobahn 6.4.3: one frame whose first chunk holds the bad bytes; the rest never comes."""
    with peer(echo) as p:
        key = b"\x11\x22\x33\x44"
        payload = "κόσμε".encode() + b"\xf4\x90\x80\x80" + b"edited" * 10
        frame = ws_frame(TEXT, payload, key=key)
        head = len(frame) - len(payload)
        p.send(frame[:head + len("κόσμε".encode()) + 4])
        assert_closed_with(p, 1007, "a frame cut after its invalid bytes")


def test_valid_utf8_split_at_every_byte_of_a_4_byte_sequence(echo):
    data = "a😀b".encode()  # a, F0 9F 98 80, b
    with peer(echo) as p:
        for cut in range(1, len(data)):
            p.send(ws_frame(TEXT, data[:cut], fin=False) + ws_frame(CONT, data[cut:], fin=True))
            op, got, _ = p.read_message()
            assert (op, got) == (TEXT, data), f"split at byte {cut}"
        # and every byte in its own fragment
        p.send(b"".join(ws_frame(TEXT if i == 0 else CONT, data[i:i + 1], fin=i == len(data) - 1)
                        for i in range(len(data))))
        assert p.read_message()[:2] == (TEXT, data)


def test_binary_is_not_utf8_checked(echo):
    with peer(echo) as p:
        p.send_frame(BINARY, b"\xff\xfe\xc0\xaf\xed\xa0\x80")
        assert p.read_message()[:2] == (BINARY, b"\xff\xfe\xc0\xaf\xed\xa0\x80")


# -- close -------------------------------------------------------------------------------

@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999])
def test_valid_close_code_is_echoed(echo, code):
    with peer(echo) as p:
        p.send_frame(CLOSE, ws_close_payload(code, b"bye"))
        got, _, before = p.read_close()
        assert got == code
        assert not before
        assert p.wait_eof(), "server kept TCP open after the close handshake"


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999,
                                  5000, 65535])
def test_invalid_close_code_closes_1002(echo, code):
    with peer(echo) as p:
        p.send_frame(CLOSE, ws_close_payload(code))
        got, reason, _ = p.read_close()
        assert got == 1002, f"close code {code} answered with {got} {reason!r}"


def test_empty_close_is_answered(echo):
    with peer(echo) as p:
        p.send_frame(CLOSE, b"")
        got, _, _ = p.read_close()
        assert got in (None, 1000), got
        assert p.wait_eof()


def test_close_with_one_byte_payload_closes_1002(echo):
    with peer(echo) as p:
        p.send_frame(CLOSE, b"\x03")
        assert_closed_with(p, 1002, "close payload of one byte")


def test_close_reason_with_invalid_utf8_closes_1007(echo):
    with peer(echo) as p:
        p.send_frame(CLOSE, ws_close_payload(1000, b"bad \xce\xba\xe1\xbd\xb9\xed\xa0\x80"))
        assert_closed_with(p, 1007, "close reason not UTF-8")


def test_close_with_valid_utf8_reason_of_123_bytes(echo):
    reason = ("é" * 61 + "a").encode()  # 123 bytes: the largest reason that fits in 125
    with peer(echo) as p:
        p.send_frame(CLOSE, ws_close_payload(1000, reason))
        got, _, _ = p.read_close()
        assert got == 1000


def test_data_after_close_is_ignored(echo):
    with peer(echo) as p:
        p.send(ws_frame(CLOSE, ws_close_payload(1000)) + ws_frame(TEXT, b"after close")
               + ws_frame(PING, b"after close") + ws_frame(0x3, b"even garbage"))
        code, _, before = p.read_close()
        assert code == 1000 and not before, before
        # After the close frame: nothing but the end of TCP (no echo, no pong, no 1002).
        rest = bytearray()
        deadline_ok = True
        deadline = time.monotonic() + DEFAULT_TIMEOUT
        try:
            while p._fill(deadline):
                rest += p.buf
                p.buf.clear()
        except TimeoutError:
            deadline_ok = False
        assert not rest, f"bytes after the close frame: {bytes(rest)!r}"
        assert deadline_ok, "server kept TCP open after the close handshake"


def test_server_closes_tcp_after_close_handshake(echo):
    with peer(echo) as p:
        p.send_frame(TEXT, b"x")
        assert p.read_message()[:2] == (TEXT, b"x")
        p.send_frame(CLOSE, ws_close_payload(1000, b"done"))
        code, _, _ = p.read_close()
        assert code == 1000
        assert p.wait_eof(), "recv did not return b'' after the close handshake"


# -- size limits from the header ---------------------------------------------------------

def test_frame_over_max_frame_bytes_closes_1009_from_header(echo):
    # Default maxFrameBytes is 65536; only the header (and mask) is sent.
    with peer(echo) as p:
        p.send(ws_frame(BINARY, b"", length=65537))
        assert_closed_with(p, 1009, "frame of 65537 bytes announced (limit 65536)")


def test_message_over_max_message_bytes_closes_1009_from_header(echo):
    # Each frame is within maxFrameBytes, but the continuation's header already takes the
    # message past maxMessageBytes (65536): refused before its payload arrives.
    with peer(echo) as p:
        p.send(ws_frame(BINARY, b"ab", fin=False) + ws_frame(CONT, b"", length=65535, fin=True))
        assert_closed_with(p, 1009, "message total over maxMessageBytes, announced in a header")


def test_64bit_length_with_top_bit_set_closes(echo):
    with peer(echo) as p:
        p.send(bytes([0x82, 0xFF]) + struct.pack("!Q", 1 << 63) + b"\x00\x00\x00\x00")
        code, _, _ = p.read_close()
        assert code in (1002, 1009), code


def test_echo_after_many_messages_on_one_connection(echo):
    with peer(echo) as p:
        batch = b"".join(ws_frame(TEXT if i % 2 else BINARY, str(i).encode()) for i in range(200))
        p.send(batch)
        for i in range(200):
            op, data, _ = p.read_message()
            assert (op, data) == (TEXT if i % 2 else BINARY, str(i).encode())


# -- more Autobahn-style cases -------------------------------------------------------------

VALID_UTF8_EDGES = {
    "u+0000": b"\x00",
    "u+007f": b"\x7f",
    "u+0080": b"\xc2\x80",
    "u+07ff": b"\xdf\xbf",
    "u+0800": b"\xe0\xa0\x80",
    "u+d7ff": b"\xed\x9f\xbf",
    "u+e000": b"\xee\x80\x80",
    "u+fffe": b"\xef\xbf\xbe",
    "u+ffff": b"\xef\xbf\xbf",
    "u+10000": b"\xf0\x90\x80\x80",
    "u+10ffff": b"\xf4\x8f\xbf\xbf",
    "kosme": "κόσμε".encode(),
}


@pytest.mark.parametrize("payload", VALID_UTF8_EDGES.values(), ids=VALID_UTF8_EDGES.keys())
def test_valid_utf8_boundaries_echo_whole_and_byte_fragmented(echo, payload):
    with peer(echo) as p:
        p.send_frame(TEXT, payload)
        assert p.read_message()[:2] == (TEXT, payload)
        p.send(b"".join(ws_frame(TEXT if i == 0 else CONT, payload[i:i + 1], fin=i == len(payload) - 1)
                        for i in range(len(payload))))
        assert p.read_message()[:2] == (TEXT, payload)


def test_upgrade_and_first_frames_in_one_write(echo):
    """Frames right behind the request, in the same TCP segment, belong to the WebSocket."""
    import base64 as b64
    from confabtest.rawconn import RawConn
    from confabtest.websocket import upgrade_bytes, ws_accept
    key = b64.b64encode(os.urandom(16)).decode()
    with RawConn(echo.port) as conn:
        conn.send(upgrade_bytes(echo.port, "/echo", key=key) + ws_frame(TEXT, b"early")
                  + ws_frame(PING, b"early ping"))
        resp = conn.read_response()
        assert resp.status == 101 and resp.header("sec-websocket-accept") == ws_accept(key)
        assert conn.read_exact(2 + 5) == b"\x81\x05early"
        assert conn.read_exact(2 + 10) == b"\x8a\x0aearly ping"


def test_ten_pings_get_ten_pongs_in_order(echo):
    with peer(echo) as p:
        p.send(b"".join(ws_frame(PING, f"ping {i}".encode()) for i in range(10)))
        for i in range(10):
            f = p.read_frame()
            assert (f.opcode, f.payload) == (PONG, f"ping {i}".encode())


def test_ping_of_125_bytes_sent_byte_by_byte(echo):
    payload = bytes(range(125))
    with peer(echo) as p:
        frame = ws_frame(PING, payload, key=b"\x01\x02\x03\x04")
        for i in range(len(frame)):
            p.send(frame[i:i + 1])
        f = p.read_frame()
        assert (f.opcode, f.payload) == (PONG, payload)


def test_large_frame_in_uneven_writes_unmasks_correctly(big_echo):
    import random
    rng = random.Random(6455)
    payload = bytes(rng.getrandbits(8) for _ in range(200_000))
    frame = ws_frame(BINARY, payload, key=b"\xa1\xb2\xc3\xd4")
    with peer(big_echo) as p:
        i = 0
        while i < len(frame):
            n = rng.choice([1, 2, 3, 5, 7, 13, 1000, 4093, 65537])
            p.send(frame[i:i + n])
            i += n
        op, got, _ = p.read_message(timeout=20)
        assert op == BINARY and got == payload


def test_close_in_the_middle_of_a_fragmented_message_is_answered(echo):
    with peer(echo) as p:
        p.send(ws_frame(TEXT, b"unfinished", fin=False) + ws_frame(CLOSE, ws_close_payload(1000)))
        code, _, before = p.read_close()
        assert code == 1000 and not before, before
        assert p.wait_eof()


def test_ping_inside_fragmented_message_over_125_closes_1002(echo):
    with peer(echo) as p:
        p.send(ws_frame(TEXT, b"start", fin=False) + ws_frame(PING, b"p" * 126))
        assert_closed_with(p, 1002, "oversized ping inside a fragmented message")


def test_answering_our_close_ends_tcp_promptly(echo):
    """When the server started the close (a protocol error) and we answer it, TCP ends at once,
    not after closeTimeoutSeconds (60 here)."""
    with peer(echo) as p:
        p.send_frame(TEXT, b"x", rsv=1)
        code, _, _ = p.read_close()
        assert code == 1002
        p.send_frame(CLOSE, ws_close_payload(1002))
        assert p.wait_eof(), "TCP still open long after the close handshake completed"
