"""Rate limiting and WebSocket limits."""

from websockets.exceptions import ConnectionClosed

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
    assert len(limited) == 5, seen
    # the flood reached others only within the burst
    leave = b.expect("presence", event="leave")
    assert leave["user"]["id"] == a.id


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
