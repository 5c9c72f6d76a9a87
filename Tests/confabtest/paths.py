"""Where the binary under test and the web root are.

The binary is named by CONFAB_BINARY and nothing else: an unset variable, or a
path that is not an executable file, is an error that fails the run. No build
lying around in .build/ is ever picked up in its place (it may be stale).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent.parent

BINARY_HINT = "e.g. CONFAB_BINARY=\"$(swift build --show-bin-path)/confab\""


def binary_problem(environ: "os._Environ[str] | dict[str, str] | None" = None) -> str | None:
    """Why CONFAB_BINARY cannot be run, or None when it names an executable file."""
    env = os.environ if environ is None else environ
    path = env.get("CONFAB_BINARY")
    if not path:
        return ("CONFAB_BINARY is not set: it must name the confab executable to test "
                f"({BINARY_HINT}); no build is picked up in its place")
    if not os.path.exists(path):
        return f"CONFAB_BINARY={path!r} does not exist ({BINARY_HINT})"
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        return f"CONFAB_BINARY={path!r} is not an executable file ({BINARY_HINT})"
    return None


def confab_binary() -> str:
    """The absolute path of the binary under test; fails the test (never skips) if there is none."""
    problem = binary_problem()
    if problem:
        pytest.fail(problem, pytrace=False)
    return os.path.abspath(os.environ["CONFAB_BINARY"])


def web_root() -> Path:
    """The web root the server is started with.

    CONFAB_WEB_ROOT wins; else `<repo>/web` next to these tests when it holds
    the page; else the `web/` of the checkout the binary was built in.
    """
    explicit = os.environ.get("CONFAB_WEB_ROOT")
    if explicit:
        return Path(explicit).resolve()
    local = REPO_ROOT / "web"
    if (local / "index.html").exists():
        return local
    binary = os.environ.get("CONFAB_BINARY")
    if binary:
        p = Path(os.path.abspath(binary))
        for parent in list(p.parents)[:6]:
            if (parent / "Package.swift").exists() and (parent / "web").is_dir():
                return parent / "web"
    return local


def web_file(name: str) -> Path | None:
    """The file `/static/<name>` should serve, if it exists in the web root."""
    root = web_root()
    for candidate in (root / name, root / "static" / name):
        if candidate.is_file():
            return candidate
    return None
