"""RFC 6455 basics against the real server: control frames, close, protocol errors."""

import functools
import json
import time

from websockets.exceptions import ConnectionClosed

from confabtest.probes import metric_value
from confabtest.waiting import DEFAULT_TIMEOUT, server_timeout
from confabtest.websocket import (FIXED_MASK_KEY, OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT,
                                  RawWebSocket, ws_close_payload, ws_frame)

# One mask key for the whole module: the same bytes on every run (and so the same ids for the
# parametrized frames below).
encode_frame = functools.partial(ws_frame, key=FIXED_MASK_KEY)


def close_code_after(srv, *writes: bytes) -> int | None:
    """A raw chat client reads its intro, sends `writes` (one TCP write each) and returns the
    code of the server's close."""
    with RawWebSocket(srv) as ws:
        ws.read_intro()
        for data in writes:
            ws.send(data)
        code, _ = ws.read_close()
    return code


def test_ping_gets_pong_with_same_payload(server):
    a = server.client()
    pong = a.ws.ping(b"confab-ping-42")
    assert pong.wait(timeout=DEFAULT_TIMEOUT), "no pong for the ping"


def test_raw_ping_pong_payload(server):
    with RawWebSocket(server) as ws:
        ws.read_intro()
        ws.send(encode_frame(OP_PING, b"\x00\xffpayload"))
        payload, skipped = ws.read_until_opcode(OP_PONG)
        assert payload == b"\x00\xffpayload"


def test_client_close_1000_is_echoed(server):
    a = server.client()
    a.ws.close(1000, "bye")
    assert a.ws.protocol.close_rcvd is not None, "server did not answer the close frame"
    assert a.ws.protocol.close_rcvd.code == 1000


def test_raw_close_echo_then_tcp_close(server):
    with RawWebSocket(server) as ws:
        ws.read_intro()
        ws.send(encode_frame(OP_CLOSE, ws_close_payload(1000, "bye")))
        code, _ = ws.read_close()
        assert code == 1000
        assert ws.wait_eof(timeout=5), "server did not close TCP after the close handshake"


def test_fragmented_text_message_is_reassembled(server):
    with RawWebSocket(server) as ws:
        ws.read_intro()
        data = json.dumps({"type": "send", "text": "fragmented ✓"}, ensure_ascii=False).encode()
        # split inside the multi-byte character, with a ping in between
        cut = data.index("✓".encode()) + 1
        ws.send(encode_frame(OP_TEXT, data[:cut], fin=False))
        ws.send(encode_frame(OP_PING, b"mid"))
        ws.send(encode_frame(OP_CONT, data[cut:], fin=True))
        msg = ws.read_json_until(lambda m: m.get("type") == "message")
        assert msg["text"] == "fragmented ✓"


def test_unmasked_client_frame_closes_1002(server):
    assert close_code_after(server, encode_frame(OP_TEXT, b'{"type":"send","text":"x"}', mask=False)) == 1002


def test_invalid_utf8_text_closes_1007(server):
    assert close_code_after(server, encode_frame(OP_TEXT, b'{"type":"send","text":"\xc3\x28"}')) == 1007


def test_raw_binary_frame_closes_1003(server):
    assert close_code_after(server, encode_frame(OP_BINARY, b"\x01\x02\x03")) == 1003


# -- protocol violations (RFC 6455 §5, §7.4) ---------------------------------------

import struct  # noqa: E402

import pytest  # noqa: E402


@pytest.mark.parametrize("frame, why", [
    (encode_frame(OP_PING, b"x" * 126), "control frame payload over 125 bytes"),
    (encode_frame(OP_PING, b"ping", fin=False), "fragmented control frame"),
    (encode_frame(0x3, b"reserved"), "reserved opcode 3"),
    (encode_frame(0xB, b"reserved"), "reserved control opcode 0xB"),
    (bytes([0xC1]) + encode_frame(OP_TEXT, b"{}")[1:], "RSV1 set without an extension"),
    (encode_frame(OP_CONT, b"orphan"), "continuation without a started message"),
    (encode_frame(OP_TEXT, b'{"a":', fin=False) + encode_frame(OP_TEXT, b'1}'),
     "new text frame while a fragmented message is open"),
    (encode_frame(OP_CLOSE, struct.pack("!H", 1005)), "close code 1005 is not sendable"),
    (encode_frame(OP_CLOSE, struct.pack("!H", 999)), "close code below 1000"),
    (encode_frame(OP_CLOSE, b"\x03"), "close payload of one byte"),
])
def test_protocol_violation_closes_1002(server, frame, why):
    code = close_code_after(server, frame)
    assert code == 1002, f"{why}: close code {code}"


