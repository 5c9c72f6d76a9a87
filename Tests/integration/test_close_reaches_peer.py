"""A close that reaches the peer (issue 13): after our close for a protocol error the server
reads and discards what the peer still sends (bounded by the close timeout and a byte
budget) until the peer's close or EOF, so the peer gets the close frame with its code.

The case: a 70,000-byte frame to an endpoint whose frame limit is 65,536. The server decides
1009 from the header; the rest of the payload is still on its way. Without the drain the
rest counted as another violation during the close and TCP was cut with the close frame
still queued (or the unread bytes made the kernel answer with a reset)."""

from __future__ import annotations

import os

import pytest

from confabtest.websocket import OP_BINARY, OP_CLOSE, OP_TEXT, WsPeer, ws_close_payload, ws_frame

CONFIG = "diagnostics:\n  echoPath: /echo\nwebsocket:\n  closeTimeoutSeconds: 5\nlog:\n  level: debug\n"
FRAME_LIMIT = 65_536  # websocket.maxFrameBytes default
PAYLOAD = 70_000


def send_ignoring_reset(peer: WsPeer, chunks: list[bytes]) -> None:
    """Write each chunk (one write each); a server that cut the connection early makes the
    writes fail, which the close assertions then report."""
    for chunk in chunks:
        try:
            peer.send(chunk)
        except OSError:
            return


def oversized_frame_writes(spread: bool) -> list[bytes]:
    frame = ws_frame(OP_BINARY, os.urandom(PAYLOAD))
    if not spread:
        return [frame]
    # The header (2 + 8 + 4 bytes) alone, then the payload in 1,000-byte writes.
    return [frame[:14]] + [frame[i:i + 1000] for i in range(14, len(frame), 1000)]


@pytest.fixture(scope="module")
def srv(tmp_path_factory, request):
    from confabtest.plugin import module_server
    yield from module_server(tmp_path_factory, request, CONFIG, "close-reaches-peer")


@pytest.mark.parametrize("spread", [False, True], ids=["one-write", "many-writes"])
@pytest.mark.parametrize("endpoint", ["chat", "echo"])
def test_oversized_frame_gets_1009_and_a_clean_close(srv, endpoint, spread):
    path = srv.ws_path if endpoint == "chat" else "/echo"
    with WsPeer(srv.port, path) as peer:  # on the chat path the intro frames come before the close
        send_ignoring_reset(peer, oversized_frame_writes(spread))
        code, reason, _ = peer.read_close(timeout=5)
        assert code == 1009, f"close {code} {reason!r}"
        assert str(FRAME_LIMIT).encode() in reason, reason
        # Our answer completes the handshake: the server ends TCP at once, not at its close timeout.
        peer.send(ws_frame(OP_CLOSE, ws_close_payload(1009)))
        assert peer.wait_eof(timeout=2), "the server did not end TCP after the peer's close"


def test_frames_after_the_violation_are_skipped_until_the_peers_close(srv):
    """Text, pings and more oversized frames after the violation are not answered; the close
    behind them is."""
    with WsPeer(srv.port, "/echo") as peer:
        later = [ws_frame(OP_TEXT, b"ignored"), ws_frame(0x9, b"ping"), ws_frame(OP_BINARY, os.urandom(PAYLOAD))]
        send_ignoring_reset(peer, oversized_frame_writes(spread=False) + later)
        code, _, before = peer.read_close(timeout=5)
        assert code == 1009
        assert before == [], f"frames before the close: {before}"
        peer.send(ws_frame(OP_CLOSE, ws_close_payload(1009)))
        assert peer.wait_eof(timeout=2), "the server did not end TCP after the peer's close"


def test_a_peer_that_never_answers_is_cut_at_the_close_timeout(server_factory):
    s = server_factory("diagnostics:\n  echoPath: /echo\nwebsocket:\n  closeTimeoutSeconds: 1\n")
    with WsPeer(s.port, "/echo") as peer:
        send_ignoring_reset(peer, oversized_frame_writes(spread=False))
        code, _, _ = peer.read_close(timeout=5)
        assert code == 1009
        assert peer.wait_eof(timeout=4), "a silent peer must still be cut after the close timeout"


def test_a_peer_that_keeps_sending_is_cut_after_the_byte_budget(srv):
    """After the close, at most about 1 MiB is read and discarded before TCP is cut."""
    with WsPeer(srv.port, "/echo") as peer:
        send_ignoring_reset(peer, oversized_frame_writes(spread=False))
        code, _, _ = peer.read_close(timeout=5)
        assert code == 1009
        sent, cut = 0, False
        junk = ws_frame(OP_BINARY, bytes(60_000))
        for _ in range(200):  # up to 12 MB, far over the budget
            try:
                peer.send(junk)
            except OSError:
                cut = True
                break
            sent += len(junk)
        assert cut or peer.wait_eof(timeout=4), f"still connected after {sent} bytes"
