"""How the run went, as the controller saw it: the run's own reasons to be incomplete.

A report states a verdict a vendor may publish only when every collected test
ran to its end (and every requirement got a check: see :mod:`..overall`).
Ctrl-C, ``-x``/``--maxfail``, a collection or internal error, or a test that
crashed (failed for a reason no finding explains) leave the verdicts
partial, and every report says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pytest

from ..contract.spec import LOGIN_PATH
from ..results.records import TestRecord, is_blocking

EXIT_MEANINGS: dict[int, str] = {
    int(pytest.ExitCode.OK): "no requirement fails the run (the verdict says whether every requirement was checked)",
    int(pytest.ExitCode.TESTS_FAILED): "failed: a MUST requirement failed (or a SHOULD, with --warnings-as-errors), "
    "a test crashed, or the run was incomplete under --require-complete",
    int(pytest.ExitCode.INTERRUPTED): "interrupted: Ctrl-C, a collection error or a stop before the end",
    int(pytest.ExitCode.INTERNAL_ERROR): "internal error of the suite or of pytest",
    int(pytest.ExitCode.USAGE_ERROR): "usage error: wrong options",
    int(pytest.ExitCode.NO_TESTS_COLLECTED): "no tests collected",
}


def exit_meaning(code: int) -> str:
    return EXIT_MEANINGS.get(code, "exit status set by another plugin")


def now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class RunInfo:
    """What a report says about the run besides the verdicts."""

    started: datetime
    finished: datetime
    exit_status: int
    tests_collected: int
    tests_run: int
    crashed: tuple[str, ...] = ()
    incomplete_reasons: tuple[str, ...] = ()
    """Why the run itself is partial; the overall verdict adds the requirements left unchecked."""
    target_urls: tuple[str, ...] = ()
    """Base URLs the login requests went to (the embedded server's port, one per xdist worker)."""
    seeds: tuple[int, ...] = ()
    """Hypothesis seeds the property tests used (one per worker when none was given)."""


@dataclass
class RunProgress:
    """Fed every test report on the controller; tells at the end whether the run is complete."""

    warnings_as_errors: bool
    started: datetime = field(default_factory=now)
    tests_run: int = 0
    crashed: list[str] = field(default_factory=list)
    _failed_calls: set[str] = field(default_factory=set)
    _urls: dict[str, None] = field(default_factory=dict)
    _seeds: dict[int, None] = field(default_factory=dict)

    def observe(self, report: Any, record: TestRecord | None) -> None:
        """One pytest TestReport (setup, call or teardown) and, on teardown, the test's record."""
        if record is not None:
            self._note(record)
        if report.failed and report.when == "call":
            self._failed_calls.add(report.nodeid)
        elif report.failed:
            self._crash(report.nodeid)
        if report.when != "teardown":
            return
        self.tests_run += 1
        if report.nodeid in self._failed_calls:
            self._failed_calls.discard(report.nodeid)
            explained = record is not None and any(is_blocking(f, self.warnings_as_errors) for f in record.findings)
            if not explained:
                self._crash(report.nodeid)

    def _crash(self, nodeid: str) -> None:
        if nodeid not in self.crashed:
            self.crashed.append(nodeid)

    def _note(self, record: TestRecord) -> None:
        if record.seed is not None:
            self._seeds[record.seed] = None
        for exchange in record.exchanges:
            url = exchange.request.url
            if url.endswith(LOGIN_PATH):
                self._urls[url[: -len(LOGIN_PATH)]] = None

    def finish(self, session: pytest.Session) -> RunInfo:
        """The run's facts at pytest_sessionfinish (after the exit status is final)."""
        status = int(session.exitstatus)
        collected = int(getattr(session, "testscollected", 0) or 0)
        reasons: list[str] = []
        if status == pytest.ExitCode.INTERRUPTED:
            reasons.append("the run was interrupted")
        elif status == pytest.ExitCode.INTERNAL_ERROR:
            reasons.append("an internal error stopped the run")
        if session.shouldfail:
            reasons.append(f"stopped early ({session.shouldfail})")
        if self.tests_run == 0:
            reasons.append("no test ran")
        elif self.tests_run < collected:
            reasons.append(f"only {self.tests_run} of {collected} tests ran")
        if self.crashed:
            reasons.append(
                f"{len(self.crashed)} test(s) crashed (failed for a reason no finding explains): {', '.join(self.crashed[:5])}"
            )
        return self._info(status, collected, reasons)

    def _info(self, status: int, collected: int, reasons: list[str]) -> RunInfo:
        return RunInfo(
            started=self.started,
            finished=now(),
            exit_status=status,
            tests_collected=collected,
            tests_run=self.tests_run,
            crashed=tuple(self.crashed),
            incomplete_reasons=tuple(reasons),
            target_urls=tuple(self._urls),
            seeds=tuple(self._seeds),
        )


def run_of_records(records: Iterable[TestRecord], blocking: bool) -> RunInfo:
    """A run known only from its records (a replayed cassette): each record is a test that ran to its end."""
    progress = RunProgress(warnings_as_errors=False)
    for record in records:
        progress._note(record)
        progress.tests_run += 1
    status = int(pytest.ExitCode.TESTS_FAILED if blocking else pytest.ExitCode.OK)
    reasons = [] if progress.tests_run else ["no test ran"]
    return progress._info(status, progress.tests_run, reasons)
