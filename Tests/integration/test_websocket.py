"""RFC 6455 basics against the real server: control frames, close, protocol errors."""

import json

from conftest import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, RawWebSocket,
                      close_payload, encode_frame)


def test_ping_gets_pong_with_same_payload(server):
    a = server.client()
    pong = a.ws.ping(b"confab-ping-42")
    assert pong.wait(timeout=5), "no pong for the ping"


def test_raw_ping_pong_payload(server):
    ws = RawWebSocket(server)
    try:
        ws.read_intro()
        ws.send(encode_frame(OP_PING, b"\x00\xffpayload"))
        payload, skipped = ws.read_until_opcode(OP_PONG)
        assert payload == b"\x00\xffpayload"
    finally:
        ws.close()


def test_client_close_1000_is_echoed(server):
    a = server.client()
    a.ws.close(1000, "bye")
    assert a.ws.protocol.close_rcvd is not None, "server did not answer the close frame"
    assert a.ws.protocol.close_rcvd.code == 1000


def test_raw_close_echo_then_tcp_close(server):
    ws = RawWebSocket(server)
    try:
        ws.read_intro()
        ws.send(encode_frame(OP_CLOSE, close_payload(1000, "bye")))
        code, _ = ws.read_close()
        assert code == 1000
        assert ws.wait_eof(timeout=5), "server did not close TCP after the close handshake"
    finally:
        ws.close()


def test_fragmented_text_message_is_reassembled(server):
    ws = RawWebSocket(server)
    try:
        ws.read_intro()
        data = json.dumps({"type": "send", "text": "fragmented ✓"}, ensure_ascii=False).encode()
        # split inside the multi-byte character, with a ping in between
        cut = data.index("✓".encode()) + 1
        ws.send(encode_frame(OP_TEXT, data[:cut], fin=False))
        ws.send(encode_frame(OP_PING, b"mid"))
        ws.send(encode_frame(OP_CONT, data[cut:], fin=True))
        msg = ws.read_json_until(lambda m: m.get("type") == "message")
        assert msg["text"] == "fragmented ✓"
    finally:
        ws.close()


def test_unmasked_client_frame_closes_1002(server):
    ws = RawWebSocket(server)
    try:
        ws.read_intro()
        ws.send(encode_frame(OP_TEXT, b'{"type":"send","text":"x"}', mask=False))
        code, _ = ws.read_close()
        assert code == 1002
    finally:
        ws.close()


def test_invalid_utf8_text_closes_1007(server):
    ws = RawWebSocket(server)
    try:
        ws.read_intro()
        ws.send(encode_frame(OP_TEXT, b'{"type":"send","text":"\xc3\x28"}'))
        code, _ = ws.read_close()
        assert code == 1007
    finally:
        ws.close()


def test_raw_binary_frame_closes_1003(server):
    ws = RawWebSocket(server)
    try:
        ws.read_intro()
        ws.send(encode_frame(OP_BINARY, b"\x01\x02\x03"))
        code, _ = ws.read_close()
        assert code == 1003
    finally:
        ws.close()