def test_close_reason_invalid_utf8_closes_1007_or_1002(server):
    code = close_code_after(server, encode_frame(OP_CLOSE, struct.pack("!H", 1000) + b"\xff\xfe"))
    assert code in (1007, 1002), code


def test_frame_over_max_frame_bytes_closes_1009(server_factory):
    srv = server_factory("websocket:\n  maxFrameBytes: 1024\n")
    # Only the header announces the size: the server must refuse without waiting for the payload.
    assert close_code_after(srv, bytes([0x81, 0xFE]) + struct.pack("!H", 2048) + b"\x01\x02\x03\x04") == 1009


def test_frames_split_byte_by_byte_and_coalesced(server):
    with RawWebSocket(server) as ws:
        ws.sock.setsockopt(__import__("socket").IPPROTO_TCP, __import__("socket").TCP_NODELAY, 1)
        ws.read_intro()
        one = encode_frame(OP_TEXT, json.dumps({"type": "send", "text": "byte by byte"}).encode())
        for i in range(len(one)):
            ws.send(one[i:i + 1])
        msg = ws.read_json_until(lambda m: m.get("type") == "message")
        assert msg["text"] == "byte by byte"
        # three frames in one TCP write
        batch = b"".join(encode_frame(OP_TEXT, json.dumps({"type": "send", "text": f"b{i}"}).encode())
                         for i in range(3))
        ws.send(batch)
        texts = [ws.read_json_until(lambda m: m.get("type") == "message")["text"] for _ in range(3)]
        assert texts == ["b0", "b1", "b2"]


