"""The terminal's findings: one block per broken requirement, printed before the verdict table.

A server with one defect breaks one requirement on many answers, and pytest
would tell it once per test (a one-fault server printed 764 lines). This tells
it once per requirement: its statement, how many tests and responses broke it,
and the first evidence with its reproduction. A warning gets a shorter block
(what, where, how to send it again). pytest's per-test sections stay behind
``-v`` / ``--tb``; every exchange is in the cassette.
"""

from __future__ import annotations

from typing import Any

from ..contract.catalog import load_catalog
from ..core.redaction import Redactor
from ..core.reproduce import Reproduction
from ..core.verdict import Outcome
from ..reports.evidence import describe_exchange, reproduction_lines, shown
from ..results.records import RUN_LEVEL_TEST, RequirementResult, RunResults
from .progress import short_test_id

MARKUP = {Outcome.FAIL: {"red": True, "bold": True}, Outcome.WARN: {"yellow": True, "bold": True}}


def write_findings(terminalreporter: Any, results: RunResults, where: Reproduction, redactor: Redactor) -> None:
    """The blocks, failures first, the token redacted; ``terminalreporter`` needs section(), write() and write_line() (replay passes its own)."""
    problems = [
        result
        for outcome in (Outcome.FAIL, Outcome.WARN)
        for result in results.requirements.values()
        if result.outcome is outcome
    ]
    if not problems:
        return
    terminalreporter.section("findings by requirement")
    for result in problems:
        head, *rest = finding_block(result, where, redactor)
        terminalreporter.write_line(head, **MARKUP[result.outcome])
        for line in rest:
            terminalreporter.write_line(line)
        terminalreporter.write_line("")
    terminalreporter.write_line(
        "each failing test in full: -v or --tb=short · every exchange: the cassette (exchanges.har)"
    )


def finding_block(result: RequirementResult, where: Reproduction, redactor: Redactor) -> list[str]:
    """One requirement's block: the headline with its counts, then the first evidence of its verdict."""
    requirement = load_catalog()[result.requirement_id]
    verb = "broken" if result.outcome is Outcome.FAIL else "warned"
    lines = [f"{requirement.id} ({requirement.level.value}) {verb} by {_extent(result)}: {requirement.statement}"]
    first = next((item for item in result.evidence if item[2].outcome is result.outcome), None)
    if first is None:
        return lines
    test_id, seed, finding = first
    finding = redactor.finding(finding)  # the run keeps real values; what is shown never holds the token
    where_found = "the run as a whole" if test_id == RUN_LEVEL_TEST else short_test_id(test_id)
    lines.append(f"  first: {where_found}: {shown(finding.detail)}")
    if finding.exchange is not None:
        full = result.outcome is Outcome.FAIL
        lines += describe_exchange(finding.exchange, where) if full else reproduction_lines(finding.exchange, where)
    if seed is not None:
        lines.append(f"  hypothesis seed: {seed} (replay: --hypothesis-seed={seed})")
    return lines


def _extent(result: RequirementResult) -> str:
    """ "60 tests, 581 responses" (or "the run as a whole" for a run-level judgement)."""
    tests = len(result.problem_tests - {RUN_LEVEL_TEST})
    parts = [_count(tests, "test")] if tests else []
    if result.problem_responses:
        parts.append(_count(result.problem_responses, "response"))
    if result.problem_unanswered:
        parts.append(_count(result.problem_unanswered, "request") + " without an answer")
    return ", ".join(parts) or "the run as a whole"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
