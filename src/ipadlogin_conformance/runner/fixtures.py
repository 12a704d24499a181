"""What a conformance test is handed: the run's settings, the ``target`` to send through, the ``judge``.

Tests never assert themselves: they send through ``target`` and hand each
exchange to ``judge``, which records the findings on the test's
:class:`~.records.TestRecord` (kept on the item, see :mod:`.keys`); after the
test, :mod:`.recorder` decides its outcome from them. The fixtures of requests
in flight (``sent_ahead``, ``send_later``) are :mod:`.prefetch`'s.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..checks import Expect, created_a_login
from ..client.budget import Budget
from ..client.target import Target, TargetConfig
from ..core.exchange import Exchange
from ..core.settings import Settings
from ..core.verdict import Finding
from ..results.judgement import judge_into, label_login, label_other_method, label_qr
from ..results.records import TestRecord
from .keys import PROGRESS, RECORD, SETTINGS
from .parallel import budget_state_file
from .progress import WorkProgress


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
            with Target(
                TargetConfig.for_settings(settings, settings.base_url, settings.token),
                budget,
                succeeded=created_a_login,
            ) as client:
                yield client
            return
        from ..server import start_reference_server

        with start_reference_server(token=settings.token) as server:  # the development token unless one was given
            with Target(
                TargetConfig.for_settings(settings, server.url, settings.token), budget, succeeded=created_a_login
            ) as client:
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
