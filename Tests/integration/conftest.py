"""Fixtures for Confab's integration tests; the helpers are in the shared package
Tests/confabtest (on sys.path through `pythonpath` in pytest.ini).

The tests start the real `confab` binary (CONFAB_BINARY, required) on an ephemeral
port on 127.0.0.1 and talk to it over real sockets: raw `socket` for HTTP (so the
bytes are exactly ours), a hand-driven frame writer for RFC 6455 edge cases, and
the `websockets` synchronous client for WebSocket chat.
"""

from __future__ import annotations

from typing import Iterable

import pytest

# the helpers' asserts explain themselves like the tests' own (before any import of them)
pytest.register_assert_rewrite("confabtest")
pytest_plugins = ["confabtest.plugin"]

from confabtest.plugin import finish_server, item_failed, module_server  # noqa: E402
from confabtest.server import DEFAULT_CONFIG, ConfabServer  # noqa: E402


@pytest.fixture
def server_factory(tmp_path, request):
    """`server_factory(config_yaml=...)` starts a confab; all are stopped at teardown."""
    started: list[ConfabServer] = []
    counter = iter(range(1000))

    def start(config_yaml: str = DEFAULT_CONFIG, extra_args: Iterable[str] = (),
              env: dict[str, str] | None = None, port: int = 0) -> ConfabServer:
        workdir = tmp_path / f"server{next(counter)}"
        workdir.mkdir()
        srv = ConfabServer(workdir, config_yaml, extra_args, env, port=port)
        started.append(srv)
        return srv.start()

    yield start
    problems = [p for srv in started if (p := finish_server(srv, item_failed(request.node)))]
    if problems:
        pytest.fail("; ".join(problems))


@pytest.fixture
def server(server_factory) -> ConfabServer:
    """A fresh server with the default configuration (per test: rooms, seq and history start empty)."""
    return server_factory()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory, request):
    """One server for a whole module of tests that do not depend on chat state."""
    yield from module_server(tmp_path_factory, request, DEFAULT_CONFIG, "shared")
