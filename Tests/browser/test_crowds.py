"""Large rooms and the room directory in a real browser (docs/PROTOCOL.md, "Presence and crowds").

The server runs with `chat.presence.fullListMax: 3` (browser_harness.CROWD_CONFIG): a room
of more than 3 members is large. Raw WebSocket sessions (crowd.py) make up the crowd.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.keys import Keys

from browser_harness import CROWD_CONFIG

pytestmark = pytest.mark.parametrize("server_config", [CROWD_CONFIG], ids=["fullListMax3"])

CROWD = 1030          # over a thousand: the count needs a thousands separator
PAGE = 50             # the server's first page


def test_large_room_shows_the_count_a_paged_list_search_and_the_directory(server, browsers, crowd):
    names = [f"crowd-{i:04d}" for i in range(CROWD)]
    crowd.join(*names)
    alice = browsers(server.url, "alice")
    a = alice.my_name()

    # the count, with a thousands separator, instead of a thousand rows
    alice.wait(lambda: alice.user_count_text() == f"{CROWD + 1:,} online", "the large room's count")
    # me, then the first page: the first 50 to arrive, in join order
    alice.wait(lambda: len(alice.users()) == 1 + PAGE, "me and the first page")
    assert alice.users() == [a] + names[:PAGE]
    assert alice.js("return document.querySelector('#users li.me .user-name').textContent") == a
    assert alice.by_id("members-heading").text == f"Members ({PAGE + 1} of {CROWD + 1:,} shown)"
    assert alice.more_button() == "Show more"
    assert alice.search_shown()
    assert alice.recent_users() == []
    # nobody's arrival is a line in the chat
    assert alice.lines("presence") == []
    assert not (p := alice.contrast_problems()), '\n'.join(p)
    alice.screenshot("20-desktop-large-room")

    # Show more (from the keyboard): the next page by cursor; the focus stays on the button
    alice.js("document.getElementById('users-more').focus();")
    alice.press(Keys.ENTER)
    alice.wait(lambda: len(alice.users()) == 1 + 2 * PAGE, "the second page appended")
    assert alice.users() == [a] + names[:2 * PAGE]
    assert alice.more_button() == "Show more"
    assert alice.active()["id"] == "users-more"

    # more arrive: the count follows (occupancy), newest first under "Just arrived", still no lines
    crowd.join("late-one", "late-two")
    alice.wait(lambda: alice.user_count_text() == f"{CROWD + 3:,} online", "count after two more arrived")
    alice.wait(lambda: alice.recent_users() == ["late-two", "late-one"], "recent arrivals shown")
    assert alice.lines("presence") == []
    assert len(alice.users()) == 1 + 2 * PAGE

    # the search box looks one exact name up (case-insensitively), whoever is loaded
    assert alice.find_user("crowd-0777") == "crowd-0777 is in #lobby"
    assert alice.find_user("CROWD-0778") == "crowd-0778 is in #lobby"
    assert alice.find_user("nobody-here") == "No one named nobody-here in #lobby"
    assert alice.find_user("late-two") == "late-two is in #lobby"
    assert len(alice.users()) == 1 + 2 * PAGE        # a lookup never replaces the list
    alice.screenshot("21-desktop-large-room-search")

    # the directory: every room with its count, kept current without polling
    alice.wait(lambda: alice.directory() == {"lobby": (f"{CROWD + 3:,}", True)}, "lobby in All rooms")
    crowd.join_room("crowd-0001", "side")
    alice.wait(lambda: alice.directory().get("side") == ("1", False), "a new room appears in All rooms")
    alice.wait(lambda: alice.directory().get("lobby") == (f"{CROWD + 3:,}", True), "lobby count kept")

    # a click joins it; #side is small: everyone listed, presence lines as ever, no search box
    alice.join_from_directory("side")
    assert list(alice.rooms()) == ["lobby", "side"]
    alice.wait(lambda: alice.users() == [a, "crowd-0001"], "#side lists everyone")
    assert alice.user_count_text() == "2 online"
    assert not alice.search_shown()
    assert alice.more_button() is None
    assert alice.recent_users() == []
    alice.wait(lambda: alice.directory().get("side") == ("2", True), "#side counts alice")
    crowd.join_room("crowd-0002", "side")
    alice.wait(lambda: "crowd-0002 joined" in alice.lines("presence"), "join line in a small room")
    alice.wait(lambda: alice.users() == [a, "crowd-0001", "crowd-0002"], "joiner listed")
    alice.wait(lambda: alice.directory().get("side") == ("3", True), "#side's count in All rooms")
    alice.screenshot("22-desktop-directory-small-room")

    # back to the large room through the directory: a switch is an idempotent join, whose
    # reply is a fresh first page (the recent arrivals stay)
    alice.join_from_directory("lobby")
    alice.wait(lambda: alice.user_count_text() == f"{CROWD + 3:,} online", "large count again")
    alice.wait(lambda: alice.users() == [a] + names[:PAGE], "the first page again")
    assert alice.more_button() == "Show more"
    assert alice.recent_users() == ["late-two", "late-one"]
    assert alice.search_shown()

    # the same on a phone: the sidebar holds the directory and the large-room panel
    alice.emulate_phone(390, 844)
    alice.by_id("sidebar-toggle").click()
    alice.wait(lambda: alice.by_id("user-search").is_displayed(), "sidebar open")
    alice.wait(lambda: alice.js("return getComputedStyle(document.getElementById('sidebar')).transform") == "none",
               "sidebar slid in")
    alice.screenshot("23-phone-large-room-sidebar")
    assert not (p := alice.overflow_problems()), '\n'.join(p)
    assert not (p := alice.contrast_problems()), '\n'.join(p)


def test_a_room_turns_large_and_small_again(server, browsers, crowd):
    alice = browsers(server.url, "alice")
    a = alice.my_name()
    assert alice.user_count_text() == "1 online"

    # a small room, exactly as before: everyone listed, a line per arrival
    crowd.join("c1", "c2")
    alice.wait(lambda: alice.users() == [a, "c1", "c2"], "small room lists everyone")
    alice.wait(lambda: alice.lines("presence") == ["c1 joined", "c2 joined"], "join lines")
    assert alice.user_count_text() == "3 online"
    assert not alice.search_shown()

    # a fourth member: the room is large; the page fetches its first page on its own
    crowd.join("c3")
    alice.wait(lambda: alice.user_count_text() == "4 online", "count of the large room")
    alice.wait(lambda: alice.users() == [a, "c1", "c2", "c3"], "the first page")
    alice.wait(lambda: alice.recent_users() == ["c3"], "c3's arrival made it large: just arrived")
    assert alice.search_shown()
    assert alice.more_button() is None

    # one more after the last page: shown as just arrived; the list can be reloaded
    crowd.join("c4")
    alice.wait(lambda: alice.user_count_text() == "5 online", "count follows")
    alice.wait(lambda: alice.recent_users() == ["c4", "c3"], "c4 just arrived, newest first")
    alice.wait(lambda: alice.more_button() == "Reload list", "reload offered")
    alice.click_more()
    alice.wait(lambda: alice.users() == [a, "c1", "c2", "c3", "c4"], "c4 on the reloaded page")
    assert alice.more_button() is None
    assert alice.lines("presence") == ["c1 joined", "c2 joined"]   # nothing said while large
    alice.screenshot("24-desktop-room-turned-large")

    # leaving: the count goes down; at 3 the room is still large (hysteresis)
    crowd.leave("c4", "c3")
    alice.wait(lambda: alice.user_count_text() == "3 online", "count after two left")
    assert alice.search_shown()
    # below 3 it is small again: the full list comes back, so do the lines
    crowd.leave("c2")
    alice.wait(lambda: not alice.search_shown(), "small again")
    alice.wait(lambda: alice.users() == [a, "c1"], "the full list is back")
    assert alice.user_count_text() == "2 online"
    assert alice.recent_users() == [] and alice.more_button() is None
    assert alice.lines("presence") == ["c1 joined", "c2 joined"]
    crowd.leave("c1")
    alice.wait(lambda: alice.lines("presence")[-1:] == ["c1 left"], "a leave line in a small room")
    alice.wait(lambda: alice.users() == [a], "c1 gone")
    assert alice.user_count_text() == "1 online"
