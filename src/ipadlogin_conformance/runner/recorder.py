"""A test's outcome from its findings, and its record on its reports for the controller to merge.

After a test's body, a finding that breaks a MUST (or, with
--warnings-as-errors, a SHOULD) fails it, with the evidence of the first
finding per requirement; a test whose requests were not sent (budget spent,
host stalled) is skipped. The test's :class:`~.records.TestRecord` then rides
on its teardown report, so the controller of an xdist run merges the same
records as a serial run (:class:`~.terminal.RunReporter`), and every report
is redacted before pytest prints it or puts it in junit.xml.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..client.budget import BudgetExhausted
from ..core.redaction import Redactor
from ..core.reproduce import Reproduction
from ..core.settings import Settings
from ..core.verdict import Finding
from ..reports.cassette import CASSETTE_NAME
from ..reports.evidence import describe, shown
from ..results.records import is_blocking
from .keys import PROGRESS, RECORD, REPORT_ATTRIBUTE, SETTINGS
from .prefetch import settle
from .progress import BROKEN, WARNED


def reproduction(settings: Settings) -> Reproduction:
    """What the run's reproductions refer to: body files and the cassette in the reports dir (workers agree)."""
    return Reproduction.in_reports(settings.reports_dir, settings.reports_dir / CASSETTE_NAME)


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
