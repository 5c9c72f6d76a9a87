"""The machinery of Confab's real-browser tests (fixtures are in conftest.py).

Headless Chromium driven by Selenium against the real `confab` binary (path in
CONFAB_BINARY) on an ephemeral port on 127.0.0.1. Each test gets its own server
(fresh rooms and users) and its own browser processes (one per chat session).

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
import queue
import re
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
OUTPUT_DIR = REPO_ROOT / "test-output" / "browser"
LOG_DIR = OUTPUT_DIR / "logs"

CHROMIUM = os.environ.get("CONFAB_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CONFAB_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")

STARTUP_TIMEOUT = 10.0
WAIT = 10.0  # default WebDriverWait deadline, seconds

LISTEN_LINE = re.compile(
    r"^confab (?P<version>\S+) listening on http://127\.0\.0\.1:(?P<port>\d+) "
    r"\(WebSocket at (?P<ws_path>/\S*)\)$"
)

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
# The server
# --------------------------------------------------------------------------

def confab_binary() -> str:
    path = os.environ.get("CONFAB_BINARY")
    if not path:
        pytest.fail("CONFAB_BINARY is not set: it must name the confab executable "
                    "(e.g. CONFAB_BINARY=$(swift build --show-bin-path)/confab)")
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        pytest.fail(f"CONFAB_BINARY={path!r} is not an executable file")
    return path


class ConfabServer:
    """One `confab serve` process on an ephemeral port, stderr saved to a file."""

    def __init__(self, workdir: Path, log_path: Path, config_yaml: str = DEFAULT_CONFIG):
        self.workdir = workdir
        self.config_path = workdir / "confab.yaml"
        self.config_path.write_text(config_yaml)
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self._lines: "queue.Queue[str | None]" = queue.Queue()
        self._log = None
        self.stopped = False  # set when the test (or teardown) stops the server on purpose

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> "ConfabServer":
        # the server refuses unknown CONFAB_* variables (CONFAB_BINARY among them)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONFAB_") and k != "PORT"}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [confab_binary(), "serve", "--host", "127.0.0.1", "--port", "0",
             "--config", str(self.config_path), "--web-root", str(REPO_ROOT / "web")],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._log,
            env=env, cwd=str(self.workdir),
        )
        threading.Thread(target=self._pump, daemon=True).start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        seen = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                pytest.fail(f"confab did not print its listening line within {STARTUP_TIMEOUT}s; "
                            f"stdout: {seen!r}; log: {self.log_path}")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                code = self.proc.wait(timeout=5)
                pytest.fail(f"confab exited with {code} before listening; stdout: {seen!r}; "
                            f"stderr: {self.log_text()[-2000:]}")
            seen.append(line)
            m = LISTEN_LINE.match(line)
            if m:
                self.port = int(m.group("port"))
                return self

    def _pump(self):
        assert self.proc and self.proc.stdout
        for raw in self.proc.stdout:
            self._lines.put(raw.decode("utf-8", "replace").rstrip("\r\n"))
        self._lines.put(None)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        self.stopped = True
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self._log:
            self._log.close()
            self._log = None


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
