"""The pytest plugin: options, the target, verdict collection, the requirement table.

Tests send through the ``target`` fixture and hand each exchange to the
``judge`` fixture; they never assert themselves. The judge records findings
on the test's :class:`~.results.TestRecord`; after the test, a MUST failure
(or, with --warnings-as-errors, a SHOULD one) fails it with the evidence.
Records travel on the test reports, so the controller of an xdist run sees
every finding and the verdicts do not depend on how the run was split.
"""

from __future__ import annotations

import socket
from dataclasses import replace
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from .catalog import load_catalog
from .checks import Expect, judge_login, latency_within_budget
from .evidence import describe
from .exchange import Exchange
from .results import RunResults, TestRecord, is_blocking
from .spec import seed_example_wcid
from .settings import OPTIONS, Settings, SettingsError, resolve
from .budget import Budget, BudgetExhausted
from .target import Target, TargetConfig
from .verdict import Finding

SUITE_DIR = Path(__file__).parent / "suite"
SETTINGS = pytest.StashKey[Settings]()
RESULTS = pytest.StashKey[RunResults]()
RECORD = pytest.StashKey[TestRecord]()
REPORT_ATTRIBUTE = "ipadlogin_record"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ipadlogin", "iPadLogin conformance (each option also reads the environment variable named)")
    for option in OPTIONS:
        kwargs: dict[str, Any] = {"dest": option.dest, "default": None, "help": f"{option.help} [{option.env}]"}
        if option.is_flag:
            kwargs["action"] = "store_true"
        group.addoption(f"--{option.name}", **kwargs)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(*ids): the catalog requirements the test checks")
    try:
        settings = resolve(vars(config.option))
    except SettingsError as error:
        raise pytest.UsageError(str(error)) from None
    if settings.embedded and settings.known_wcid is None:
        settings = replace(settings, known_wcid=seed_example_wcid())
    config.stash[SETTINGS] = settings
    config.stash[RESULTS] = RunResults()
    global _active_settings
    _active_settings = settings
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(RunReporter(config), "ipadlogin-run-reporter")
    if not settings.embedded and not hasattr(config, "workerinput"):
        _require_reachable(settings.base_url, settings.request_timeout_s)


_active_settings: Settings | None = None


def active_settings() -> Settings:
    """The run's settings, for test modules that need them at import time.

    Schemathesis fixes its Hypothesis settings (examples, seed) when the test
    module is collected, before any fixture runs.
    """
    if _active_settings is None:
        raise RuntimeError("the ipadlogin_conformance.plugin pytest plugin is not loaded")
    return _active_settings


def _require_reachable(base_url: str, timeout_s: float) -> None:
    """A TCP connection only: the suite sends no request but POST /iPadLogin and GET qrCodeUrl."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=min(timeout_s, 10)).close()
    except OSError as error:
        raise pytest.UsageError(f"cannot reach {base_url}: {error.strerror or error}") from None


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Given a base URL, collect only the conformance tests (not the project's self-tests)."""
    if config.stash[SETTINGS].embedded:
        return None
    inside = collection_path == SUITE_DIR or SUITE_DIR in collection_path.parents
    return None if inside or collection_path in SUITE_DIR.parents else True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
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
def target(ipadlogin_settings: Settings) -> Iterator[Target]:
    """The server under test: the given base URL, or the embedded reference server."""
    settings = ipadlogin_settings
    budget = Budget(settings.rate_limit, settings.success_budget)
    if not settings.embedded:
        with Target(_target_config(settings, settings.base_url, settings.token), budget) as client:
            yield client
        return
    from .server import DEFAULT_DEV_TOKEN, start_reference_server

    token = settings.token or DEFAULT_DEV_TOKEN
    with start_reference_server(token=token) as server:
        with Target(_target_config(settings, server.url, token), budget) as client:
            yield client


def _target_config(settings: Settings, base_url: str, token: str) -> TargetConfig:
    return TargetConfig(
        base_url=base_url,
        token=token,
        request_timeout_s=settings.request_timeout_s,
        verify_tls=settings.verify_tls,
        ca_bundle=settings.ca_bundle,
    )


