"""`confab serve --workers N`: one command, N cluster nodes on one port (SO_REUSEPORT),
supervised. Which worker a connection reached is read from the workers' log lines
(`websocket open ... peer=127.0.0.1:PORT ... worker=N`), the port being the client's own."""

from __future__ import annotations

import os
import re
import signal
import subprocess

import pytest

from confabtest.chat import is_message
from confabtest.paths import confab_binary
from confabtest.redis import RedisServer
from confabtest.server import LISTEN_LINE, ConfabServer, server_environment
from confabtest.waiting import poll_until

WORKERS = ["--workers", "2"]


def cluster_config(redis: RedisServer) -> str:
    return f"log:\n  level: info\ncluster:\n  redis: {redis.url}\n  keyPrefix: 'workers:'\n"


@pytest.fixture
def redis(tmp_path):
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


def pids(server: ConfabServer) -> dict[int, int]:
    """The latest pid of each worker, from the supervisor's `worker started` lines."""
    latest: dict[int, int] = {}
    for m in re.finditer(r"worker started pid=(\d+) worker=(\d+)", server.log_text()):
        latest[int(m.group(2))] = int(m.group(1))
    return latest


def on_the_bus(server: ConfabServer) -> set[int]:
    return {int(w) for w in re.findall(r"on the bus as node \S+ worker=(\d+)", server.log_text())}


def start_workers(server_factory, redis: RedisServer) -> ConfabServer:
    srv = server_factory(config_yaml=cluster_config(redis), extra_args=WORKERS)
    # Both nodes are on the bus, so presence and messages cross between them.
    poll_until(lambda: on_the_bus(srv), lambda nodes: nodes == {1, 2}, timeout=10)
    return srv


def worker_of(server: ConfabServer, client) -> int:
    """The worker that accepted `client`'s connection."""
    port = client.ws.socket.getsockname()[1]
    pattern = re.compile(rf"websocket open .*peer=127\.0\.0\.1:{port}\b.*worker=(\d+)")
    found = poll_until(lambda: pattern.search(server.log_text()), bool, timeout=5)
    return int(found.group(1))


def clients_on_each_worker(server: ConfabServer, limit: int = 40) -> dict[int, object]:
    """Connects until some client is on each of the two workers (the kernel picks; bounded)."""
    found: dict[int, object] = {}
    for i in range(limit):
        client = server.client(f"name=user{i}")
        found.setdefault(worker_of(server, client), client)
        if len(found) == 2:
            return found
    raise AssertionError(f"{limit} connections all reached worker(s) {sorted(found)}")


