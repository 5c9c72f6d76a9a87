"""Debian's nginx in front of a real Confab, configured by docs/DEPLOY.md itself.

`deploy_blocks()` takes the first ```nginx and ```yaml blocks out of docs/DEPLOY.md;
`Nginx` fills in the documented placeholders (ports on 127.0.0.1, a throwaway self-signed
certificate made with openssl, Confab's address), wraps the block in a minimal main
configuration (a temp dir for pid, logs and buffers; in the foreground) and runs it.
Nothing else of the configuration is the test's own.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

from confabtest.paths import REPO_ROOT
from confabtest.waiting import DEFAULT_TIMEOUT

DEPLOY_DOC = REPO_ROOT / "docs" / "DEPLOY.md"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
PLACEHOLDERS = ("CONFAB_ADDRESS", "HTTP_PORT", "HTTPS_PORT", "TLS_CERTIFICATE_KEY", "TLS_CERTIFICATE", "PUBLIC_ORIGIN")
PREFIX = "/chat/"  # the documented path prefix


def deploy_blocks() -> tuple[str, str]:
    """(nginx block, yaml block): the first fenced block of each language in DEPLOY.md."""
    text = DEPLOY_DOC.read_text("utf-8")
    blocks = {}
    for lang in ("nginx", "yaml"):
        m = re.search(rf"^```{lang}\n(.*?)^```$", text, re.S | re.M)
        assert m, f"docs/DEPLOY.md has no ```{lang} block"
        blocks[lang] = m.group(1)
    return blocks["nginx"], blocks["yaml"]


def fill(text: str, values: dict[str, str]) -> str:
    """Replace each placeholder (a whole word); every one in `text` must have a value."""
    def sub(m: re.Match) -> str:
        return values[m.group(0)]
    pattern = re.compile(r"\b(" + "|".join(sorted(PLACEHOLDERS, key=len, reverse=True)) + r")\b")
    missing = {m.group(0) for m in pattern.finditer(text)} - set(values)
    assert not missing, f"no value for placeholders {missing}"
    return pattern.sub(sub, text)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1 (and localhost)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


MAIN_CONFIG = """\
daemon off;
worker_processes 1;
{user}
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/confab.conf;
}}
"""


class Nginx:
    """nginx running DEPLOY.md's configuration in front of the Confab at `upstream_port`."""

    def __init__(self, folder: Path):
        """Chooses the ports (so that Confab's config can name the public origin before
        either starts) and makes the certificate; `start` runs nginx."""
        self.dir = folder
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cert, self.key = make_certificate(self.dir)
        self.upstream_port = 0
        self.proc: subprocess.Popen | None = None
        self.http_port, self.https_port = free_port(), free_port()

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def url(self, path: str = "") -> str:
        return f"{self.origin}{PREFIX}{path}"

    def ws_url(self, path: str, query: str = "") -> str:
        return f"wss://127.0.0.1:{self.https_port}{PREFIX}{path.lstrip('/')}" + (f"?{query}" if query else "")

    def client_context(self) -> ssl.SSLContext:
        """A TLS client that trusts only the throwaway certificate."""
        return ssl.create_default_context(cafile=str(self.cert))

    def start(self, upstream_port: int) -> "Nginx":
        """nginx in the foreground with DEPLOY.md's block in front of Confab at `upstream_port`."""
        self.upstream_port = upstream_port
        block, _ = deploy_blocks()
        conf = fill(block, {
            "CONFAB_ADDRESS": f"127.0.0.1:{upstream_port}",
            "HTTP_PORT": f"127.0.0.1:{self.http_port}",
            "HTTPS_PORT": f"127.0.0.1:{self.https_port}",
            "TLS_CERTIFICATE": str(self.cert),
            "TLS_CERTIFICATE_KEY": str(self.key),
        })
        (self.dir / "confab.conf").write_text(conf)
        user = "user root root;" if os.geteuid() == 0 else ""  # workers must reach the temp dir
        (self.dir / "nginx.conf").write_text(MAIN_CONFIG.format(dir=self.dir, user=user))
        test = subprocess.run(self._command("-t"), capture_output=True, text=True, timeout=30)
        assert test.returncode == 0, f"nginx -t refused DEPLOY.md's configuration:\n{test.stderr}\n{conf}"
        self.proc = subprocess.Popen(self._command(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not self._wait_listening():
            self.stop()
            raise AssertionError(f"nginx did not start listening on {self.https_port}:\n{self.log()}")
        return self

    def _command(self, *extra: str) -> list[str]:
        return [NGINX, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"), "-e", str(self.dir / "error.log"), *extra]

    def _wait_listening(self) -> bool:
        deadline = time.monotonic() + DEFAULT_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                return True
            except OSError:
                time.sleep(0.02)
        return False

    def log(self) -> str:
        path = self.dir / "error.log"
        return path.read_text("utf-8", "replace")[-5000:] if path.exists() else "(no error log)"

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # fast shutdown
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def tls_connection(port: int, context: ssl.SSLContext, source: str = "127.0.0.1",
                   timeout: float = DEFAULT_TIMEOUT) -> ssl.SSLSocket:
    """A TLS connection to 127.0.0.1:`port` from the loopback address `source` (127.0.0.2,
    127.0.0.3, …: real distinct client addresses for nginx to see)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
    return context.wrap_socket(sock, server_hostname="127.0.0.1")