def test_large_message_uses_64bit_length(server_factory):
    size = 70000
    srv = server_factory(
        f"chat:\n  maxMessageBytes: {size}\n"
        f"websocket:\n  maxMessageBytes: {size * 2}\n  maxFrameBytes: {size * 2}\n")
    a, b = srv.client(), srv.client()
    text = ("0123456789abcdéf" * (size // 17))[:size - 10]
    a.say(text)
    assert a.expect("message")["text"] == text
    assert b.expect("message")["text"] == text
    # and with a 16-bit length, in fragments
    with RawWebSocket(srv) as ws:
        ws.read_intro()
        data = json.dumps({"type": "send", "text": "m" * 1000}).encode()
        ws.send(encode_frame(OP_TEXT, data[:300], fin=False) + encode_frame(OP_CONT, data[300:700], fin=False)
                + encode_frame(OP_CONT, data[700:], fin=True))
        assert ws.read_json_until(lambda m: m.get("type") == "message")["text"] == "m" * 1000


def test_handshake_browser_style_headers(server):
    """Firefox sends `Connection: keep-alive, Upgrade`; header names and tokens are case-insensitive."""
    import base64
    import os
    from confabtest.rawconn import RawConn
    from confabtest.websocket import ws_accept
    key = base64.b64encode(os.urandom(16)).decode()
    with RawConn(server.port) as conn:
        conn.send((f"GET {server.ws_path}?name=Fox HTTP/1.1\r\nhost: 127.0.0.1\r\n"
                   f"connection: keep-alive, Upgrade\r\nupgrade: WebSocket\r\n"
                   f"sec-websocket-key: {key}\r\nsec-websocket-version: 13\r\n"
                   f"Origin: http://127.0.0.1:{server.port}\r\n"
                   f"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n").encode())
        resp = conn.read_response()
        assert resp.status == 101, resp
        assert resp.header("sec-websocket-accept") == ws_accept(key)
        assert resp.header("sec-websocket-extensions") is None, "no extension was implemented"


def test_unanswered_pings_close_1001_idle_timeout_and_the_session_stays_resumable(server_factory):
    """docs/PROTOCOL.md (Liveness, Close codes): no frame at all for idleTimeoutSeconds closes
    with 1001 "idle timeout", never earlier; it is counted (confab_idle_timeouts_total) and, an
    unplanned end, starts the grace period."""
    srv = server_factory("websocket:\n  pingIntervalSeconds: 1\n  idleTimeoutSeconds: 3\n")
    before = metric_value(srv.get("/metrics").body.decode(), "confab_idle_timeouts_total")
    t0 = time.monotonic()  # before the handshake, so at or before the last frame the server heard
    with RawWebSocket(srv) as ws:
        token = ws.read_intro()[0]["token"]
        ws.read_until_opcode(OP_PING, timeout=30)  # the server pings a quiet client; never answered
        code, reason = ws.read_close(timeout=30)
        silent = time.monotonic() - t0
        assert (code, reason) == (1001, "idle timeout")
        assert silent >= 3.0, f"closed as idle after {silent:.2f} s of silence (idleTimeoutSeconds 3)"
    after = metric_value(srv.get("/metrics").body.decode(), "confab_idle_timeouts_total")
    assert (before, after) == (0, 1)
    assert srv.client(f"resume={token}").welcome["resumed"] is True


def answered_pings_keep_connection(srv, rounds=3):
    a = srv.client()  # the websockets client answers pings by itself
    with RawWebSocket(srv) as ws:
        ws.read_intro()
        # three ping rounds (longer than the idle timeout), each answered with the same payload
        for _ in range(rounds):
            p, _ = ws.read_until_opcode(OP_PING, timeout=server_timeout(1))
            ws.send(encode_frame(OP_PONG, p))
        ws.send(encode_frame(OP_TEXT, json.dumps({"type": "send", "text": "raw alive"}).encode()))
        assert ws.read_json_until(lambda m: m.get("type") == "message")["text"] == "raw alive"
    a.say("still alive")
    assert a.expect("message", text="still alive")


def test_answered_pings_keep_the_connection(server_factory):
    answered_pings_keep_connection(
        server_factory("websocket:\n  pingIntervalSeconds: 1\n  idleTimeoutSeconds: 3\n"))


def test_answered_pings_keep_the_connection_at_tightest_legal_config(server_factory):
    """idleTimeoutSeconds only has to exceed pingIntervalSeconds (docs/CONFIG.md), so 1 and 2 are
    legal, and a client that answers every ping at once must survive them.

    Twenty auto-answering clients connect 0.05 s apart so that their connection times fall across the
    whole of the server's once-a-second sweep (the spacing is stimulus, not synchronisation); a
    raw client that answers four pings measures that more than the idle timeout has passed."""
    srv = server_factory("websocket:\n  pingIntervalSeconds: 1\n  idleTimeoutSeconds: 2\n")
    clients = []
    for _ in range(20):
        clients.append(srv.client())
        time.sleep(0.05)
    answered_pings_keep_connection(srv, rounds=4)
    dropped = []
    for i, c in enumerate(clients):
        try:
            c.say(f"alive {i}")
            c.expect("message", text=f"alive {i}")
        except (ConnectionClosed, AssertionError) as e:
            dropped.append((i, c.ws.close_code, str(e)[:120]))
    assert not dropped, f"clients that answered every ping were dropped: {dropped}"


def test_too_many_fragments_closes_1009(server_factory):
    srv = server_factory("websocket:\n  maxFragments: 4\n")
    assert close_code_after(srv, encode_frame(OP_TEXT, b'{"type":', fin=False),
                            *(encode_frame(OP_CONT, b" ", fin=False) for _ in range(6))) == 1009


def test_reassembled_message_over_limit_closes_1009(server_factory):
    srv = server_factory("websocket:\n  maxMessageBytes: 2048\n  maxFrameBytes: 1024\n")
    assert close_code_after(srv, encode_frame(OP_TEXT, b" " * 1000, fin=False),
                            encode_frame(OP_CONT, b" " * 1000, fin=False),
                            encode_frame(OP_CONT, b" " * 1000, fin=False)) == 1009  # 3000 > 2048, no frame > 1024


def test_invalid_utf8_split_across_fragments_closes_1007_early(server):
    # "\xe2\x82" then "\x28": a 3-byte sequence broken in the second fragment; the message
    # is never finished, so only an early check can catch it.
    assert close_code_after(server, encode_frame(OP_TEXT, b'{"type":"send","text":"\xe2\x82', fin=False),
                            encode_frame(OP_CONT, b'\x28 and more', fin=False)) == 1007


def test_unsolicited_pong_is_ignored(server):
    with RawWebSocket(server) as ws:
        ws.read_intro()
        ws.send(encode_frame(OP_PONG, b"unsolicited"))
        ws.send(encode_frame(OP_TEXT, json.dumps({"type": "send", "text": "after pong"}).encode()))
        assert ws.read_json_until(lambda m: m.get("type") == "message")["text"] == "after pong"
