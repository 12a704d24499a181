"""SIGTERM ends a run the way Ctrl-C does, and no signal cuts the reports short.

CI runners and ``timeout`` stop a job with SIGTERM, whose default action
ends the process on the spot: no report, half a cassette. While the suite
runs, SIGTERM raises KeyboardInterrupt in the main thread instead, which
pytest handles as Ctrl-C: the session finishes, and the reports are written
and marked incomplete. While they are written, SIGINT and SIGTERM are
ignored, so a second signal (an impatient Ctrl-C) cannot leave half a file.

While a test's reports go round the plugins (the terminal counts it, JUnit
keeps it, the run merges its record and streams it to the cassette), a
signal is deferred, not ignored: it stops the run right after, so every
report holds that test or none does, and the signal is never lost (ignored
there, a Ctrl-C that came while a test's entries were written let the run go
on to the end). In a serial run that span reaches from the test's outcome
(its call report) to its teardown report, which carries its record: a stop
in between showed the test as passed on the terminal and left it out of
summary.json and the cassette. A signal then waits for the test's teardown
(its fixtures' finalizers, bounded by the request timeout).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import pytest

HELD_OFF = (signal.SIGINT, signal.SIGTERM)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"stopped by signal {signal.Signals(signum).name}")


class SignalGuard:
    """Installs the SIGTERM handler for a run and restores what was there before."""

    def __init__(self) -> None:
        self._previous: dict[int, Any] = {}
        self._depth = 0
        self._before_deferral: dict[int, Any] = {}
        self._noted: list[int] = []

    def install(self) -> None:
        """SIGTERM → KeyboardInterrupt (signals can only be handled in the main thread; elsewhere, nothing changes)."""
        if threading.current_thread() is threading.main_thread() and not self._previous:
            self._previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, _interrupt)

    def restore(self) -> None:
        self.resume(deliver=False)  # a test whose teardown report never came (the run ended otherwise)
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def defer(self) -> None:
        """Until the matching :meth:`resume`, SIGINT and SIGTERM are noted, not acted on (main thread; calls nest)."""
        if threading.current_thread() is not threading.main_thread():
            return
        self._depth += 1
        if self._depth == 1:
            self._noted.clear()
            self._before_deferral = {signum: signal.signal(signum, self._note) for signum in HELD_OFF}

    def resume(self, *, deliver: bool = True) -> None:
        """The end of a :meth:`defer`: at the outermost, the handlers before, and a signal noted meanwhile acts now."""
        if threading.current_thread() is not threading.main_thread() or not self._depth:
            return
        self._depth = self._depth - 1 if deliver else 0
        if self._depth:
            return
        for signum, handler in self._before_deferral.items():
            signal.signal(signum, handler)
        self._before_deferral.clear()
        noted, self._noted = self._noted, []
        if noted and deliver:
            signal.raise_signal(noted[0])  # to the handler before: KeyboardInterrupt, or nothing when held off

    def _note(self, signum: int, frame: FrameType | None) -> None:
        self._noted.append(signum)

    @contextmanager
    def held_off(self) -> Iterator[None]:
        """SIGINT and SIGTERM ignored meanwhile (the run is ending anyway); then what was there before."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        before = {signum: signal.signal(signum, signal.SIG_IGN) for signum in HELD_OFF}
        try:
            yield
        finally:
            for signum, handler in before.items():
                signal.signal(signum, handler)


SIGNALS = SignalGuard()
"""The run's one guard: the plugin's session installs and restores it; the reports are written while it holds off."""


class WholeReports:
    """A pytest plugin: a signal waits while a test's reports go round the plugins (see the module).

    ``whole_tests``: from a test's outcome (its call report, or a setup that failed or skipped) to its
    teardown report, which carries the test's record; set in a serial run only (under xdist the
    controller meets several tests' reports at once, and a crashed worker's test has no teardown).
    """

    def __init__(self, guard: SignalGuard, *, whole_tests: bool) -> None:
        self.guard = guard
        self.whole_tests = whole_tests

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> Iterator[None]:
        self.guard.defer()
        if self.whole_tests and (report.when == "call" or (report.when == "setup" and not report.passed)):
            self.guard.defer()  # resumed by the test's teardown report
        try:
            return (yield)
        finally:
            if self.whole_tests and report.when == "teardown":
                self.guard.resume()
            self.guard.resume()
