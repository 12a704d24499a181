"""The pytest plugin: options, the target, verdict collection, the requirement table.

Tests send through the ``target`` fixture and hand each exchange to the
``judge`` fixture; they never assert themselves. The judge records findings
on the test's :class:`~.results.TestRecord`; after the test, a MUST failure
(or, with --warnings-as-errors, a SHOULD one) fails it with the evidence.
Records travel on the test reports, so the controller of an xdist run sees
every finding and the verdicts do not depend on how the run was split.

Installed as a ``pytest11`` entry point, it declares its options in every
pytest run but does nothing else unless the run collects the suite's tests
(:mod:`.invocation` reads the command line).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ..checks import Expect
from ..client.budget import Budget, BudgetExhausted
from ..client.target import Target, TargetConfig, Unreachable, require_reachable
from ..contract.catalog import load_catalog
from ..contract.spec import seed_example_wcid
from ..core.exchange import Exchange
from ..core.redaction import Redactor
from ..core.reproduce import Reproduction
from ..core.settings import BASE_URL_ENVS, BASE_URL_OPTION, OPTIONS, Settings, SettingsError, activate, resolve
from ..core.verdict import Finding
from ..reports import (
    JUNIT_XML,
    ReportsDirError,
    ReportsLock,
    RunProgress,
    lock_reports_dir,
    prepare_reports_dir,
    write_reports,
)
from ..reports.cassette import CASSETTE_NAME, CassetteWriter
from ..reports.evidence import describe, shown
from ..results.judgement import judge_into, label_login, label_other_method, label_qr
from ..results.overall import RunVerdict, run_verdict
from ..results.records import RunResults, TestRecord, is_blocking
from .findings import write_findings
from .interrupts import SignalGuard, WholeReports
from .invocation import ini_base_url, run_again_if_mistaken, suite_selected, typed_base_url
from .parallel import SharedBudgetDir, budget_state_file, workers
from .plan import plan_line, planned_requests
from .prefetch import MARKER_LINE, ipadlogin_ahead, send_later, sent_ahead, settle  # noqa: F401 - fixtures
from .progress import BROKEN, WARNED, WorkProgress

SUITE_DIR = Path(__file__).resolve().parents[1] / "suite"
SETTINGS = pytest.StashKey[Settings]()
RESULTS = pytest.StashKey[RunResults]()
RECORD = pytest.StashKey[TestRecord]()
PROGRESS = pytest.StashKey[WorkProgress]()
REPORT_ATTRIBUTE = "ipadlogin_record"
RUN_SEED = "ipadlogin_run_seed"
"""The xdist workerinput key carrying the run's Hypothesis seed."""
HEADER = pytest.StashKey[list[str]]()
SIGNALS = SignalGuard()
"""SIGTERM ends a run as Ctrl-C does; no signal cuts the reports short (see :mod:`.interrupts`)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(
        "ipadlogin",
        f"iPadLogin conformance (the target: {BASE_URL_OPTION} URL, or {', '.join(BASE_URL_ENVS)} or the ini key base_url; "
        "each option also reads the environment variable named)",
    )
    for option in OPTIONS:
        kwargs: dict[str, Any] = {
            "dest": option.dest,
            "default": None,
            "help": f"{option.help} (environment: {option.env})",
        }
        if option.is_flag:
            kwargs["action"] = "store_true"
        else:
            kwargs["metavar"] = option.metavar
        group.addoption(f"--{option.name}", **kwargs)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """Where pytest took a suite option's value for a test path, the same command with ``--opt=value`` instead."""
    return run_again_if_mistaken(config)