def gone(pid: int) -> bool:
    """The process has exited (and is not a zombie left unreaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_two_workers_share_one_port_and_their_users_chat_across_them(server_factory, redis):
    srv = start_workers(server_factory, redis)
    # One banner for the two, on the one port both workers listen on.
    assert srv.log_text().count("workers listening workers=2") == 1
    assert set(pids(srv)) == {1, 2}
    assert listeners(srv.port) == set(pids(srv).values())
    on = clients_on_each_worker(srv)
    ann, ben = on[1], on[2]
    ann.say("hello from worker 1")
    ben.recv_until(is_message("hello from worker 1"), timeout=10)
    ben.say("hello from worker 2")
    ann.recv_until(is_message("hello from worker 2"), timeout=10)


def listeners(port: int) -> set[int]:
    """The pids listening on a TCP port."""
    out = subprocess.run(["ss", "-Htlnp", f"sport = :{port}"], capture_output=True, text=True).stdout
    return {int(p) for p in re.findall(r"pid=(\d+)", out)}


def test_the_line_chat_port_is_shared_too(server_factory, redis):
    config = cluster_config(redis) + "line:\n  enabled: true\n  port: 0\n"
    srv = server_factory(config_yaml=config, extra_args=WORKERS)
    line_port = int(LISTEN_LINE.match(srv.listen_line).group("line_port"))
    poll_until(lambda: pids(srv), lambda found: set(found) == {1, 2}, timeout=10)
    assert listeners(line_port) == set(pids(srv).values()) == listeners(srv.port)


def test_a_killed_worker_is_restarted_and_serves_again(server_factory, redis):
    srv = start_workers(server_factory, redis)
    first = pids(srv)
    os.kill(first[1], signal.SIGKILL)
    poll_until(lambda: pids(srv).get(1), lambda pid: pid not in (None, first[1]), timeout=10)
    poll_until(srv.log_text, lambda text: re.search(r"worker listening again pid=\d+ worker=1", text), timeout=10)
    assert re.search(r"worker exited code=137 worker=1", srv.log_text())
    assert srv.proc.poll() is None and pids(srv)[2] == first[2]
    # The new worker 1 takes connections on the shared port and chats with worker 2's users.
    poll_until(lambda: on_the_bus(srv) and srv.log_text().count("on the bus as node") >= 3, bool, timeout=10)
    on = clients_on_each_worker(srv)
    on[1].say("back")
    on[2].recv_until(is_message("back"), timeout=10)


def test_sigterm_drains_every_worker_and_exits_zero(server_factory, redis):
    srv = start_workers(server_factory, redis)
    on = clients_on_each_worker(srv)
    workers = pids(srv)
    srv.signal(signal.SIGTERM)
    for client in on.values():
        code, _ = client.wait_closed(timeout=10)
        assert code == 1012
    assert srv.wait(10) == 0
    for pid in workers.values():
        poll_until(lambda: gone(pid), bool, timeout=5)
    log = srv.log_text()
    assert "worker exited code=0 worker=1" in log and "worker exited code=0 worker=2" in log


def test_the_workers_stop_when_the_supervisor_is_killed(server_factory, redis):
    srv = start_workers(server_factory, redis)
    workers = pids(srv)
    srv.signal(signal.SIGKILL)
    assert srv.wait(10) == -signal.SIGKILL
    for pid in workers.values():
        poll_until(lambda: gone(pid), bool, timeout=10)
    assert srv.log_text().count("supervisor gone: shutting down") == 2


def test_a_worker_that_cannot_listen_stops_the_start_with_its_code(tmp_path, redis):
    with socket_taken() as port:
        (tmp_path / "c.yaml").write_text(cluster_config(redis))
        result = subprocess.run([confab_binary(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
                                 "--config", str(tmp_path / "c.yaml")],
                                capture_output=True, timeout=20, env=server_environment(), cwd=tmp_path)
    assert result.returncode == 69, result.stderr.decode()
    assert result.stdout == b""


def test_workers_need_a_cluster_redis(tmp_path):
    result = subprocess.run([confab_binary(), "serve", "--port", "0", "--workers", "2"],
                            capture_output=True, timeout=10, env=server_environment(), cwd=tmp_path)
    assert result.returncode == 78
    assert b"--workers 2 needs cluster.redis" in result.stderr
    result = subprocess.run([confab_binary(), "serve", "--port", "0", "--workers", "0"],
                            capture_output=True, timeout=10, env=server_environment(), cwd=tmp_path)
    assert result.returncode == 64 and b"--workers" in result.stderr


def test_serve_help_documents_workers():
    text = subprocess.run([confab_binary(), "serve", "--help"], capture_output=True, timeout=10).stdout.decode()
    assert "--workers" in text and "SO_REUSEPORT" in text
    assert "--worker " not in text  # the supervisor's own flag to its workers stays hidden


class socket_taken:
    """A port held by a plain listener (no SO_REUSEPORT), so a worker cannot bind it."""

    def __enter__(self) -> int:
        import socket
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        return self.sock.getsockname()[1]

    def __exit__(self, *exc) -> None:
        self.sock.close()


def test_one_worker_is_the_plain_single_process(server_factory):
    # No cluster needed, no supervisor, no worker tag: today's server.
    srv = server_factory(extra_args=["--workers", "1"])
    assert srv.healthz()["status"] == "ok"
    srv.client("name=solo")
    log = srv.log_text()
    assert "websocket open" in log and "worker=" not in log and "workers listening" not in log


def test_sighup_to_the_supervisor_reloads_every_worker(server_factory, redis):
    """`systemctl reload` signals the supervisor: it passes SIGHUP on, each worker reloads
    the same file, and everyone keeps running."""
    srv = start_workers(server_factory, redis)
    srv.config_path.write_text(cluster_config(redis).replace("level: info", "level: debug"))
    srv.signal(signal.SIGHUP)
    srv.signalled = False  # not a stop
    log = poll_until(srv.log_text, lambda text: len(re.findall(r"config reloaded .*worker=\d", text)) == 2, timeout=10)
    assert {int(w) for w in re.findall(r"config reloaded .*worker=(\d)", log)} == {1, 2}
    assert "server.reusePort" not in log, "a worker's shared port is not a change to restart for"
    assert srv.proc.poll() is None
    assert srv.healthz()["status"] == "ok"
