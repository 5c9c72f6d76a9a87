"""The machinery of Confab's real-browser tests (fixtures are in conftest.py).

Headless Chromium driven by Selenium against the real `confab` binary (path in
CONFAB_BINARY, required) on an ephemeral port on 127.0.0.1. The server process and
the cuttable TCP proxy come from the shared package Tests/confabtest
(`confabtest.server.ConfabServer`, `confabtest.proxy.TCPProxy`); this file holds
what only the browser tests need: their server config, output folders, Chromium.

Rules:
- every wait is a WebDriverWait (or an event wait) with a deadline; no sleep is
  used for synchronisation;
- if Chromium or chromedriver cannot start, the test FAILS with the reason;
- after every test the browser console is checked: a JavaScript error or a
  Content-Security-Policy violation fails the test;
- screenshots go to test-output/browser/ (repo-relative, git-ignored), the
  server's stderr log to test-output/browser/logs/<test>.log.
"""

from __future__ import annotations

import os
import re

import pytest

from confabtest.paths import REPO_ROOT

OUTPUT_DIR = REPO_ROOT / "test-output" / "browser"
LOG_DIR = OUTPUT_DIR / "logs"

CHROMIUM = os.environ.get("CONFAB_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CONFAB_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")

# Small limits so the tests can reach them quickly. Resume grace is long
# enough for the reconnect test; nothing else depends on it.
DEFAULT_CONFIG = """\
server:
  name: Confab test
chat:
  historySize: 50
  maxMessageBytes: 120
  resumeGraceSeconds: 30
log:
  level: debug
"""


# Large rooms (docs/PROTOCOL.md, "Presence and crowds") with a handful of users: a room
# of more than 3 is large, one below 3 small again; occupancy and roomsChanged come at
# most every 100 ms. Room for a crowd of a thousand and more from 127.0.0.1.
CROWD_CONFIG = """\
server:
  name: Confab test
  maxConnectionsPerIP: 5000
chat:
  historySize: 50
  maxMessageBytes: 120
  resumeGraceSeconds: 30
  presence:
    fullListMax: 3
    intervalMs: 100
log:
  level: info
"""


def slug_for(request) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:80]


# --------------------------------------------------------------------------
# Browsers
# --------------------------------------------------------------------------

# Console lines that are expected in a specific test (e.g. the failed WebSocket
# attempts while the proxy refuses) are allowed by the test through
# `ChatPage.allow_console(regex)`; everything SEVERE otherwise fails the test.


def _chrome_options(width: int, height: int, extra_args: tuple[str, ...] = ()):
    from selenium.webdriver.chrome.options import Options
    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--disable-features=Translate,MediaRouter",
                "--lang=en-US", "--force-device-scale-factor=1", "--hide-scrollbars",
                "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                "--disable-backgrounding-occluded-windows", *extra_args):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # never auto-dismiss a dialog: a test must be able to see an alert() if one ever opens
    opts.set_capability("unhandledPromptBehavior", "ignore")
    return opts


def start_chrome(width: int = 1280, height: int = 800, extra_args: tuple[str, ...] = ()):
    """A headless Chromium driven by the system chromedriver; fails the test with the reason.
    `extra_args` are more command-line switches (a test's own, like trusting a throwaway
    certificate)."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not (os.path.isfile(p) and os.access(p, os.X_OK))]
    if missing:
        pytest.fail(f"cannot start the browser: missing {', '.join(missing)} "
                    "(install the Debian packages chromium and chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as e:  # pragma: no cover - environment problem
        pytest.fail(f"cannot start the browser: selenium is not installed ({e})")
    service = Service(executable_path=CHROMEDRIVER,
                      log_output=str(LOG_DIR / "chromedriver.log"))
    try:
        driver = webdriver.Chrome(service=service, options=_chrome_options(width, height, extra_args))
    except Exception as e:  # noqa: BLE001 - any start-up failure is the reason to report
        pytest.fail(f"cannot start the browser ({CHROMIUM} via {CHROMEDRIVER}): "
                    f"{type(e).__name__}: {str(e).strip()[:1500]}")
    driver.set_page_load_timeout(60)  # deadlines only: generous for a loaded machine
    driver.set_script_timeout(30)
    return driver