@pytest.hookimpl(tryfirst=True)  # before pytest's junitxml reads --junitxml (see _prepare_reports)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(*ids): the catalog requirements the test checks")
    config.addinivalue_line("markers", MARKER_LINE)
    if not suite_selected(config, SUITE_DIR):
        return  # installed for every pytest run (an entry point): inert unless the suite's tests are collected
    try:
        settings = resolve(vars(config.option) | {"base_url": typed_base_url(config)}, ini=ini_base_url(config))
    except SettingsError as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[HEADER] = [
        f"ipadlogin-conformance: {target_line(settings)} · profile {settings.profile.value} · {proxy_line(settings)}"
    ]
    if getattr(config.option, "verify_base_url", False):
        config.option.verify_base_url = False  # its GET of the base URL is a request the suite promises not to send
        config.stash[HEADER].append(
            "ipadlogin-conformance: pytest-base-url's --verify-base-url (VERIFY_BASE_URL) is ignored: "
            "the suite sends only POST /iPadLogin and GET qrCodeUrl"
        )
    if settings.embedded and settings.known_wcid is None:
        settings = replace(settings, known_wcid=seed_example_wcid())
    if settings.embedded and settings.token is None:
        from ..server import DEFAULT_DEV_TOKEN  # the token the embedded server is started with, redacted like any other

        settings = replace(settings, token=DEFAULT_DEV_TOKEN)
    if settings.seed is None:
        # One seed for the whole run, reported with every failure; xdist workers get the controller's.
        seed = getattr(config, "workerinput", {}).get(RUN_SEED)
        settings = replace(settings, seed=seed if seed is not None else secrets.randbelow(2**32))
    config.stash[SETTINGS] = settings
    config.stash[RESULTS] = RunResults()
    activate(settings)
    SIGNALS.install()
    # A test's reports reach every plugin (terminal, run results, cassette, JUnit) or none: a signal waits for them.
    whole_tests = not hasattr(config, "workerinput") and workers(config) == 1
    config.pluginmanager.register(WholeReports(SIGNALS, whole_tests=whole_tests), "ipadlogin-whole-reports")
    if not hasattr(config, "workerinput"):
        lock = _prepare_reports(config, settings)
        config.pluginmanager.register(RunReporter(config, lock), "ipadlogin-run-reporter")
        if lock is not None and config.option.tbstyle == "auto" and config.option.verbose <= 0:
            # The findings block tells each broken requirement once; -v or --tb brings pytest's per-test sections back.
            config.option.tbstyle = "no"
            config.option.force_short_summary = True  # on CI too, one line per failed test
        if settings.rate_limit is not None or settings.success_budget is not None:
            config.pluginmanager.register(SharedBudgetDir(), "ipadlogin-shared-budget")
    if not settings.embedded and not hasattr(config, "workerinput"):
        try:
            require_reachable(TargetConfig.for_settings(settings, settings.base_url, settings.token))
        except Unreachable as error:
            raise pytest.UsageError(str(error)) from None


def pytest_unconfigure(config: pytest.Config) -> None:
    SIGNALS.restore()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> Iterator[None]:
    """Reports (the suite's, JUnit's, the terminal's) are written whole, even when a signal comes meanwhile."""
    with SIGNALS.held_off():
        return (yield)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: every worker generates from the controller's seed."""
    settings = node.config.stash.get(SETTINGS, None)
    if settings is not None:
        node.workerinput[RUN_SEED] = settings.seed


def pytest_report_header(config: pytest.Config) -> list[str]:
    """The target and where it came from, before any test runs (the table repeats it at the end)."""
    return config.stash.get(HEADER, [])


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


def reproduction(settings: Settings) -> Reproduction:
    """What the run's reproductions refer to: body files and the cassette in the reports dir (workers agree)."""
    return Reproduction.in_reports(settings.reports_dir, settings.reports_dir / CASSETTE_NAME)


