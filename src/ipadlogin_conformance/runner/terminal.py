"""What a conformance run shows and leaves at its end, on the controller: the header, the plan, the table, the reports.

The header (the target and where it came from) comes before any test runs;
the plan before the first request. :class:`RunReporter`, registered on the
controller only, merges the tests' records as their reports arrive (streaming
their exchanges to the cassette), closes the run (its verdict, exit status and
reports) and ends the output with the findings and :func:`write_table`, which
``ipadlogin-conformance replay`` prints too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ..contract.catalog import load_catalog
from ..core.redaction import Redactor
from ..core.settings import Settings
from ..reports import ReportsLock, RunProgress, write_reports
from ..reports.cassette import CASSETTE_NAME, CassetteWriter
from ..results.overall import RunVerdict, run_verdict
from ..results.records import RunResults, TestRecord
from .findings import write_findings
from .keys import HEADER, REPORT_ATTRIBUTE, RESULTS, SETTINGS
from .parallel import workers
from .plan import plan_line, planned_requests
from .recorder import reproduction


def pytest_report_header(config: pytest.Config) -> list[str]:
    """The target and where it came from, before any test runs (the table repeats it at the end)."""
    return config.stash.get(HEADER, [])


def header_line(settings: Settings) -> str:
    """The header's first line: the target, the profile, the proxy."""
    return f"ipadlogin-conformance: {target_line(settings)} · profile {settings.profile.value} · {proxy_line(settings)}"


def proxy_line(settings: Settings) -> str:
    """Through which proxy the requests go (never its credentials)."""
    if settings.proxy:
        return f"via proxy {settings.proxy}"
    ignored = "" if settings.use_proxy_env or settings.embedded else " (--no-proxy: proxy variables ignored)"
    return f"no proxy{ignored}"


def target_line(settings: Settings) -> str:
    """The target and where it came from, in one line (the terminal's header and table)."""
    if settings.embedded:
        return f"target {settings.target_source}"
    return f"target {settings.base_url} (from {settings.target_source})"


class RunReporter:
    """On the controller: merges the tests' records, closes the run, prints the table."""

    def __init__(self, config: pytest.Config, lock: ReportsLock | None = None) -> None:
        self.settings = config.stash[SETTINGS]
        self.results = config.stash[RESULTS]
        self.lock = lock
        """Held while this run writes the reports (see session._prepare_reports); None: it writes none."""
        self.reports = lock is not None
        self.progress = RunProgress(self.settings.warnings_as_errors)
        self.written: list[Path] = []
        self.verdict: RunVerdict | None = None
        """The run's overall verdict, once the session finished (None: not a conformance run)."""
        self.where = reproduction(self.settings)
        in_flight = self.settings.concurrency * workers(config)  # inline below 2 (prefetch): at most this many
        self.cassette = (
            CassetteWriter(self.settings.reports_dir / CASSETTE_NAME, self.settings, in_flight)
            if self.reports
            else None
        )
        """Every judged exchange, streamed to reports/exchanges.har (``ipadlogin-conformance replay`` reads it)."""
        self.header = config.stash[HEADER]
        self.planned = False

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """pytest shows the report header (the target) only at normal verbosity; the console tool runs -q."""
        terminal = session.config.pluginmanager.get_plugin("terminalreporter")
        if terminal is not None and terminal.verbosity < 0:
            for line in self.header:
                terminal.write_line(line)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if session.items:
            self._show_plan(session.config, [item.nodeid for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self._show_plan(node.config, ids)

    def _show_plan(self, config: pytest.Config, nodeids: list[str]) -> None:
        """Before the first request: about how many there will be, and how long the rate cap makes them (once)."""
        terminal = config.pluginmanager.get_plugin("terminalreporter")
        if self.planned or terminal is None or config.option.collectonly:
            return
        self.planned = True
        terminal.write_line(plan_line(planned_requests(nodeids, self.settings), self.settings))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, REPORT_ATTRIBUTE, None)
        record = None
        if data is not None:
            record = TestRecord.from_dict(data)
            self.results.merge(record)
            if self.cassette is not None:
                self.cassette.add(record)  # signals wait meanwhile (WholeReports): its entries whole
            delattr(report, REPORT_ATTRIBUTE)  # pytest keeps every report to the end; the exchanges are on disk now
        self.progress.observe(report, record)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not (self.reports or self.results.tests):  # the project's own tests: no conformance run
            return
        if self.results.tests:
            self.results.close(self.settings.policy)
        if self.results.blocking(self.settings.warnings_as_errors) and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        run = self.progress.finish(session)  # also after Ctrl-C or a crash: incomplete
        self.verdict = run_verdict(self.results, self.settings.warnings_as_errors, run.incomplete_reasons)
        if self.settings.require_complete and not self.verdict.complete and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            run = replace(run, exit_status=int(session.exitstatus))
        if self.reports:
            self.written = write_reports(self.results, self.settings, run=run, cassette=self.where.cassette)
            if self.cassette is not None and self.cassette.close(self.results, run) is not None:
                self.written.append(self.cassette.path)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.lock is not None:
            self.lock.release()

    @pytest.hookimpl(
        wrapper=True, tryfirst=True
    )  # outermost: after pytest's short summary, so the table ends the output
    def pytest_terminal_summary(self, terminalreporter: Any) -> Iterator[None]:
        result = yield
        if self.verdict is not None:
            write_findings(terminalreporter, self.results, self.where, Redactor(self.settings.token))
            write_table(terminalreporter, self.results, self.settings, self.verdict)
        if self.written:
            terminalreporter.write_line(f"reports: {', '.join(str(path) for path in self.written)}")
        return result


def write_table(terminalreporter: Any, results: RunResults, settings: Settings, overall: RunVerdict) -> None:
    """The per-requirement table; ``terminalreporter`` needs section(), write() and write_line() (replay passes its own)."""
    write = terminalreporter.write_line
    terminalreporter.section("iPadLogin conformance")
    write(
        f"{target_line(settings)} · profile {settings.profile.value}"
        + (f" · proxy {settings.proxy}" if settings.proxy else "")
    )
    write(f"{'requirement':<12}{'level':<8}{'verdict':<14}{'checks':>8}  statement")
    for requirement in load_catalog():
        result = results.requirements[requirement.id]
        verdict = result.outcome.value
        markup = {"fail": {"red": True, "bold": True}, "warn": {"yellow": True}, "pass": {"green": True}}.get(
            verdict, {}
        )
        terminalreporter.write(f"{requirement.id:<12}{requirement.level.value:<8}")
        terminalreporter.write(f"{verdict:<14}", **markup)
        write(f"{result.checks:>8}  {requirement.statement[:70]}")
    budget = "no cap" if settings.success_budget is None else f"budget {settings.success_budget}"
    write(
        f"requests {results.requests} · successes {results.successes} ({budget}) · not sent (budget spent) {results.refused}"
    )
    for line in overall.lines():
        write(line)
