"""A restart nobody notices (issue 13), with real `confab chat` clients: they are in their
rooms, the server gets SIGTERM (1012 service restart to everyone), a new process starts on
the same port, and every client comes back by itself: same name, same rooms (rooms it had
left stay left), same current room, the line it typed while away delivered there, and what
was said on the new server before it was back shown once it is.

The new process does not know the old one's resume tokens (they live in memory), so each
resume is refused: "back in its rooms" is the client's doing (docs/PROTOCOL.md, Server
restarts). History is the new process's: what the old one held is on the clients' screens."""

from __future__ import annotations

import signal

from confabtest.chatprocess import ChatProcess
from confabtest.waiting import poll_until

CONFIG = "chat:\n  historySize: 50\n  rate: {perSecond: 100, burst: 100}\nserver:\n  shutdownTimeoutSeconds: 10\nlog:\n  level: debug\n"
# The clients' first try comes 0.25-2.5 s after the 1012, then the backoff: 15 s is plenty.
BACK_WITHIN = 15


def members(prober, room: str) -> set[str]:
    """Who is in `room`, asked of the server (by a client kept for asking: what it skips
    while waiting for the answer is lost to it)."""
    prober.send({"type": "users", "room": room, "id": f"who-{room}"})
    reply = prober.expect("users", re=f"who-{room}")
    return {u["name"] for u in reply["users"]}


def test_every_client_is_back_in_its_rooms_after_a_restart(server_factory):
    old = server_factory(CONFIG)
    ann = ChatProcess(old.ws_url(), "--name", "Ann")
    bob = ChatProcess(old.ws_url(), "--name", "Bob")
    cy = ChatProcess(old.ws_url(), "--name", "Cy")
    try:
        for c in (ann, bob, cy):
            c.wait_line(r"^-- Welcome to .*! You are in lobby\.")
        ann.say("/join dev")
        ann.wait_line(r"^-- You joined dev\.")
        for line in ("/join dev", "/join ops", "/leave lobby"):
            bob.say(line)
        bob.wait_line(r"^-- You left lobby; now in ops\.")
        ann.say("said before the restart")
        bob.wait_line(r"\[dev\] Ann: said before the restart$")

        old.signal(signal.SIGTERM)
        assert old.wait(timeout=10) == 0
        for c in (ann, bob, cy):
            c.wait_line(r"^-- connection lost \(server closed \(1012 service restart\)\); reconnecting in [\d.]+ s$")
        ann.say("typed while the server was away")  # queued, sent once back in dev

        new = server_factory(CONFIG, port=old.port)
        watcher = new.client("name=Watcher")
        for room in ("dev", "ops"):
            watcher.send({"type": "join", "room": room})
            watcher.expect("history", room=room)
        watcher.say("said on the new server", room="dev")

        prober = new.client("name=Prober")
        expected = {"lobby": {"Ann", "Cy", "Watcher", "Prober"}, "dev": {"Ann", "Bob", "Watcher"}, "ops": {"Bob", "Watcher"}}
        poll_until(lambda: {room: members(prober, room) for room in expected}, lambda now: now == expected,
                   timeout=BACK_WITHIN, interval=0.2)
        ann.wait_line(r"^-- new session \(the server restarted or the old one expired\); back to lobby, dev$")
        bob.wait_line(r"^-- new session .*; back to dev, ops$")
        # Ann's current room was dev: her line went there, after she was back in it.
        said = watcher.expect("message", text="typed while the server was away")
        assert said["room"] == "dev" and said["from"]["name"] == "Ann"
        # What the new server's history holds reached those who were away, once.
        for c in (ann, bob):
            c.wait_line(r"\[dev\] Watcher: said on the new server$", timeout=BACK_WITHIN)
        # Bob is back in ops, his current room, and nothing of the lobby reaches him.
        bob.say("back in ops")
        assert watcher.expect("message", text="back in ops")["room"] == "ops"
        cy.say("lobby only")
        assert watcher.expect("message", text="lobby only")["room"] == "lobby"
        ann.say("/quit")
        for c in (ann, bob, cy):
            c.end_input()
            assert c.wait_exit(timeout=10) == 0
        shown = "\n".join(bob.lines)
        assert shown.count("Watcher: said on the new server") == 1, shown
        assert "lobby only" not in shown
    finally:
        for c in (ann, bob, cy):
            c.kill()
