"""The pytest plugin both suites load (`pytest_plugins = ["confabtest.plugin"]` in conftest.py).

- At session start the binary under test must be there: an unset CONFAB_BINARY, or
  one that is not an executable file, stops the run with a usage error (exit status 4)
  before any test runs. Nothing is skipped and no other build is tried.
- Each test item keeps its reports as `rep_setup`, `rep_call`, `rep_teardown`, so that
  fixture teardown knows whether the test failed (`item_failed`, `module_failed`).
- `finish_server` and `module_server` stop servers and report their problems.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from confabtest.paths import binary_problem
from confabtest.server import ConfabServer


@pytest.hookimpl(tryfirst=True)  # before a suite's own session start (the browser suite clears its output)
def pytest_sessionstart(session: pytest.Session) -> None:
    if session.config.option.collectonly:
        return  # listing tests runs nothing
    problem = binary_problem()
    if problem:
        raise pytest.UsageError(problem)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    setattr(item, "rep_" + rep.when, rep)
    return rep


def item_failed(node: pytest.Item) -> bool:
    """Whether the test's setup or call failed (for use in fixture teardown)."""
    return any(getattr(getattr(node, "rep_" + w, None), "failed", False) for w in ("setup", "call"))


def module_failed(request: pytest.FixtureRequest) -> bool:
    """Whether a test of the requesting module failed (for module-scoped teardown)."""
    return any(getattr(getattr(item, "rep_call", None), "failed", False)
               for item in request.session.items if item.module is request.module)


def finish_server(srv: ConfabServer, show_logs: bool) -> str | None:
    """Stop `srv`; print its command, config and stderr when `show_logs` or when it had a
    problem (a crash, an unclean exit). Returns the problem, or None."""
    srv.stop()
    if show_logs or srv.problem:
        print(f"\nconfab command: {' '.join(srv.command())}\nconfig:\n{srv.config_yaml}")
        print(srv.logs())
    return srv.problem


def module_server(tmp_path_factory, request, config_yaml: str, name: str = "module") -> Iterator[ConfabServer]:
    """Generator body for a module-scoped server fixture with `config_yaml`
    (`yield from module_server(...)`); logs are printed when a test of the module failed."""
    workdir = tmp_path_factory.mktemp(name)
    srv = ConfabServer(workdir, config_yaml).start()
    yield srv
    problem = finish_server(srv, module_failed(request))
    if problem:
        pytest.fail(problem)
