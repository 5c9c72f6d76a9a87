"""Fixtures for Confab's real-browser tests; the machinery is in browser_harness.py and
the shared package Tests/confabtest (on sys.path through `pythonpath` in pytest.ini).

Each test gets its own server (fresh rooms and users) and its own browser
processes (one per chat session); the browser console is checked after each test.
"""

from __future__ import annotations

import re
import shutil

import pytest

# the helpers' asserts explain themselves like the tests' own (before any import of them)
pytest.register_assert_rewrite("confabtest")
pytest_plugins = ["confabtest.plugin"]

from browser_harness import DEFAULT_CONFIG, LOG_DIR, OUTPUT_DIR, slug_for, start_chrome  # noqa: E402
from confabtest.plugin import item_failed  # noqa: E402
from confabtest.proxy import TCPProxy  # noqa: E402
from confabtest.server import ConfabServer  # noqa: E402


# a text-format log line at level error or critical
SERVER_ERROR_LINE = re.compile(r"^\S+\s+(ERROR|CRITICAL)\b")


@pytest.fixture
def server_config() -> str:
    """Override in a test module (or with @pytest.mark.parametrize) for another config."""
    return DEFAULT_CONFIG


@pytest.fixture
def server(request, tmp_path, server_config):
    srv = ConfabServer(tmp_path, server_config, log_path=LOG_DIR / f"{slug_for(request)}.log").start()
    yield srv
    srv.stop()  # records a server that exited on its own or not cleanly on SIGTERM
    if item_failed(request.node):
        return
    if srv.problem:
        pytest.fail(f"{srv.problem}; log tail:\n{srv.log_text()[-3000:]}")
    errors = [line for line in srv.log_text().splitlines() if SERVER_ERROR_LINE.match(line)]
    if errors:
        pytest.fail("the server logged errors:\n  " + "\n  ".join(errors[:20]))


@pytest.fixture
def browsers(request):
    """Factory: `open_page(url, label)` starts one browser process per chat session."""
    from chatpage import ChatPage
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    pages: list[ChatPage] = []

    def open_page(url: str, label: str, width: int = 1280, height: int = 800,
                  chrome_args: tuple[str, ...] = ()) -> ChatPage:
        page = ChatPage(start_chrome(width, height, chrome_args), label, OUTPUT_DIR)
        pages.append(page)
        page.open(url)
        return page

    yield open_page

    failed = item_failed(request.node)
    problems = []
    for page in pages:
        if failed:  # what each browser showed when the test failed
            try:
                page.screenshot(f"FAILED-{slug_for(request)}-{page.label}")
            except Exception:  # noqa: BLE001
                pass
        try:
            problems += page.console_problems()
        except Exception as e:  # noqa: BLE001
            problems.append(f"[{page.label}] could not read the console log: {e}")
    for page in pages:
        try:
            page.driver.quit()
        except Exception:  # noqa: BLE001
            pass
    if problems:
        if failed:  # the test's own failure comes first; still show what the console said
            print("browser console problems:\n  " + "\n  ".join(problems))
        else:
            pytest.fail("browser console reported problems:\n  " + "\n  ".join(problems))


@pytest.fixture
def crowd(server):
    """Raw WebSocket sessions that make a room large (crowd.py); they say goodbye after the test."""
    from crowd import Crowd
    c = Crowd(server)
    yield c
    c.close_all()


@pytest.fixture
def proxy_factory():
    proxies: list[TCPProxy] = []

    def make(upstream_port: int) -> TCPProxy:
        p = TCPProxy(upstream_port)
        proxies.append(p)
        return p

    yield make
    for p in proxies:
        p.close()


def pytest_sessionstart(session):
    # fresh screenshots each run, so nothing stale is looked at
    if OUTPUT_DIR.exists():
        for p in OUTPUT_DIR.glob("*.png"):
            p.unlink()
    if LOG_DIR.exists():
        shutil.rmtree(LOG_DIR, ignore_errors=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
