"""The harness itself (Tests/confabtest): the binary under test is required, never
guessed, and a missing one fails the run instead of skipping it; child output lines
are waited for with deadlines."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from confabtest.paths import REPO_ROOT, binary_problem, confab_binary
from confabtest.waiting import LineReader


def test_the_binary_must_be_named_and_executable(tmp_path):
    assert "is not set" in binary_problem({})
    assert "is not set" in binary_problem({"CONFAB_BINARY": ""})
    missing = str(tmp_path / "confab")
    assert "does not exist" in binary_problem({"CONFAB_BINARY": missing})
    plain = tmp_path / "plain"
    plain.write_text("not a program")
    assert "not an executable file" in binary_problem({"CONFAB_BINARY": str(plain)})
    assert "not an executable file" in binary_problem({"CONFAB_BINARY": str(tmp_path)})
    assert binary_problem({"CONFAB_BINARY": confab_binary()}) is None


def test_an_unset_binary_fails_the_run_instead_of_skipping(tmp_path):
    """pytest stops before running any test, with the reason and a non-zero status, even
    though a build may be lying around in .build/ (it is never used in its place)."""
    env = {k: v for k, v in os.environ.items() if k != "CONFAB_BINARY"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "--basetemp", str(tmp_path / "inner"), "Tests/integration/test_config.py"],
        cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    out = proc.stdout + proc.stderr
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, out
    assert "CONFAB_BINARY is not set" in out, out
    assert "passed" not in out and "skipped" not in out, out


def test_line_reader_waits_for_lines_with_a_deadline():
    proc = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        lines = LineReader(proc.stdout)
        with pytest.raises(TimeoutError):
            lines.next_line(time.monotonic() + 0.2)   # nothing written yet
        proc.stdin.write(b"first\r\nsecond\n")
        proc.stdin.flush()
        assert lines.next_line(time.monotonic() + 5) == "first"
        assert lines.next_line(time.monotonic() + 5) == "second"
        proc.stdin.close()
        assert lines.next_line(time.monotonic() + 5) is None   # EOF
        assert lines.next_line(time.monotonic() + 5) is None   # and EOF again
    finally:
        proc.kill()
        proc.wait(timeout=5)
