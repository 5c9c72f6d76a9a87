"""The chat page opened by an embedding app with an account token in its fragment
(`/#token=JWT`), in a real browser against a server that requires tokens."""

from __future__ import annotations

import pytest
from browser_harness import DEFAULT_CONFIG

from confabtest import jwt

SECRET = "browser-test-secret-0123456789-abcdefgh"


@pytest.fixture
def server_config() -> str:
    return DEFAULT_CONFIG + f"auth:\n  mode: required\n  jwt:\n    secret: {SECRET}\n"


def test_a_token_in_the_fragment_signs_the_page_in(server, browsers):
    token = jwt.hs256(jwt.claims(sub="acct-ann", name="Ann"), SECRET)
    ann = browsers(f"{server.url}#token={token}", "ann")
    ann.wait_online()
    assert ann.my_name() == "Ann"
    # the token left the address bar (and so history and bookmarks) at once
    assert ann.js("return location.href") == server.url
    bob = browsers(f"{server.url}#token={jwt.hs256(jwt.claims(sub='acct-bob', name='Bob'), SECRET)}", "bob")
    bob.wait_online()
    ann.wait(lambda: "Bob" in ann.users(), "Bob in Ann's user list")
    bob.send("hello from an account")
    ann.wait_message("hello from an account")

    # a reload keeps the tab signed in: the same account, its session resumed
    ann.driver.refresh()
    ann.wait_online()
    assert ann.my_name() == "Ann"

    # the name comes from the account
    ann.rename("Annie")
    ann.wait(lambda: ann.error_code() == "forbidden", "rename refused with forbidden")
    assert ann.my_name() == "Ann"


def test_two_browsers_of_one_account_are_one_user(server, browsers):
    """A laptop and a phone signed in as one account: both stay online, each shows what the
    other sent as its own, and others list the account once."""
    token = jwt.hs256(jwt.claims(sub="acct-ann", name="Ann"), SECRET)
    laptop = browsers(f"{server.url}#token={token}", "laptop")
    laptop.wait_online()
    bob = browsers(f"{server.url}#token={jwt.hs256(jwt.claims(sub='acct-bob', name='Bob'), SECRET)}", "bob")
    bob.wait_online()
    phone = browsers(f"{server.url}#token={token}", "phone")
    phone.wait_online()
    assert phone.my_name() == "Ann"
    phone.send("sent from the phone")
    laptop.wait_message("sent from the phone")
    bob.wait_message("sent from the phone")
    assert [m["own"] for m in laptop.messages() if m["text"] == "sent from the phone"] == [True]
    assert [m["own"] for m in bob.messages() if m["text"] == "sent from the phone"] == [False]
    assert laptop.status() == "online", "the second device took the first one over"
    assert sorted(bob.users()) == ["Ann", "Bob"]
    assert laptop.users().count("Ann") == 1
