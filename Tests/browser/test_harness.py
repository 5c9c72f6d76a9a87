"""The harness itself: a missing server binary or a browser that cannot start fails
(never skips), and the console check really catches JavaScript errors and CSP violations."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import browser_harness
from confabtest.paths import REPO_ROOT


def test_a_missing_binary_fails_the_run_instead_of_skipping(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CONFAB_BINARY"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "inner"),
         "Tests/browser/test_harness.py", "-k", "cannot_start"],
        cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    out = proc.stdout + proc.stderr
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, out
    assert "CONFAB_BINARY is not set" in out, out
    assert "passed" not in out and "skipped" not in out, out


def test_a_browser_that_cannot_start_fails_with_the_reason(monkeypatch):
    monkeypatch.setattr(browser_harness, "CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(pytest.fail.Exception) as info:
        browser_harness.start_chrome()
    assert "cannot start the browser" in str(info.value)
    assert "/nonexistent/chromium" in str(info.value)


def test_console_check_catches_js_errors_and_csp_violations(server, browsers):
    page = browsers(server.url, "probe")
    assert page.console_problems() == []
    page.js("setTimeout(() => { throw new Error('probe failure'); }, 0);")
    page.js("const s = document.createElement('script'); s.textContent = '1'; document.head.appendChild(s);")
    page.wait(lambda: (lambda ps: any("probe failure" in p for p in ps)
                              and any("Content Security Policy" in p for p in ps))(page.console_problems()),
              "both problems reported")
    # expected here: allow them so the fixture's own check passes
    page.allow_console(r"probe failure|Content Security Policy")
    assert page.console_problems() == []


def test_layout_checks_catch_low_contrast_and_sideways_overflow(server, browsers):
    page = browsers(server.url, "probe")
    assert page.contrast_problems() == [] and page.overflow_problems() == []
    page.js("""
      const p = document.createElement('p'); p.id = 'probe'; p.textContent = 'pale grey text';
      p.setAttribute('class', 'probe'); document.querySelector('main').appendChild(p);
      p.animate([{color: '#aaaaaa'}, {color: '#aaaaaa'}], {duration: 60000, fill: 'forwards'});
      const wide = document.createElement('div'); wide.textContent = 'wide';
      document.getElementById('composer').appendChild(wide);
      wide.animate([{width: '3000px'}, {width: '3000px'}], {duration: 60000, fill: 'forwards'});""")
    page.wait(lambda: any("pale grey text" in p for p in page.contrast_problems()), "low contrast reported")
    page.wait(lambda: any("div#." in p for p in page.overflow_problems()), "overflow reported")