def _prepare_reports(config: pytest.Config, settings: Settings) -> ReportsLock | None:
    """The reports dir's lock when this run writes reports: the dir must be writable, and free, now, not after the run.

    junit.xml goes there too unless --junitxml says otherwise. A run of only
    the project's self-tests never gets here (the plugin is inert, see invocation.suite_selected).
    """
    if config.option.collectonly:
        return None
    try:
        lock = lock_reports_dir(prepare_reports_dir(settings.reports_dir))
    except ReportsDirError as error:
        raise pytest.UsageError(str(error)) from None
    if config.option.xmlpath is None:
        config.option.xmlpath = str(settings.reports_dir / JUNIT_XML)
    return lock


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Given a base URL, collect only the conformance tests (not the project's self-tests)."""
    settings = config.stash.get(SETTINGS, None)
    if settings is None or settings.embedded:
        return None
    inside = collection_path == SUITE_DIR or SUITE_DIR in collection_path.parents
    return None if inside or collection_path in SUITE_DIR.parents else True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SETTINGS not in config.stash:
        return
    catalog = load_catalog()
    for item in items:
        ids = requirement_ids(item)
        unknown = [rid for rid in ids if rid not in catalog]
        if unknown:
            raise pytest.UsageError(f"{item.nodeid}: unknown requirement IDs {unknown}")
        if ids:
            item.user_properties.append(("requirements", " ".join(ids)))
            item.user_properties.append(("levels", " ".join(catalog[rid].level.value for rid in ids)))


def requirement_ids(item: pytest.Item) -> list[str]:
    return [rid for marker in item.iter_markers("requirement") for rid in marker.args]


@pytest.fixture(scope="session")
def ipadlogin_settings(pytestconfig: pytest.Config) -> Settings:
    return pytestconfig.stash[SETTINGS]


@pytest.fixture(scope="session")
def target(ipadlogin_settings: Settings, pytestconfig: pytest.Config) -> Iterator[Target]:
    """The server under test: the given base URL, or the embedded reference server (one per xdist worker)."""
    settings = ipadlogin_settings
    budget = Budget(settings.rate_limit, settings.success_budget, budget_state_file(pytestconfig))
    try:
        if not settings.embedded:
            with Target(TargetConfig.for_settings(settings, settings.base_url, settings.token), budget) as client:
                yield client
            return
        from ..server import start_reference_server

        with start_reference_server(token=settings.token) as server:  # the development token unless one was given
            with Target(TargetConfig.for_settings(settings, server.url, settings.token), budget) as client:
                yield client
    finally:
        budget.close()


class Judge:
    """Judges a test's exchanges and records the findings on the test's record."""

    def __init__(
        self, record: TestRecord, target: Target, settings: Settings, progress: WorkProgress | None = None
    ) -> None:
        self.record = record
        self.target = target
        self.settings = settings
        self.progress = progress or WorkProgress(None)
        """How a long test is getting on: it ticks once per request (the property tests do)."""

    def login(self, exchange: Exchange, expect: Expect, *requirement_ids: str) -> list[Finding]:
        """One POST /iPadLogin: the request class's requirements, envelope and time."""
        return judge_into(self.record, label_login(exchange, expect, requirement_ids), self.settings.policy)

    def other_method(self, exchange: Exchange, *, method_is_standard: bool = True) -> list[Finding]:
        """Another method on /iPadLogin (METH-1)."""
        return judge_into(
            self.record, label_other_method(exchange, method_is_standard=method_is_standard), self.settings.policy
        )

    def qr(self, exchange: Exchange, unreachable: bool) -> list[Finding]:
        """GET qrCodeUrl (DATA-3); ``unreachable``: the host could not be reached at all."""
        labeled = label_qr(exchange, unreachable=unreachable, base_url=self.target.config.base_url)
        return judge_into(self.record, labeled, self.settings.policy)

    def add(self, findings: list[Finding] | Finding) -> list[Finding]:
        """A finding the test states itself, not judged from an exchange (kept as is by a replay)."""
        findings = [findings] if isinstance(findings, Finding) else findings
        self.record.add(findings)
        return findings


@pytest.fixture
def judge(request: pytest.FixtureRequest, target: Target, ipadlogin_settings: Settings) -> Iterator[Judge]:
    stalled = target.stalled()
    if stalled:
        pytest.skip(f"not sent: {stalled}")
    record = request.node.stash.setdefault(RECORD, TestRecord(test_id=request.node.nodeid))
    before = (target.budget.usage.requests, target.budget.usage.successes, target.budget.usage.refused)
    progress = request.node.stash.setdefault(
        PROGRESS, WorkProgress.for_test(request.config, request.node.nodeid, target.budget)
    )
    yield Judge(record, target, ipadlogin_settings, progress)
    usage = target.budget.usage
    record.requests += usage.requests - before[0]
    record.successes += usage.successes - before[1]
    record.refused += usage.refused - before[2]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail the test when its findings break a MUST (or a SHOULD, with --warnings-as-errors)."""
    result = not_sent = None
    try:
        result = yield
        settle(item)  # a property test's answers still in flight
    except BudgetExhausted as error:  # also TargetStalled
        not_sent = f"not sent: {error}"
    if PROGRESS in item.stash:
        item.stash[PROGRESS].finish()
    record = item.stash.get(RECORD, None)
    if record is not None:
        settings = item.config.stash[SETTINGS]
        blocking = [f for f in record.findings if is_blocking(f, settings.warnings_as_errors)]
        broken = _first_per_requirement(blocking)
        warned = [
            rid for rid in _first_per_requirement([f for f in record.findings if f.is_problem]) if rid not in broken
        ]
        # On the test's reports (the progress line names them) and in JUnit.
        item.user_properties += [(key, " ".join(ids)) for key, ids in ((BROKEN, broken), (WARNED, warned)) if ids]
        if blocking:
            where = reproduction(settings)
            redactor = Redactor(settings.token)
            message = "\n\n".join(
                describe(redactor.finding(finding), record.seed, where) for finding in broken.values()
            )
            then = f"\n\nthen {not_sent}" if not_sent else ""
            pytest.fail(f"{_headline(blocking, broken)}\n\n{message}{then}", pytrace=False)
    if not_sent:
        pytest.skip(not_sent)
    return result


def _first_per_requirement(findings: list[Finding]) -> dict[str, Finding]:
    seen: dict[str, Finding] = {}
    for finding in findings:
        seen.setdefault(finding.requirement, finding)
    return seen


def _headline(blocking: list[Finding], broken: dict[str, Finding]) -> str:
    """The first line of a failure (pytest's short summary shows it): what broke, and how first."""
    first = next(iter(broken.values()))
    count = f" ({len(blocking)} findings)" if len(blocking) > 1 else ""
    return f"{', '.join(broken)} broken{count}: {shown(first.detail)}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    report = yield
    record = item.stash.get(RECORD, None)
    if record is not None and report.when == "teardown":
        setattr(report, REPORT_ATTRIBUTE, record.to_dict())
    settings = item.config.stash.get(SETTINGS, None)
    if settings is not None:  # None: the plugin is inert (the suite is not collected)
        _redact_report(report, Redactor(settings.token))
    return report


def _redact_report(report: pytest.TestReport, redactor: Redactor) -> None:
    """What pytest prints and puts in junit.xml (the failure or skip text, captured output), without the token.

    The suite's own messages are built from redacted findings; this catches any other text
    (a crash's traceback quoting a server's answer, a print in a test).
    """
    if isinstance(report.longrepr, tuple):
        path, line, reason = report.longrepr
        report.longrepr = (path, line, redactor.text(reason))
    elif report.longrepr is not None:
        text = str(report.longrepr)
        if redactor.text(text) != text:
            report.longrepr = redactor.text(text)
    report.sections = [(title, redactor.text(content)) for title, content in report.sections]


class RunReporter:
    """On the controller: merges the tests' records, closes the run, prints the table."""

    def __init__(self, config: pytest.Config, lock: ReportsLock | None = None) -> None:
        self.settings = config.stash[SETTINGS]
        self.results = config.stash[RESULTS]
        self.lock = lock
        """Held while this run writes the reports (see _prepare_reports); None: it writes none."""
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
