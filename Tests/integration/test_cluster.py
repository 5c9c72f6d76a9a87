"""Cluster mode (docs/CLUSTER.md): several real Confab nodes share rooms through a real
Redis and behave as one server. Each test starts its own redis-server and 2-3 nodes."""

from __future__ import annotations

import signal

import pytest

from confabtest.chat import is_message, is_type
from confabtest.redis import RedisServer
from confabtest.waiting import poll_until


def node_config(redis: RedisServer, chat: str = "", cluster: str = "") -> str:
    return ("chat:\n  historySize: 20\n" + chat + "log:\n  level: debug\n"
            f"cluster:\n  redis: {redis.url}\n  keyPrefix: 'test:'\n" + cluster)


def health(server) -> dict:
    return server.healthz()


def wait_joined(server, timeout: float = 10.0) -> None:
    """The node is on the bus."""
    poll_until(lambda: health(server).get("cluster"), lambda v: v == "up", timeout=timeout)


def listed(client, room: str = "lobby") -> list[str]:
    client.send({"type": "users", "room": room})
    users, _ = client.recv_until(is_type("users", room=room))
    return sorted(u["name"] for u in users["users"])


def wait_listed(client, names: list[str], room: str = "lobby") -> None:
    """Until `client`'s node lists exactly `names` in `room`: news from other nodes travels
    through Redis, so it can arrive after a reply the test caused directly."""
    poll_until(lambda: listed(client, room), lambda got: got == sorted(names), timeout=10)


@pytest.fixture
def redis(tmp_path):
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def nodes(redis, server_factory):
    def start(count: int = 2, chat: str = "", cluster: str = ""):
        started = [server_factory(config_yaml=node_config(redis, chat, cluster)) for _ in range(count)]
        for node in started:
            wait_joined(node)
        return started
    return start


def test_a_message_on_one_node_reaches_the_others_once_and_in_one_order(nodes):
    a, b = nodes(2)
    ann = a.client("name=ann")
    ben = b.client("name=ben")
    ann.expect_change("join", user_id=ben.id)
    for i in range(10):
        ann.say(f"a{i}")
        ben.say(f"b{i}")
    got = {}
    for client in (ann, ben):
        seen = []
        while len(seen) < 20:
            msg, _ = client.recv_until(is_type("message"))
            seen.append((msg["seq"], msg["text"]))
        got[client.name] = seen
    assert got["ann"] == got["ben"]
    assert [seq for seq, _ in got["ann"]] == list(range(1, 21))
    assert sorted(text for _, text in got["ann"]) == sorted([f"a{i}" for i in range(10)] + [f"b{i}" for i in range(10)])


def test_the_sender_gets_its_ack_with_the_cluster_seq(nodes):
    a, b = nodes(2)
    ann = a.client("name=ann")
    ben = b.client("name=ben")
    ben.say("first")
    ben.recv_until(is_message("first"))
    ann.send({"type": "send", "text": "second", "id": 5})
    ack, _ = ann.recv_until(is_type("ack"))
    assert ack["re"] == 5 and ack["seq"] == 2
    msg, _ = ben.recv_until(is_message("second"))
    assert msg["seq"] == 2


def test_presence_users_and_room_counts_span_the_nodes(nodes):
    a, b = nodes(2)
    ann = a.client("name=ann")
    ben = b.client("name=ben")
    change = ann.expect_change("join")
    assert change["user"]["name"] == "ben"
    wait_listed(ben, ["ann", "ben"])
    ann.send({"type": "rooms"})
    rooms, _ = ann.recv_until(is_type("rooms"))
    assert {r["name"]: r["users"] for r in rooms["rooms"]}["lobby"] == 2
    ben.close()
    left = ann.expect_change("leave")
    assert left["user"]["name"] == "ben"


