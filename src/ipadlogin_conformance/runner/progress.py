"""What a run shows while it runs: one line per test (console tool) and the progress of long tests.

:class:`Progress` is the console tool's display: pytest's dots say little and
its verbose lines are long paths, so as each test ends it prints
``[12/64] FAIL  test_cases.py::test_case[auth-empty]  ENV-3 broken  0.02 s``
(the requirements a failing test broke, else those it checks); on a terminal, a
serial run also shows the test that is running. It works on the controller of
an xdist run too (the reports arrive there). Its short summary names the tests
by their short ids (pytest's would be paths into site-packages).

:class:`WorkProgress` tells how a long test is getting on (the property tests,
which hold most of a rate-capped live run's time): cases sent of those planned,
successes against the budget and the time left, every
:data:`TERMINAL_INTERVAL_S` on a terminal (in place, through pytest's terminal
reporter) and as a plain line every :data:`LOG_INTERVAL_S` in a CI log. It
writes the way pytest's live logging does: with output capture suspended.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from typing import Any

import pytest

WORDS = {
    "passed": ("pass", {"green": True}),
    "failed": ("FAIL", {"red": True, "bold": True}),
    "skipped": ("skip", {"yellow": True}),
}
BROKEN = "broken"
WARNED = "warned"
"""Keys of the user properties that name the requirements a test broke or warned about (JUnit shows them too)."""
TERMINAL_INTERVAL_S = 2.0
LOG_INTERVAL_S = 10.0


def short_test_id(nodeid: str) -> str:
    """suite/test_cases.py::test_case[x] → test_cases.py::test_case[x]."""
    path, _, rest = nodeid.partition("::")
    return f"{path.rsplit('/', 1)[-1]}::{rest}" if rest else path


def requirements_said(report: pytest.TestReport) -> str:
    """What a test's line names: the requirements it broke and warned about, else those it checks."""
    properties = dict(report.user_properties)
    said = [f"{properties[key]} {key}" for key in (BROKEN, WARNED) if properties.get(key)]
    return " · ".join(said) or properties.get("requirements", "")


