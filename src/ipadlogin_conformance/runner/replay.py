"""Replay: judge a recorded run again, offline, against today's spec and catalog.

Each cassette entry is judged from its label by the very functions a live
run uses (:func:`.judgement.judge_into`), the tests' records are merged into
:class:`~.results.RunResults` in the recorded order and the run is closed the
same way, so an unchanged suite gives the recorded verdicts and a changed
spec or catalog shows exactly which verdicts it moves.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

import pytest

from ..core.settings import OPTIONS, Settings, SettingsError
from ..reports import write_reports
from ..reports.cassette import Cassette
from ..reports.run import RunInfo, run_of_records
from ..results.judgement import judge_into
from ..results.overall import run_verdict
from ..results.records import RunResults, TestRecord

REPLAY_OPTIONS = ("profile", "latency-budget", "warnings-as-errors", "require-complete", "reports-dir")
"""Settings a replay may change; the rest describe what was sent and stay as recorded."""


@dataclass
class Replay:
    settings: Settings
    results: RunResults
    records: list[TestRecord]
    recorded_verdicts: dict[str, str]

    def changed(self) -> dict[str, tuple[str, str]]:
        """Requirement ID → (recorded verdict, replayed verdict), where they differ."""
        now = {rid: result.outcome.value for rid, result in self.results.requirements.items()}
        return {
            rid: (self.recorded_verdicts.get(rid, "absent"), verdict)
            for rid, verdict in now.items()
            if self.recorded_verdicts.get(rid) != verdict
        }


def settings_of(run: Mapping[str, Any], given: Mapping[str, Any], reports_dir: Path = Path("replay")) -> Settings:
    """The recorded settings, with the :data:`REPLAY_OPTIONS` given on the command line (keyed by Option.dest).

    The reports go to ``reports_dir`` unless --reports-dir says otherwise: never, by default,
    over the reports of the run that recorded the cassette.
    """
    options = {option.name: option for option in OPTIONS}
    settings = Settings.from_recorded(run, reports_dir)
    recorded = {
        "profile": settings.profile,
        "latency-budget": settings.latency_budget_ms,
        "warnings-as-errors": settings.warnings_as_errors,
        "require-complete": settings.require_complete,
        "reports-dir": str(reports_dir),
    }
    values: dict[str, Any] = {}
    for name in REPLAY_OPTIONS:
        option = options[name]
        raw = given.get(option.dest)
        if raw is None or raw is False:
            raw = recorded[name]
        try:
            values[name] = option.parse(raw) if isinstance(raw, str) else raw
        except ValueError as error:
            raise SettingsError(f"--{name}={raw!r}: {error}") from None
    return replace(
        settings,
        profile=values["profile"],
        latency_budget_ms=values["latency-budget"],
        warnings_as_errors=values["warnings-as-errors"],
        require_complete=values["require-complete"],
        reports_dir=Path(values["reports-dir"]),
    )


def replay(cassette: Cassette, settings: Settings) -> Replay:
    """Judge every entry again and add the tests up as the live run did."""
    entries: dict[str, list[Any]] = {}
    for entry in cassette.entries:
        entries.setdefault(entry.test_id, []).append(entry)
    results = RunResults()
    records = []
    for test in cassette.tests:
        record = TestRecord(
            test_id=test.test_id, seed=test.seed, requests=test.requests, successes=test.successes, refused=test.refused
        )
        for entry in entries.pop(test.test_id, []):
            judge_into(record, entry.exchange, settings.policy, entry.recorded_findings)
        record.add(test.findings)
        results.merge(record)
        records.append(record)
    if entries:
        raise ValueError(f"cassette entries of tests it does not list: {', '.join(entries)}")
    results.close(settings.policy)
    return Replay(settings, results, records, dict(cassette.verdicts))


class PlainReporter:
    """What :func:`.terminal.write_table` needs of pytest's terminal reporter, on a plain stream."""

    COLORS = {"red": "31", "green": "32", "yellow": "33", "bold": "1"}

    def __init__(self, stream: TextIO = sys.stdout, width: int = 80) -> None:
        self.stream = stream
        self.width = width
        self.color = stream.isatty() and "NO_COLOR" not in os.environ

    def section(self, title: str) -> None:
        self.write_line(f" {title} ".center(self.width, "="))

    def write(self, text: str, **markup: bool) -> None:
        codes = [self.COLORS[name] for name, on in markup.items() if on and name in self.COLORS]
        if self.color and codes:
            text = f"\x1b[{';'.join(codes)}m{text}\x1b[0m"
        self.stream.write(text)

    def write_line(self, text: str, **markup: bool) -> None:
        self.write(text, **markup)
        self.stream.write("\n")


def run_info(replayed: Replay, recorded: RunInfo | None) -> RunInfo:
    """How the recorded run went, with the exit status the replayed verdicts give.

    An interrupted run keeps its status (its reports say incomplete); one
    that ran to its end exits 1 exactly when a replayed verdict fails the run,
    a test crashed, or (with --require-complete) the run is incomplete.
    """
    results, settings = replayed.results, replayed.settings
    failed = bool(results.blocking(settings.warnings_as_errors))
    run = run_of_records(replayed.records, failed) if recorded is None else recorded
    if run.exit_status not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        return run
    incomplete = not run_verdict(results, settings.warnings_as_errors, run.incomplete_reasons).complete
    failed = failed or bool(run.crashed) or (settings.require_complete and incomplete)
    return replace(run, exit_status=int(pytest.ExitCode.TESTS_FAILED if failed else pytest.ExitCode.OK))


def write_run_reports(replayed: Replay, run: RunInfo, cassette: Path | None = None) -> list[Path]:
    """summary.json, report.html and summary.md, as the live run wrote them (junit.xml is pytest's own).

    ``cassette``: the replayed file, which the reports' resend one-liners name.
    """
    return write_reports(replayed.results, replayed.settings, replayed.records, run=run, cassette=cassette)
