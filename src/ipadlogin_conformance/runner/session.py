"""The plugin's part in pytest's session: whether it acts at all, the run's settings, collection, the end.

Installed for every pytest run, the plugin does nothing unless the run
collects the suite's tests (:func:`.invocation.suite_selected`). When it does,
:func:`pytest_configure` resolves the run's settings once (xdist workers take
the controller's seed), claims the reports dir and registers the controller's
:class:`~.terminal.RunReporter`; collection checks every test's requirement IDs
against the catalog; SIGTERM ends the run as Ctrl-C does (:mod:`.interrupts`).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ..client.target import TargetConfig, Unreachable, require_reachable
from ..contract.catalog import load_catalog
from ..contract.spec import seed_example_wcid
from ..core.settings import Settings, SettingsError, activate, resolve
from ..reports import JUNIT_XML, ReportsDirError, ReportsLock, lock_reports_dir, prepare_reports_dir
from ..results.records import RunResults
from .interrupts import SIGNALS, WholeReports
from .invocation import ini_base_url, suite_selected, typed_base_url
from .keys import HEADER, RESULTS, RUN_SEED, SETTINGS
from .parallel import SharedBudgetDir, workers
from .prefetch import MARKER_LINE
from .terminal import RunReporter, header_line

SUITE_DIR = Path(__file__).resolve().parents[1] / "suite"


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
    config.stash[HEADER] = [header_line(settings)]
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
