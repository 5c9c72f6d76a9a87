"""Accounts from signed tokens (issue 13), against the real binary with real tokens: HS256
signed with Python's hmac, RS256 and ES256 with keys and signatures from the openssl tool."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from confabtest import jwt
from confabtest.paths import confab_binary, web_root
from confabtest.probes import metric_value
from confabtest.server import DEFAULT_CONFIG
from confabtest.websocket import upgrade_status

SECRET = "integration-test-secret-0123456789-abcdef"
SECRET_ENV = {"CONFAB_AUTH_JWT_SECRET": SECRET}


def auth_yaml(mode: str, extra: str = "") -> str:
    return DEFAULT_CONFIG + f"auth:\n  mode: {mode}\n" + extra


def token(**kw) -> str:
    return jwt.hs256(jwt.claims(**kw), SECRET)


def refused(srv, path: str, headers: dict[str, str] | None = None):
    """The response to one upgrade that is expected not to be a 101, and its JSON body."""
    resp, conn = upgrade_status(srv, path=path, headers=headers)
    conn.close()
    assert resp.status != 101, resp
    try:
        body = json.loads(resp.body)
    except ValueError:
        body = None
    return resp, body


def first(client, predicate) -> dict:
    """The next message of `client` that matches."""
    return client.recv_until(predicate)[0]


@pytest.fixture
def required(server_factory):
    return server_factory(auth_yaml("required"), env=SECRET_ENV)


@pytest.fixture
def optional(server_factory):
    return server_factory(auth_yaml("optional"), env=SECRET_ENV)


def test_default_mode_ignores_tokens(server):
    # auth.mode none is the server as it was: a token, valid or not, changes nothing
    anonymous = server.client("token=not-even-a-jwt")
    assert anonymous.id.startswith("u")
    resp, conn = upgrade_status(server, headers={"Authorization": "Bearer garbage"})
    conn.close()
    assert resp.status == 101


def test_required_refuses_a_missing_token_with_401_json(required):
    resp, body = refused(required, "/ws")
    assert resp.status == 401
    assert resp.header("Content-Type") == "application/json"
    assert resp.header("WWW-Authenticate") == 'Bearer realm="confab"'
    assert body["error"] == "token_required"
    assert "token" in body["message"]
    # anonymous users cannot slip in with a name either
    assert refused(required, "/ws?name=Eve")[0].status == 401


BAD_TOKENS = [
    ("wrong secret", lambda: jwt.hs256(jwt.claims(), "another-secret-of-more-than-32-bytes!!"), "token_bad_signature"),
    ("tampered", lambda: token(sub="alice").rsplit(".", 1)[0][:-4] + "AAAA." + token().rsplit(".", 1)[1],
     "token_bad_signature"),
    ("expired", lambda: token(ttl=-3600), "token_expired"),
    ("not yet valid", lambda: token(nbf=int(time.time()) + 3600), "token_not_yet_valid"),
    ("alg none", lambda: jwt.unsigned(jwt.claims()), "token_wrong_algorithm"),
    ("alg HS512", lambda: jwt.signing_input("HS512", jwt.claims()) + "." + token().rsplit(".", 1)[1],
     "token_wrong_algorithm"),
    ("not a jwt", lambda: "not-a-token", "token_malformed"),
    ("no exp", lambda: jwt.hs256({"sub": "acct-1"}, SECRET), "token_invalid_claims"),
    ("numeric sub", lambda: jwt.hs256({"sub": 7, "exp": int(time.time()) + 60}, SECRET), "token_invalid_claims"),
]


@pytest.mark.parametrize("label,make,code", BAD_TOKENS, ids=[case[0] for case in BAD_TOKENS])
def test_bad_tokens_are_refused_before_the_upgrade(required, label, make, code):
    bad = make()
    for headers, path in (({}, f"/ws?token={bad}"), ({"Authorization": f"Bearer {bad}"}, "/ws")):
        resp, body = refused(required, path, headers)
        assert resp.status == 401, (label, resp)
        assert body["error"] == code, (label, body)
        assert f'error_description="{code}"' in resp.header("WWW-Authenticate")
        # nothing of the token comes back
        for piece in bad.split("."):
            if len(piece) > 3:
                assert piece not in resp.body.decode(), (label, piece)
    log = required.log_text()
    assert code in log
    for piece in bad.split(".") + [SECRET]:
        if len(piece) > 3:
            assert piece not in log, f"{label}: the log shows part of the token or the secret"


def test_a_recently_expired_token_is_within_the_leeway(required):
    client = required.client(f"token={token(ttl=-10)}")
    assert client.id == "acct-1"


def test_optional_admits_anonymous_users_and_accounts(optional):
    anonymous = optional.client()
    assert anonymous.id.startswith("u")
    alice = optional.client(f"token={token(sub='acct-alice', name='Alice')}")
    assert alice.user == {"id": "acct-alice", "name": "Alice"}
    bob = optional.client(headers={"Authorization": f"Bearer {token(sub='acct-bob', name=None)}"})
    assert bob.user == {"id": "acct-bob", "name": "acct-bob"}  # no name claim: the sub
    # a bad token is refused even though none would have been fine
    assert refused(optional, f"/ws?token={token(ttl=-3600)}")[1]["error"] == "token_expired"
    # both ways at once is one too many
    resp, body = refused(optional, f"/ws?token={token()}", {"Authorization": f"Bearer {token()}"})
    assert (resp.status, body["error"]) == (401, "token_malformed")
    # others see the account under its id and name
    alice.say("hello")
    got = first(anonymous, lambda m: m.get("type") == "message")
    assert got["from"] == {"id": "acct-alice", "name": "Alice"}


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_public_key_tokens(server_factory, tmp_path, kind):
    keys = jwt.KeyPair(tmp_path / "keys", kind)
    other = jwt.KeyPair(tmp_path / "other", kind)
    srv = server_factory(auth_yaml("required", f"  jwt:\n    publicKeyFile: {keys.public_pem}\n"))
    client = srv.client(f"token={keys.sign(jwt.claims(sub='pk-user', name='Pat'))}")
    assert client.user == {"id": "pk-user", "name": "Pat"}
    assert refused(srv, f"/ws?token={other.sign(jwt.claims())}")[1]["error"] == "token_bad_signature"
    # no secret configured: HS256 is not an algorithm this server accepts
    assert refused(srv, f"/ws?token={token()}")[1]["error"] == "token_wrong_algorithm"
    # the other public-key algorithm is not accepted with this key either
    assert refused(srv, f"/ws?token={keys.sign(jwt.claims(), alg='ES256' if kind == 'rsa' else 'RS256')}")[1]["error"] \
        == "token_wrong_algorithm"


def test_an_accounts_name_belongs_to_it(optional):
    alice = optional.client(f"token={token(sub='acct-alice', name='Alice')}")
    squatter = optional.client("name=alice")
    assert squatter.name.lower() != "alice"
    assert first(squatter, lambda m: m.get("type") == "error")["code"] == "name_taken"
    squatter.send({"type": "name", "name": "ALICE", "id": 1})
    assert first(squatter, lambda m: m.get("re") == 1)["code"] == "name_taken"
    # the account itself may not rename (auth.allowRename is off)
    alice.send({"type": "name", "name": "Alicia", "id": 2})
    assert first(alice, lambda m: m.get("re") == 2)["code"] == "forbidden"
    # another account whose token says Alice gets another name
    twin = optional.client(f"token={token(sub='acct-alice-2', name='Alice')}")
    assert twin.name != "Alice" and twin.id == "acct-alice-2"


def test_an_anonymous_holder_gives_an_accounts_name_back(optional):
    early = optional.client("name=Alice")
    alice = optional.client(f"token={token(sub='acct-alice', name='Alice')}")
    assert alice.name == "Alice"
    renamed = first(early, lambda m: m.get("type") == "renamed")
    assert renamed["oldName"] == "Alice" and renamed["user"]["name"] != "Alice"


def test_allow_rename(server_factory):
    srv = server_factory(auth_yaml("required", "  allowRename: true\n"), env=SECRET_ENV)
    alice = srv.client(f"token={token()}")
    alice.send({"type": "name", "name": "Alicia", "id": 1})
    assert first(alice, lambda m: m.get("re") == 1)["type"] == "renamed"


def test_rooms_claim_limits_where_an_account_goes(required):
    member = required.client(f"token={token(sub='acct-m', name='Member', rooms=['team-a', 'team-b'])}")
    # lobby, the home room, is not on its list: it starts in its first room
    assert member.welcome["room"] == "team-a" and member.welcome["rooms"] == ["team-a"]
    member.send({"type": "join", "room": "team-b", "id": 1})
    assert first(member, lambda m: m.get("re") == 1)["type"] == "joined"
    for i, room in enumerate(["lobby", "secret"], start=2):
        member.send({"type": "join", "room": room, "id": i})
        assert first(member, lambda m, i=i: m.get("re") == i)["code"] == "forbidden"
    # a token that lists no usable room is refused before the upgrade
    resp, _ = refused(required, f"/ws?token={token(sub='acct-none', rooms=[])}")
    assert resp.status == 403
    assert resp.body.startswith(b"forbidden:")


def test_an_accounts_connections_are_one_user(optional):
    """Two tabs, or a phone and a laptop: one account on several connections is one user."""
    laptop = optional.client(f"token={token()}")
    watcher = optional.client()
    phone = optional.client(f"token={token()}")
    assert phone.id == laptop.id == "acct-1" and phone.welcome["user"]["name"] == "Alice"
    assert phone.token != laptop.token and phone.welcome["resumed"] is False
    assert [u["id"] for u in phone.users["users"]].count("acct-1") == 1
    # what the phone says, the laptop shows as the account's own message
    phone.say("from my phone")
    assert laptop.expect("message")["from"]["id"] == "acct-1"
    watcher.send({"type": "users", "id": 9})
    assert [u["id"] for u in first(watcher, lambda m: m.get("re") == 9)["users"]].count("acct-1") == 1
    assert metric_value(optional.get("/metrics").body.decode(), "confab_users") == 2
    # the phone leaves for good (close 1000: goodbye): the laptop keeps Alice in the lobby
    phone.close()
    laptop.say("still here")
    msg, skipped = watcher.recv_until(lambda m: m.get("type") == "message" and m["text"] == "still here")
    assert not [m for m in skipped if m.get("type") == "presence"], skipped
    # the last one goes: now she leaves
    laptop.close()
    assert watcher.expect_change("leave", user_id="acct-1")["room"] == "lobby"


def test_a_devices_token_takes_that_device_over(optional):
    """Resume and the 4000 take-over stay per connection, not per account."""
    laptop = optional.client(f"token={token()}")
    laptop.send({"type": "join", "room": "dev", "id": 1})
    first(laptop, lambda m: m.get("re") == 1)
    phone = optional.client(f"token={token()}")
    again = optional.client(f"token={token()}&resume={laptop.token}")
    assert again.welcome["resumed"] is True and again.welcome["rooms"] == ["lobby", "dev"]
    code, _ = laptop.wait_closed()
    assert code == 4000
    phone.say("phone still on")
    assert again.expect("message")["text"] == "phone still on"


def test_refusals_are_counted_by_code(required):
    refused(required, f"/ws?token={token(ttl=-3600)}")
    refused(required, "/ws")
    metrics = required.get("/metrics").body.decode()
    assert metric_value(metrics, "confab_connections_refused_total", {"reason": "token_expired"}) == 1
    assert metric_value(metrics, "confab_connections_refused_total", {"reason": "token_required"}) == 1
    assert metric_value(metrics, "confab_handshake_failures_total", {"status": "401"}) == 2


def run_serve(tmp_path, yaml: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    config = tmp_path / "confab.yaml"
    config.write_text(yaml)
    return subprocess.run([confab_binary(), "serve", "--config", str(config), "--host", "127.0.0.1", "--port", "0",
                           "--web-root", str(web_root())],
                          env={"PATH": "/usr/bin:/bin", **(env or {})}, capture_output=True, timeout=20, cwd=tmp_path)


def test_bad_auth_configuration_exits_78_and_names_the_key(tmp_path):
    no_key = run_serve(tmp_path, "auth:\n  mode: required\n")
    assert no_key.returncode == 78
    assert b"confab.yaml:2: auth.mode: expected none, or a key in auth.jwt.secret or auth.jwt.publicKeyFile" in no_key.stderr

    missing = run_serve(tmp_path, "auth:\n  mode: required\n  jwt:\n    publicKeyFile: nowhere.pem\n")
    assert missing.returncode == 78
    assert b"confab.yaml:4: auth.jwt.publicKeyFile: cannot read file: nowhere.pem: no such file" in missing.stderr

    keys = jwt.KeyPair(tmp_path / "keys", "ec")
    private = run_serve(tmp_path, f"auth:\n  mode: required\n  jwt:\n    publicKeyFile: {keys.private_pem}\n")
    assert private.returncode == 78
    assert b"auth.jwt.publicKeyFile: expected a PEM public key" in private.stderr
    assert b"a private key" in private.stderr
    assert keys.private_pem.read_bytes().split(b"\n")[1] not in private.stderr

    short = run_serve(tmp_path, "auth:\n  mode: required\n", env={"CONFAB_AUTH_JWT_SECRET": "hunter2-short"})
    assert short.returncode == 78
    assert b"environment CONFAB_AUTH_JWT_SECRET: expected null or a secret of at least 32 bytes" in short.stderr
    assert b"hunter2" not in short.stderr

    line = run_serve(tmp_path, "line:\n  enabled: true\nauth:\n  mode: required\n", env=SECRET_ENV)
    assert line.returncode == 78
    assert b"line.enabled" in line.stderr


def run_chat(srv, *args: str, env: dict[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([confab_binary(), "chat", srv.ws_url(), *args], input=stdin.encode(),
                          env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin", "TZ": "UTC", **(env or {})},
                          capture_output=True, timeout=20)


def test_confab_chat_sends_its_token(required):
    watcher = required.client(f"token={token(sub='acct-w', name='Watcher')}")
    flag = run_chat(required, "--token", token(sub="acct-cli", name="Cleo"), stdin="from the flag\n")
    assert flag.returncode == 0, flag.stderr
    assert b"Cleo" in flag.stdout
    got = first(watcher, lambda m: m.get("type") == "message")
    assert got["from"] == {"id": "acct-cli", "name": "Cleo"} and got["text"] == "from the flag"

    environment = run_chat(required, env={"CONFAB_TOKEN": token(sub="acct-env", name="Enzo")}, stdin="from the env\n")
    assert environment.returncode == 0, environment.stderr
    got = first(watcher, lambda m: m.get("type") == "message")
    assert got["from"] == {"id": "acct-env", "name": "Enzo"}


def test_confab_chat_says_why_its_token_was_refused(required):
    expired = run_chat(required, "--token", token(ttl=-3600), stdin="never sent\n")
    assert expired.returncode == 1
    assert b"401" in expired.stderr and b"token_expired" in expired.stderr
    missing = run_chat(required, stdin="never sent\n")
    assert missing.returncode == 1
    assert b"401" in missing.stderr