def test_a_newcomer_on_another_node_gets_the_rooms_history(nodes):
    a, b = nodes(2)
    ann = a.client("name=ann")
    for i in range(3):
        ann.say(f"m{i}")
        ann.recv_until(is_message(f"m{i}"))
    cy = b.client("name=cy")
    assert [m["text"] for m in cy.history["messages"]] == ["m0", "m1", "m2"]


def test_history_outlives_every_node(nodes, redis, server_factory):
    a, = nodes(1)
    ann = a.client("name=ann")
    ann.say("remember me")
    ann.recv_until(is_message("remember me"))
    a.stop()
    b = server_factory(config_yaml=node_config(redis))
    wait_joined(b)
    # The history arrives once the node has read it from Redis.
    def history():
        client = b.client()
        texts = [m["text"] for m in client.history["messages"]]
        client.close()
        return texts
    assert poll_until(history, lambda texts: texts == ["remember me"], timeout=10)


def test_names_are_unique_across_nodes(nodes):
    a, b = nodes(2)
    ann = a.client("name=ann")
    ben = b.client("name=ben")
    ann.expect_change("join", user_id=ben.id)
    ben.send({"type": "name", "name": "ANN"})
    error, _ = ben.recv_until(is_type("error"))
    assert error["code"] == "name_taken"
    # A name taken on one node, then freed there, is free on the other.
    ann.send({"type": "name", "name": "anna"})
    ben.expect_change("rename", user_id=ann.id)
    ben.send({"type": "name", "name": "ann"})
    renamed, _ = ben.recv_until(is_type("renamed"))
    assert renamed["user"]["name"] == "ann"


def test_a_room_made_on_one_node_is_joinable_and_listed_on_the_other(nodes):
    a, b = nodes(2)
    ann = a.client("name=ann")
    ben = b.client("name=ben")
    ann.send({"type": "join", "room": "dev"})
    ann.recv_until(is_type("history", room="dev"))
    ben.send({"type": "join", "room": "dev"})
    wait_listed(ben, ["ann", "ben"], room="dev")
    ben.say("hi dev", room="dev")
    msg, _ = ann.recv_until(is_message("hi dev", room="dev"))
    assert msg["from"]["name"] == "ben"


def test_a_node_apart_from_redis_keeps_its_users_chatting_and_rejoins(nodes, redis):
    a, b = nodes(2)
    ann = a.client("name=ann")
    amy = a.client("name=amy")
    ben = b.client("name=ben")
    redis.stop()
    poll_until(lambda: health(a), lambda h: h.get("cluster") == "down" and h.get("status") == "degraded", timeout=10)
    # Local chat never stops.
    ann.say("still here")
    amy.recv_until(is_message("still here"))
    redis.start()
    wait_joined(a, timeout=15)
    wait_joined(b, timeout=15)
    # Cross-node chat is back without a restart (Redis came back empty).
    def crosses():
        ben.say("ping across")
        try:
            ann.recv_until(is_message("ping across"), timeout=1)
            return True
        except AssertionError:
            return False
    poll_until(crosses, bool, timeout=10, interval=0.1)
    # And the nodes know each other's users again.
    wait_listed(ann, ["amy", "ann", "ben"])
    wait_listed(ben, ["amy", "ann", "ben"])


def metric(server, name: str) -> float:
    for line in server.get("/metrics").body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def test_metrics_report_the_cluster(nodes, redis):
    a, b = nodes(2)
    assert metric(a, "confab_cluster_up") == 1
    # The RTT comes from a PING a second.
    poll_until(lambda: metric(a, "confab_cluster_redis_rtt_seconds"), lambda v: v > 0, timeout=10)
    commands, received = metric(a, "confab_cluster_commands_total"), metric(a, "confab_cluster_messages_received_total")
    ann = a.client("name=ann")
    b.client("name=ben")
    ann.say("counted")
    ann.recv_until(is_message("counted"))
    assert metric(a, "confab_cluster_commands_total") > commands
    poll_until(lambda: metric(a, "confab_cluster_messages_received_total"), lambda v: v >= received + 2, timeout=10)
    # An outage: down, then a reconnect counted.
    redis.stop()
    poll_until(lambda: metric(a, "confab_cluster_up"), lambda v: v == 0, timeout=10)
    redis.start()
    poll_until(lambda: metric(a, "confab_cluster_reconnects_total"), lambda v: v >= 1, timeout=15)
    assert metric(a, "confab_cluster_up") == 1