class Progress:
    """The console tool's per-test lines and short summary (the tool registers it unless -v is given)."""

    def __init__(self) -> None:
        self.done = 0
        self.config: pytest.Config | None = None
        self.session: pytest.Session | None = None
        self.pending = False
        """A "running" line is on screen, to be overwritten."""
        self.failed: list[tuple[str, pytest.TestReport]] = []

    def pytest_configure(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    @pytest.hookimpl(wrapper=True)
    def pytest_report_teststatus(self, report: pytest.TestReport, config: pytest.Config) -> Iterator[None]:
        category, _letter, word = yield
        return category, "", word  # no dot from pytest: the line below says it

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        terminal = self._terminal
        if terminal is not None and terminal.isatty() and not self._parallel:
            terminal.write(self._running_line(nodeid), flush=True)
            self.pending = True

    def status(self, nodeid: str, text: str) -> bool:
        """Show ``text`` on the running test's line; False when there is no such line (not a terminal, xdist)."""
        terminal = self._terminal
        if not self.pending or terminal is None:
            return False
        terminal.rewrite(f"{self._running_line(nodeid)}  {text}", erase=True, flush=True)
        return True

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not (report.when == "call" or report.failed or (report.when == "setup" and report.skipped)):
            return
        terminal = self._terminal
        if terminal is None:
            return
        if report.when != "teardown":
            self.done += 1
        error = report.when != "call" and report.failed
        word, markup = (
            ("ERROR", {"red": True, "bold": True}) if error else WORDS.get(report.outcome, (report.outcome, {}))
        )
        if report.failed:
            self.failed.append(("ERROR" if error else "FAILED", report))
        line = f"  {short_test_id(report.nodeid)}  {requirements_said(report)}  {report.duration:.2f} s"
        if report.skipped and isinstance(report.longrepr, tuple):
            line += f"  ({report.longrepr[2].removeprefix('Skipped: ')})"
        if self.pending:  # blank the "running" line, then back to its start
            terminal.rewrite("", erase=True)
            terminal.rewrite("")
            self.pending = False
        terminal.write(f"{self._counter(self.done)} ")
        terminal.write(f"{word:<4}", **markup)
        terminal.write(line + "\n", flush=True)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """pytest's short summary, with short test ids (the tool turns pytest's own off: it shows site-packages paths)."""
        if not self.failed:
            return
        width = terminalreporter.config.get_terminal_writer().fullwidth
        terminalreporter.section("short test summary info", cyan=True, bold=True)
        for word, report in self.failed:
            line = f"{word} {short_test_id(report.nodeid)}"
            said = _first_line(report)
            if said:
                line += f" - {said}"
            terminalreporter.write_line(line if len(line) < width else line[: width - 2] + "…")

    @property
    def _terminal(self) -> Any:
        return None if self.config is None else self.config.pluginmanager.get_plugin("terminalreporter")

    @property
    def _parallel(self) -> bool:
        return self.config is not None and self.config.pluginmanager.has_plugin("dsession")

    def _counter(self, n: int) -> str:
        total = self.session.testscollected if self.session is not None else 0
        return f"[{n:>{len(str(total))}}/{total}]"

    def _running_line(self, nodeid: str) -> str:
        return f"{self._counter(self.done + 1)} ....  {short_test_id(nodeid)}"


def _first_line(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    return "" if crash is None else crash.message.partition("\n")[0].removeprefix("Failed: ")


class WorkProgress:
    """How one test is getting on; shown only once it has run for an interval, so short tests stay quiet."""

    def __init__(
        self, display: StatusDisplay | None, budget: Any = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._display = display
        self._interval = TERMINAL_INTERVAL_S if display is not None and display.interactive else LOG_INTERVAL_S
        self._budget = budget
        self._clock = clock
        self.started = self._last = clock()
        self.sent: Counter[str] = Counter()
        """Requests sent by the test, by phase ("" when it has none)."""
        self.planned: tuple[str, int] | None = None

    @classmethod
    def for_test(cls, config: pytest.Config, nodeid: str, budget: Any = None) -> WorkProgress:
        """Progress shown through pytest's terminal reporter (nowhere in an xdist worker: it has no terminal)."""
        terminal = config.pluginmanager.get_plugin("terminalreporter")
        if terminal is None or hasattr(config, "workerinput"):
            return cls(None, budget)
        return cls(StatusDisplay(config, terminal, nodeid), budget)

    def plan(self, cases: int, phase: str) -> None:
        """The test will send about ``cases`` requests in ``phase`` (a property test's fuzzing)."""
        self.planned = (phase, cases)

    def tick(self, phase: str = "") -> None:
        """One request sent; show the state when the interval has passed."""
        self.sent[phase] += 1
        now = self._clock()
        if self._display is not None and now - self._last >= self._interval:
            self._last = now
            self._display.show(self.text(now))

    def finish(self) -> None:
        """The test is done: what pytest writes next starts on a line of its own."""
        if self._display is not None:
            self._display.finish()

    def text(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        total = sum(self.sent.values())
        parts = [f"{total} cases sent in {elapsed:.0f} s"]
        left = None
        if self.planned is not None:
            phase, cases = self.planned
            done = self.sent[phase]
            parts[0] += f" ({phase} {done} of {cases})"
            left = (max(cases - done, 0) / (total / elapsed), done > 0)
        if self._budget is not None:
            cap = self._budget.max_successes
            successes = self._budget.usage.successes
            parts.append(f"{successes} successes (no cap)" if cap is None else f"{successes} of {cap} successes")
        if left is not None:
            seconds, measured = left
            parts.append(f"{'about' if measured else 'at least'} {seconds:.0f} s left")
        return " · ".join(parts)


class StatusDisplay:
    """Where a long test's state goes: the console tool's running line, else a line of its own.

    On a terminal the line is rewritten in place; in a log each state is a new
    line. Output capture is suspended while writing, as pytest's live logging does.
    """

    def __init__(self, config: pytest.Config, terminal: Any, nodeid: str) -> None:
        self.interactive = bool(terminal.isatty())
        self._terminal = terminal
        self._writer = config.get_terminal_writer()
        self._capture = config.pluginmanager.get_plugin("capturemanager")
        self._console = next(
            (plugin for plugin in config.pluginmanager.get_plugins() if isinstance(plugin, Progress)), None
        )
        self._nodeid = nodeid
        self._drawn = False
        """A line of ours is on screen, not ended yet."""

    def show(self, text: str) -> None:
        with self._suspended():
            if self._console is not None and self._console.status(self._nodeid, text):
                return
            line = f"  … {short_test_id(self._nodeid)}  {text}"
            if not self._drawn and self._writer.width_of_current_line:
                self._terminal.write("\n")  # pytest's dots end where ours begin
            if self.interactive:
                self._terminal.rewrite(line, erase=True, flush=True)
                self._drawn = True
            else:
                self._terminal.write(line + "\n", flush=True)

    def finish(self) -> None:
        if self._drawn:
            with self._suspended():
                self._terminal.write("\n", flush=True)
            self._drawn = False

    def _suspended(self) -> Any:
        return self._capture.global_and_fixture_disabled() if self._capture is not None else nullcontext()
