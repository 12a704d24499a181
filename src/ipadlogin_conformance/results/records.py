"""What a run found, added up per requirement: the input of every report.

Each test produces a :class:`TestRecord` (plain data, so it travels from an
xdist worker to the controller with the test's report); the controller merges
the records into one :class:`RunResults`. Passing findings are only counted;
problems keep their evidence, a few per requirement. A record also carries
every exchange its test judged, once, which the run's cassette stores.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..checks.timing import latency_within_budget
from ..contract.catalog import load_catalog
from ..core.exchange import Exchange
from ..core.policy import Policy
from ..core.verdict import Finding, Outcome, worst
from .diagnosis import AnswerTally

EVIDENCE_PER_REQUIREMENT = 5
RUN_LEVEL_TEST = "run"
"""The test id of a finding judged over the whole run (TIME-2)."""


@dataclass
class TestRecord:
    """The findings, requests and latencies of one test, and every exchange it judged."""

    test_id: str = ""
    findings: list[Finding] = field(default_factory=list)
    requests: int = 0
    successes: int = 0
    refused: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    seed: int | None = None
    exchanges: list[Exchange] = field(default_factory=list)
    """The judged exchanges, each once, labeled with how they were judged (see :mod:`.judgement`)."""
    direct: list[int] = field(default_factory=list)
    """Indexes in ``findings`` of findings a test added itself, not judged from an exchange."""
    answers: AnswerTally = field(default_factory=AnswerTally)
    """How the logins were answered, for the run's diagnosis (see :mod:`.diagnosis`)."""

    def add(self, findings: list[Finding]) -> None:
        """Findings the test states itself (e.g. "no QR URL to fetch"): a replay keeps them as they are."""
        self.direct.extend(range(len(self.findings), len(self.findings) + len(findings)))
        self.findings.extend(findings)

    def add_judged(self, exchange: Exchange, findings: list[Finding]) -> None:
        """An exchange and the findings judged from its labels: a replay judges it again."""
        self.exchanges.append(exchange)
        self.findings.extend(findings)

    def to_dict(self) -> dict[str, Any]:
        """Plain data; each exchange is stored once and findings refer to it by index."""
        index = {id(exchange): i for i, exchange in enumerate(self.exchanges)}

        def finding(item: Finding) -> dict[str, Any]:
            if item.exchange is None:
                return item.to_dict()
            position = index.get(id(item.exchange))
            return item.to_dict(item.exchange.to_dict() if position is None else position)

        return {
            "test_id": self.test_id,
            "findings": [finding(item) for item in self.findings],
            "requests": self.requests,
            "successes": self.successes,
            "refused": self.refused,
            "latencies_ms": self.latencies_ms,
            "seed": self.seed,
            "exchanges": [exchange.to_dict() for exchange in self.exchanges],
            "direct": self.direct,
            "answers": self.answers.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TestRecord:
        exchanges = [Exchange.from_dict(item) for item in data.get("exchanges", [])]

        def finding(item: dict[str, Any]) -> Finding:
            exchange = item.get("exchange")
            if isinstance(exchange, int):
                return Finding.from_dict(item, exchanges[exchange])
            return Finding.from_dict(item, None if exchange is None else Exchange.from_dict(exchange))

        return cls(
            test_id=data["test_id"],
            findings=[finding(item) for item in data["findings"]],
            requests=data["requests"],
            successes=data["successes"],
            refused=data["refused"],
            latencies_ms=list(data["latencies_ms"]),
            seed=data["seed"],
            exchanges=exchanges,
            direct=list(data.get("direct", [])),
            answers=AnswerTally.from_dict(data["answers"]),
        )


@dataclass
class RequirementResult:
    requirement_id: str
    counts: Counter = field(default_factory=Counter)
    evidence: list[tuple[str, int | None, Finding]] = field(default_factory=list)
    """(test id, Hypothesis seed, finding) for the first problems and non-verifications."""
    tests: set[str] = field(default_factory=set)
    problem_tests: set[str] = field(default_factory=set)
    """Tests with a failure or warning of this requirement ("run" for the run-level judgement)."""
    problem_responses: int = 0
    """Answers that broke it (each counted once, however many of its findings did)."""
    problem_unanswered: int = 0
    """Requests that broke it by getting no answer (a timeout, a dropped connection)."""

    @property
    def outcome(self) -> Outcome:
        return worst(Outcome(name) for name in self.counts)

    @property
    def checks(self) -> int:
        return sum(self.counts.values())


@dataclass
class RunResults:
    requirements: dict[str, RequirementResult] = field(
        default_factory=lambda: {r.id: RequirementResult(r.id) for r in load_catalog()}
    )
    requests: int = 0
    successes: int = 0
    refused: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    tests: int = 0
    answers: AnswerTally = field(default_factory=AnswerTally)
    generated: dict[str, int] = field(default_factory=dict)
    """Requests each property test sent (its generated cases), by test id."""

    def merge(self, record: TestRecord) -> None:
        self.tests += 1
        self.requests += record.requests
        self.successes += record.successes
        self.refused += record.refused
        self.latencies_ms.extend(record.latencies_ms)
        self.answers.add(record.answers)
        if record.seed is not None:  # only the property tests carry a Hypothesis seed
            self.generated[record.test_id] = record.requests
        broke: dict[str, dict[int, Exchange]] = {}
        for finding in record.findings:
            self.add(finding, record.test_id, record.seed)
            if finding.is_problem and finding.exchange is not None:
                broke.setdefault(finding.requirement, {})[id(finding.exchange)] = finding.exchange
        for requirement_id, exchanges in broke.items():
            result = self.requirements[requirement_id]
            answered = sum(exchange.response is not None for exchange in exchanges.values())
            result.problem_responses += answered
            result.problem_unanswered += len(exchanges) - answered

    def add(self, finding: Finding, test_id: str = "", seed: int | None = None) -> None:
        result = self.requirements[finding.requirement]
        result.counts[finding.outcome.value] += 1
        result.tests.add(test_id)
        if finding.is_problem:
            result.problem_tests.add(test_id)
        if finding.outcome is not Outcome.PASS and (
            len(result.evidence) < EVIDENCE_PER_REQUIREMENT
            or all(kept.outcome is not finding.outcome for _test, _seed, kept in result.evidence)
        ):  # the first of each outcome is kept, so a failure is never told by a warning's evidence
            result.evidence.append((test_id, seed, finding))

    def close(self, policy: Policy) -> None:
        """The run-level judgement, once every record is merged: TIME-2 over all answered logins."""
        self.add(latency_within_budget(self.latencies_ms, policy), RUN_LEVEL_TEST)

    def verdict(self, requirement_id: str) -> Outcome:
        return self.requirements[requirement_id].outcome

    def blocking(self, warnings_as_errors: bool) -> list[str]:
        """The requirement IDs that make the run fail."""
        bad = {Outcome.FAIL, Outcome.WARN} if warnings_as_errors else {Outcome.FAIL}
        return [rid for rid, result in self.requirements.items() if result.outcome in bad]


def is_blocking(finding: Finding, warnings_as_errors: bool) -> bool:
    if finding.outcome is Outcome.FAIL:
        return True
    return warnings_as_errors and finding.outcome is Outcome.WARN
