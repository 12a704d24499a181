"""The console tool's progress display: one compact line per test.

A run against a slow staging server takes minutes; pytest's dots say little
and its verbose lines are long paths. This prints, as each test ends,
``[12/64] pass  test_cases.py::test_case[auth-missing]  AUTH-1  0.02 s``;
on a terminal, a serial run also shows the test that is running. It works on
the controller of an xdist run too (the reports arrive there). pytest's own
letters are hidden; its summary, the failures' evidence and the requirement
table stay.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

WORDS = {"passed": ("pass", {"green": True}), "failed": ("FAIL", {"red": True, "bold": True}), "skipped": ("skip", {"yellow": True})}


class Progress:
    def __init__(self) -> None:
        self.done = 0
        self.config: pytest.Config | None = None
        self.session: pytest.Session | None = None
        self.pending = False
        """A "running" line is on screen, to be overwritten."""

    def pytest_configure(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    @pytest.hookimpl(wrapper=True)
    def pytest_report_teststatus(self, report: pytest.TestReport, config: pytest.Config) -> Iterator[None]:
        category, _letter, _word = yield
        return category, "", ""  # no dot from pytest: the line below says it

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        terminal = self._terminal
        if terminal is not None and terminal.isatty() and not self._parallel:
            terminal.write(f"{self._counter(self.done + 1)} ....  {_short(nodeid)}", flush=True)
            self.pending = True

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not (report.when == "call" or report.failed or (report.when == "setup" and report.skipped)):
            return
        terminal = self._terminal
        if terminal is None:
            return
        if report.when != "teardown":
            self.done += 1
        word, markup = ("ERROR", {"red": True, "bold": True}) if report.when != "call" and report.failed else WORDS.get(report.outcome, (report.outcome, {}))
        requirements = dict(report.user_properties).get("requirements", "")
        line = f"  {_short(report.nodeid)}  {requirements}  {report.duration:.2f} s"
        if report.skipped and isinstance(report.longrepr, tuple):
            line += f"  ({report.longrepr[2].removeprefix('Skipped: ')})"
        if self.pending:  # blank the "running" line, then back to its start
            terminal.rewrite("", erase=True)
            terminal.rewrite("")
            self.pending = False
        terminal.write(f"{self._counter(self.done)} ")
        terminal.write(f"{word:<4}", **markup)
        terminal.write(line + "\n", flush=True)

    @property
    def _terminal(self) -> Any:
        return None if self.config is None else self.config.pluginmanager.get_plugin("terminalreporter")

    @property
    def _parallel(self) -> bool:
        return self.config is not None and self.config.pluginmanager.has_plugin("dsession")

    def _counter(self, n: int) -> str:
        total = self.session.testscollected if self.session is not None else 0
        return f"[{n:>{len(str(total))}}/{total}]"


def _short(nodeid: str) -> str:
    """suite/test_cases.py::test_case[x] → test_cases.py::test_case[x]."""
    path, _, rest = nodeid.partition("::")
    return f"{path.rsplit('/', 1)[-1]}::{rest}" if rest else path