def test_a_session_resumes_on_another_node_with_nothing_missed_or_repeated(nodes):
    a, b = nodes(2)
    ann = a.client("name=ann")
    ben = b.client("name=ben")
    ann.expect_change("join", user_id=ben.id)
    ann.send({"type": "join", "room": "dev"})
    ann.recv_until(is_type("history", room="dev"))
    ben.say("m1")
    ann.recv_until(is_message("m1"))
    token, ann_id = ann.token, ann.id
    ann.drop()
    for i in range(2, 5):
        ben.say(f"m{i}")
    ben.recv_until(is_message("m4"))
    back = b.client(f"resume={token}")
    assert back.welcome["resumed"] is True
    assert back.welcome["user"] == {"id": ann_id, "name": "ann"}
    assert back.welcome["rooms"] == ["lobby", "dev"] and back.welcome["room"] == "dev"
    lobby = next(m for m in back.intro if m.get("type") == "history" and m.get("room") == "lobby")
    # Replayed by seq: after the last seen (1), nothing missed and nothing twice.
    assert [(m["seq"], m["text"]) for m in lobby["messages"] if m["seq"] > 1] == [(2, "m2"), (3, "m3"), (4, "m4")]
    # To the others she never left; and she chats on from node b.
    back.say("back", room="lobby")
    msg, skipped = ben.recv_until(is_message("back"))
    assert not [m for m in skipped if m.get("type") == "presence"]
    assert msg["from"]["id"] == ann_id


def test_a_killed_nodes_users_leave_everywhere_after_timeout_and_grace(nodes):
    a, b = nodes(2, chat="  resumeGraceSeconds: 1\n", cluster="  nodeTimeoutSeconds: 2\n")
    ann = a.client("name=ann")
    ben = b.client("name=ben")
    ann.expect_change("join", user_id=ben.id)
    a.signal(signal.SIGKILL)
    change = ben.expect_change("leave", user_id=ann.id, timeout=15)
    assert change["user"]["name"] == "ann"
    assert listed(ben) == ["ben"]


def test_a_stopped_nodes_users_can_resume_on_another_node(nodes):
    a, b = nodes(2, chat="  resumeGraceSeconds: 30\n")
    ann = a.client("name=ann")
    ben = b.client("name=ben")
    ann.expect_change("join", user_id=ben.id)
    token, ann_id = ann.token, ann.id
    a.stop()
    back = b.client(f"resume={token}")
    assert back.welcome["resumed"] is True and back.welcome["user"]["id"] == ann_id


def test_many_concurrent_claims_of_one_name_across_two_nodes_exactly_one_wins(nodes):
    a, b = nodes(2)
    clients = [a.client() for _ in range(5)] + [b.client() for _ in range(5)]
    # Everyone asks at once, before any node can hear of the others' claims.
    for i, client in enumerate(clients):
        client.send({"type": "name", "name": "Zed", "id": i})
    outcomes = []
    for client in clients:
        reply, _ = client.recv_until(lambda m: m.get("re") is not None and m.get("type") in ("renamed", "error"))
        outcomes.append(reply["type"] if reply["type"] == "renamed" else reply["code"])
    assert sorted(outcomes) == ["name_taken"] * 9 + ["renamed"]
    winner = clients[outcomes.index("renamed")]
    # Both nodes agree on who is Zed (once the rename has travelled).
    def zed_on(client):
        client.send({"type": "users", "name": "zed"})
        found, _ = client.recv_until(is_type("users"))
        return [u["id"] for u in found["users"]]
    for client in (clients[0], clients[5]):
        poll_until(lambda: zed_on(client), lambda ids: ids == [winner.id], timeout=10)


