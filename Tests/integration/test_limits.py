"""Rate limiting and WebSocket limits."""

import json
import socket
import struct

from websockets.exceptions import ConnectionClosed

from confabtest.chat import changes_in, has_change, is_message
from confabtest.probes import metric_value
from confabtest.websocket import OP_CLOSE, OP_TEXT, RawWebSocket, ws_close_payload, ws_frame

RATE_CONFIG = "chat:\n  rate:\n    perSecond: 1\n    burst: 3\n    disconnectAfter: 5\n"


def send_quietly(client, obj):
    """Send, ignoring a connection the server has already closed."""
    try:
        client.send(obj)
        return True
    except ConnectionClosed:
        return False


def test_burst_then_rate_limited(server_factory):
    srv = server_factory(RATE_CONFIG)
    a = srv.client()
    for i in range(4):
        a.send({"type": "send", "text": f"r{i}", "id": i})
    replies = [a.recv() for _ in range(2 * 3 + 1)]  # 3 x (ack + message) + 1 error
    errors = [m for m in replies if m["type"] == "error"]
    assert len(errors) == 1, replies
    err = errors[0]
    assert err["code"] == "rate_limited" and err["re"] == 3
    assert isinstance(err["retryAfterMs"], int) and 0 < err["retryAfterMs"] <= 1000, err
    assert [m["text"] for m in replies if m["type"] == "message"] == ["r0", "r1", "r2"]


def test_persistent_flooding_closes_1008(server_factory):
    srv = server_factory(RATE_CONFIG)
    a, b = srv.client(), srv.client()
    for i in range(20):
        if not send_quietly(a, {"type": "send", "text": f"f{i}"}):
            break
    code, seen = a.wait_closed()
    assert code == 1008
    limited = [m for m in seen if m.get("type") == "error" and m.get("code") == "rate_limited"]
    # "after disconnectAfter (5) refusals in a row ... close 1008": the fifth refusal may be
    # answered by the close itself rather than by a fifth error; either reading is accepted.
    assert 4 <= len(limited) <= 5, seen
    assert all(isinstance(m.get("retryAfterMs"), int) and m["retryAfterMs"] > 0 for m in limited)
    # others got only the burst, then A's departure
    leave, skipped = b.recv_until(has_change("leave"))
    assert changes_in([leave], "leave")[0]["user"]["id"] == a.id
    assert [m["text"] for m in skipped if m.get("type") == "message"] == ["f0", "f1", "f2"]


def test_other_users_unaffected_by_flooder(server_factory):
    srv = server_factory(RATE_CONFIG)
    a, b = srv.client(), srv.client()
    for i in range(6):
        send_quietly(a, {"type": "send", "text": f"f{i}"})
    b.say("calm")
    assert b.expect("message", text="calm")["from"]["id"] == b.id


def test_oversized_websocket_message_closes_1009(server_factory):
    srv = server_factory("websocket:\n  maxMessageBytes: 4096\n")
    a = srv.client()
    try:
        a.ws.send('{"type":"send","text":"' + "x" * 8192 + '"}')
    except ConnectionClosed:
        pass
    code, _ = a.wait_closed()
    assert code == 1009


SLOW_CONFIG = ("chat:\n  maxMessageBytes: 4096\n"
               "  rate:\n    perSecond: 100000\n    burst: 100000\n    disconnectAfter: 100000\n"
               # long enough for the dropped reader to read what was in flight and the close
               "websocket:\n  maxOutboundBytes: 262144\n  closeTimeoutSeconds: 60\n")


def expect_round(client, texts, others, timeout=30.0):
    """The next len(texts) chat messages must be exactly `texts`, in order, with consecutive
    seqs; other messages met on the way are appended to `others`."""
    got = []
    for _ in range(len(texts)):
        msg, skipped = client.recv_until(is_message(), timeout=timeout)
        got.append(msg)
        others += skipped
    assert [m["text"] for m in got] == texts, "a healthy reader missed or reordered messages"
    seqs = [m["seq"] for m in got]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs


def test_slow_consumer_is_dropped_with_1008_and_others_get_every_message(server_factory):
    """A client that stops reading passes websocket.maxOutboundBytes and is closed with 1008
    (docs/PROTOCOL.md, Close codes); the healthy readers get every message, in order, before,
    during and after the drop. What the slow one still receives is a prefix of the stream
    (whole frames, unsent ones discarded) and then its close."""
    srv = server_factory(SLOW_CONFIG)
    a, c = srv.client(), srv.client()
    slow = RawWebSocket(srv)
    slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # no autotuning to 32 MB
    try:
        welcome = slow.read_intro()[0]
        slow_id = welcome["user"]["id"]
        a.expect_change("join", user_id=slow_id)
        payload = "y" * 4000
        sent: list[str] = []
        seen_by_a: list[dict] = []
        after_drop = 0
        # Paced in rounds that both healthy readers confirm in full, so that only the silent
        # client falls behind: up to 60 rounds x 50 x 4 KB = 12 MB, far beyond any socket buffer.
        for r in range(60):
            texts = [f"{r:03d}-{i:02d}{payload}" for i in range(50)]
            for text in texts:
                a.say(text)
            sent += texts
            expect_round(a, texts, seen_by_a)
            expect_round(c, texts, [])
            if after_drop or metric_value(srv.get("/metrics").body.decode(),
                                          "confab_slow_consumers_dropped_total") == 1:
                after_drop += 1
                if after_drop == 3:  # two more full rounds after the drop
                    break
        assert after_drop == 3, "the silent client was never dropped"
        # The slow one reads again: a prefix of what was sent, in order, then close 1008.
        slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        received = []
        for _ in range(len(sent) + 10):
            f = slow.read_frame(timeout=30)
            if f.opcode == OP_CLOSE:
                code, reason = struct.unpack("!H", f.payload[:2])[0], f.payload[2:].decode()
                break
            if f.opcode == OP_TEXT and (m := json.loads(f.payload)).get("type") == "message":
                received.append(m["text"])
        else:
            raise AssertionError("no close frame after the messages")
        assert (code, reason) == (1008, "slow consumer")
        assert received == sent[:len(received)] and len(received) < len(sent), \
            "the slow consumer's stream is not a prefix of what was sent"
        slow.send(ws_frame(OP_CLOSE, ws_close_payload(1008)))
        assert slow.wait_eof(timeout=10), "TCP still open after the close handshake"
    finally:
        slow.close()
    # An unplanned end (docs/PROTOCOL.md, Session resume): the session waits for a resume, and
    # the history tells how much of what it missed is gone.
    assert not changes_in(seen_by_a, user_id=slow_id), "the others saw the slow consumer leave"
    back = srv.client(f"resume={welcome['token']}")
    assert back.welcome["resumed"] is True and back.id == slow_id
    history = back.history
    assert [m["text"] for m in history["messages"]] == sent[-50:]
    assert history["lastSeq"] == history["messages"][-1]["seq"]
    assert history["messages"][0]["seq"] > len(received) + 1, "a gap the client can see"
