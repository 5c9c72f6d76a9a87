"""Confab's chat page in a real browser (headless Chromium) against the real server.

Each test starts its own server on an ephemeral port and one browser process
per chat session. See conftest.py for the rules (waits, console, screenshots).
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys


def test_two_sessions_see_each_other_and_chat_both_ways(server, browsers):
    alice = browsers(server.url, "alice")
    bob = browsers(server.url, "bob")
    a, b = alice.my_name(), bob.my_name()
    assert a != b

    # both are in #lobby and list each other, with the online count
    for page, other in ((alice, b), (bob, a)):
        page.wait(lambda p=page, o=other: o in p.users(), f"{other!r} in the user list")
        assert page.current_room() == "lobby"
        assert page.user_count_text() == "2 online"
        assert page.by_id("room-title").text == "#lobby"
    # own entry first, marked as you
    assert alice.users()[0] == a
    assert alice.js("return document.querySelector('#users li.me .user-name').textContent") == a
    # alice saw bob arrive as a quiet presence line
    alice.wait(lambda: f"{b} joined" in alice.lines("presence"), "join presence line")

    alice.send("hello from alice")
    bob.wait_message("hello from alice")
    bob.send("hi alice, bob here")
    alice.wait_message("hi alice, bob here")
    alice.send("second line from alice")
    bob.wait_message("second line from alice")
    alice.wait_message("second line from alice")

    # same order on both sides, own messages marked, sender names right
    for page, me in ((alice, a), (bob, b)):
        msgs = page.messages()
        assert [m["text"] for m in msgs] == ["hello from alice", "hi alice, bob here", "second line from alice"]
        assert [m["own"] for m in msgs] == [page is alice, page is bob, page is alice]
        assert msgs[0]["from"] == a and msgs[1]["from"] == b
        seqs = [m["seq"] for m in msgs]
        assert seqs == sorted(seqs) and len(set(seqs)) == 3, seqs
        # the input is cleared after sending and keeps focus
        assert page.by_id("input").get_attribute("value") == ""

    # Shift+Enter inserts a newline instead of sending; Enter then sends both lines
    box = bob.by_id("input")
    box.send_keys("line one", Keys.SHIFT, Keys.ENTER, Keys.SHIFT, "line two")
    assert box.get_attribute("value") == "line one\nline two"
    box.send_keys(Keys.ENTER)
    alice.wait_message("line one\nline two")
    # ↑ recalls the last sent message
    box.send_keys(Keys.ARROW_UP)
    bob.wait(lambda: box.get_attribute("value") == "line one\nline two", "↑ recalls the last message")
    box.clear()

    # /me is an action line
    alice.send("/me waves")
    bob.wait(lambda: any(m["action"] and "waves" in m["text"] for m in bob.messages()), "/me action shown")

    alice.screenshot("01-desktop-two-users-chatting")
    bob.screenshot("02-desktop-other-session")