def test_garbage_on_the_bus_is_counted_and_ignored(nodes, redis):
    a, b = nodes(2)
    ann = a.client("name=ann")
    ben = b.client("name=ben")
    for junk in ["not json", '{"t":"msg","n":"x"}', '{"t":"join","n":"x","u":{"id":"","name":"a/b"},"r":"lobby"}',
                 '{"t":"down","n":"' + "x" * 100 + '"}', "\x00\xff", '{"t":"hello","n":"x","members":[{"u":1}]}']:
        redis.command("PUBLISH", "test:bus", junk)
    poll_until(lambda: metric(a, "confab_cluster_messages_undecodable_total"), lambda v: v >= 2, timeout=10)
    # Both nodes still chat across.
    ann.say("still fine")
    ben.recv_until(is_message("still fine"))
    assert listed(ben) == ["ann", "ben"]


SECRET = "cluster-test-secret-0123456789-abcdef"


@pytest.fixture
def account_nodes(redis, server_factory):
    """Two nodes that take account tokens (auth.mode optional)."""
    config = node_config(redis) + "auth:\n  mode: optional\n"
    started = [server_factory(config_yaml=config, env={"CONFAB_AUTH_JWT_SECRET": SECRET}) for _ in range(2)]
    for node in started:
        wait_joined(node)
    return started


def account_token(sub: str, name: str) -> str:
    from confabtest import jwt
    return "token=" + jwt.hs256(jwt.claims(sub=sub, name=name), SECRET)


def test_an_accounts_devices_on_two_nodes_are_one_user(account_nodes):
    a, b = account_nodes
    laptop = a.client(account_token("acct-alice", "Alice"))
    watcher = b.client("name=watcher")
    wait_listed(watcher, ["Alice", "watcher"])  # node b knows the laptop (its join news consumed)
    phone = b.client(account_token("acct-alice", "Alice"))
    assert phone.id == laptop.id == "acct-alice" and phone.welcome["resumed"] is False
    phone.say("from the phone")
    assert laptop.expect("message")["from"]["id"] == "acct-alice"
    msg, skipped = watcher.recv_until(is_message("from the phone"))
    assert not [m for m in skipped if m.get("type") == "presence"], skipped
    assert listed(watcher) == ["Alice", "watcher"] and listed(laptop) == ["Alice", "watcher"]
    # one device leaves: nobody notices; the other: Alice leaves, on both nodes
    laptop.close()
    phone.say("still here")
    msg, skipped = watcher.recv_until(is_message("still here"))
    assert not [m for m in skipped if m.get("type") == "presence"], skipped
    phone.close()
    assert watcher.expect_change("leave", user_id="acct-alice")["room"] == "lobby"


def test_an_accounts_name_is_its_own_on_every_node(account_nodes):
    """An anonymous user on another node who took the account's name gives it back when the
    account arrives; while the account is away nobody on any node gets it."""
    a, b = account_nodes
    squatter = b.client("name=Alice")
    assert squatter.welcome["user"]["name"] == "Alice"
    alice = a.client(account_token("acct-alice", "Alice"))
    assert alice.welcome["user"]["name"] == "Alice" and alice.id == "acct-alice"
    error = squatter.expect("error")
    assert error["code"] == "name_taken"
    renamed = squatter.expect("renamed")
    assert renamed["oldName"] == "Alice" and renamed["user"]["name"] != "Alice"
    # the account leaves for good: its name stays its own, on the other node too
    alice.close()
    squatter.expect_change("leave", user_id="acct-alice")
    squatter.send({"type": "name", "name": "alice", "id": 5})
    reply, _ = squatter.recv_until(lambda m: m.get("re") == 5)
    assert reply["type"] == "error" and reply["code"] == "name_taken"