class Judge:
    """Judges a test's exchanges and records the findings on the test's record."""

    def __init__(self, record: TestRecord, target: Target, settings: Settings) -> None:
        self.record = record
        self.target = target
        self.settings = settings

    def login(self, exchange: Exchange, expect: Expect, *requirement_ids: str) -> list[Finding]:
        """One POST /iPadLogin: the request class's requirements, envelope and time."""
        exchange.labels.update(expect=expect.value, requirements=list(requirement_ids))
        if exchange.response is not None:
            self.record.latencies_ms.append(exchange.elapsed_ms)
        return self.add(judge_login(exchange, expect, requirement_ids, self.settings.policy))

    def add(self, findings: list[Finding] | Finding) -> list[Finding]:
        findings = [findings] if isinstance(findings, Finding) else findings
        self.record.add(findings)
        return findings


@pytest.fixture
def judge(request: pytest.FixtureRequest, target: Target, ipadlogin_settings: Settings) -> Iterator[Judge]:
    record = request.node.stash.setdefault(RECORD, TestRecord(test_id=request.node.nodeid))
    before = (target.budget.usage.requests, target.budget.usage.successes, target.budget.usage.refused)
    yield Judge(record, target, ipadlogin_settings)
    usage = target.budget.usage
    record.requests += usage.requests - before[0]
    record.successes += usage.successes - before[1]
    record.refused += usage.refused - before[2]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail the test when its findings break a MUST (or a SHOULD, with --warnings-as-errors)."""
    try:
        result = yield
    except BudgetExhausted as error:
        pytest.skip(f"not sent: {error} (a live target is protected by --success-budget)")
    record = item.stash.get(RECORD, None)
    if record is not None:
        settings = item.config.stash[SETTINGS]
        blocking = [f for f in record.findings if is_blocking(f, settings.warnings_as_errors)]
        if blocking:
            shown = _first_per_requirement(blocking)
            message = "\n\n".join(describe(finding, record.seed) for finding in shown)
            pytest.fail(f"{len(blocking)} finding(s) break the contract:\n\n{message}", pytrace=False)
    return result


def _first_per_requirement(findings: list[Finding]) -> list[Finding]:
    seen: dict[str, Finding] = {}
    for finding in findings:
        seen.setdefault(finding.requirement, finding)
    return list(seen.values())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    report = yield
    record = item.stash.get(RECORD, None)
    if record is not None and report.when == "teardown":
        setattr(report, REPORT_ATTRIBUTE, record.to_dict())
    return report


class RunReporter:
    """On the controller: merges the tests' records, closes the run, prints the table."""

    def __init__(self, config: pytest.Config) -> None:
        self.settings = config.stash[SETTINGS]
        self.results = config.stash[RESULTS]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, REPORT_ATTRIBUTE, None)
        if data is not None:
            self.results.merge(TestRecord.from_dict(data))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.results.tests:
            return
        self.results.add(latency_within_budget(self.results.latencies_ms, self.settings.policy), "run")
        if self.results.blocking(self.settings.warnings_as_errors) and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        results, settings = self.results, self.settings
        if not results.tests:
            return
        write = terminalreporter.write_line
        terminalreporter.section("iPadLogin conformance")
        target = settings.base_url or "embedded reference server"
        write(f"target {target} · profile {settings.profile.value}")
        write(f"{'requirement':<12}{'level':<8}{'verdict':<14}{'checks':>8}  statement")
        for requirement in load_catalog():
            result = results.requirements[requirement.id]
            verdict = result.outcome.value
            markup = {"fail": {"red": True, "bold": True}, "warn": {"yellow": True}, "pass": {"green": True}}.get(verdict, {})
            terminalreporter.write(f"{requirement.id:<12}{requirement.level.value:<8}")
            terminalreporter.write(f"{verdict:<14}", **markup)
            write(f"{result.checks:>8}  {requirement.statement[:70]}")
        budget = "no cap" if settings.success_budget is None else f"budget {settings.success_budget}"
        write(f"requests {results.requests} · successes {results.successes} ({budget}) · not sent (budget spent) {results.refused}")
        write(f"overall: {results.overall(settings.warnings_as_errors).value.upper()}")
