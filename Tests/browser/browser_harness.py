"""The machinery of Confab's real-browser tests (fixtures are in conftest.py).

Headless Chromium driven by Selenium against the real `confab` binary (path in
CONFAB_BINARY, required) on an ephemeral port on 127.0.0.1. The server process
comes from the shared package Tests/confabtest (`confabtest.server.ConfabServer`);
this file holds what only the browser tests need: their server config, output
folders, a cuttable TCP proxy, Chromium.

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
import socket
import struct
import threading

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


def slug_for(request) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:80]


# --------------------------------------------------------------------------
# A TCP proxy whose connections the test can cut (a real dropped connection)
# --------------------------------------------------------------------------

class _Pair:
    def __init__(self, client: socket.socket, upstream: socket.socket):
        self.client = client
        self.upstream = upstream
        self.cut = False


class TCPProxy:
    """Forwards 127.0.0.1:<port> to the server, byte for byte.

    `cut()` resets every open connection on both sides (SO_LINGER 0: an RST,
    no WebSocket close frame), which is what a dropped network looks like.
    While `refusing` is set, new connections are reset at once, so the browser
    stays in "reconnecting" until `accept_again()`.
    """

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.refusing = threading.Event()
        self.lock = threading.Lock()
        self.pairs: list[_Pair] = []
        self.accepted = 0
        self.closed = False
        threading.Thread(target=self._accept_loop, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @staticmethod
    def _reset(sock: socket.socket):
        """Close with SO_LINGER 0 so the kernel sends an RST, not a FIN."""
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            # wakes a pump thread blocked in recv() on this socket, without sending anything;
            # the RST goes out when the last reference to the socket is released
            sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass

    def _accept_loop(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refusing.is_set():
                self._reset(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                self._reset(client)
                continue
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pair = _Pair(client, upstream)
            with self.lock:
                self.pairs.append(pair)
                self.accepted += 1
            threading.Thread(target=self._pump, args=(pair, client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(pair, upstream, client), daemon=True).start()

    def _pump(self, pair: "_Pair", src: socket.socket, dst: socket.socket):
        try:
            while not pair.cut:
                data = src.recv(65536)
                if not data or pair.cut:
                    break
                dst.sendall(data)
        except OSError:
            pass
        if pair.cut:
            return  # cut() resets both sides; no FIN from here
        try:
            dst.shutdown(socket.SHUT_WR)  # pass on an orderly end
        except OSError:
            pass

    def cut(self, refuse: bool = True) -> int:
        """Reset every open connection (RST both ways); with `refuse`, keep refusing new ones."""
        if refuse:
            self.refusing.set()
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            pair.cut = True
            self._reset(pair.client)
            self._reset(pair.upstream)
        return len(pairs)

    def accept_again(self):
        self.refusing.clear()

    def close(self):
        self.closed = True
        try:
            self.listener.close()
        except OSError:
            pass
        self.cut(refuse=True)


# --------------------------------------------------------------------------
# Browsers
# --------------------------------------------------------------------------

# Console lines that are expected in a specific test (e.g. the failed WebSocket
# attempts while the proxy refuses) are allowed by the test through
# `ChatPage.allow_console(regex)`; everything SEVERE otherwise fails the test.


def _chrome_options(width: int, height: int):
    from selenium.webdriver.chrome.options import Options
    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--disable-features=Translate,MediaRouter",
                "--lang=en-US", "--force-device-scale-factor=1", "--hide-scrollbars",
                "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                "--disable-backgrounding-occluded-windows"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # never auto-dismiss a dialog: a test must be able to see an alert() if one ever opens
    opts.set_capability("unhandledPromptBehavior", "ignore")
    return opts


def start_chrome(width: int = 1280, height: int = 800):
    """A headless Chromium driven by the system chromedriver; fails the test with the reason."""
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
        driver = webdriver.Chrome(service=service, options=_chrome_options(width, height))
    except Exception as e:  # noqa: BLE001 - any start-up failure is the reason to report
        pytest.fail(f"cannot start the browser ({CHROMIUM} via {CHROMEDRIVER}): "
                    f"{type(e).__name__}: {str(e).strip()[:1500]}")
    driver.set_page_load_timeout(15)
    driver.set_script_timeout(10)
    return driver
