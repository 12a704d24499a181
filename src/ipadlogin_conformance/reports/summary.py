"""summary.json: the machine-readable verdict, and the one model every other report renders.

The HTML and Markdown reports are rendered from this dictionary only, so all
three say the same thing; ``summary.schema.json`` (package data) describes it
and the project's tests validate every run's summary against it.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from .. import __version__
from ..contract.catalog import load_catalog
from ..contract.spec import spec_sha256, spec_version
from ..core.redaction import Redactor
from ..core.reproduce import Reproduction
from ..core.settings import Settings
from ..core.strict_json import dumps
from ..core.verdict import Outcome
from ..results.overall import run_verdict
from ..results.records import RunResults
from . import evidence  # the module, not its names: evidence imports this package
from .latency import latency_figures
from .run import RunInfo, exit_meaning

SCHEMA_VERSION = 2
"""2: ``verdict`` "incomplete" replaced "not run" (a partial run is never a pass); ``not_checked``, ``verdict_reason``, ``diagnosis``."""
SUITE_NAME = "ipadlogin-conformance"


def build_summary(
    results: RunResults, settings: Settings, run: RunInfo, where: Reproduction = Reproduction()
) -> dict[str, Any]:
    """Everything a report states about a run, as JSON-ready data (the token is never part of it: the evidence is redacted).

    ``where``: the body files and the cassette the reproductions refer to.
    """
    redactor = Redactor(settings.token)
    requirements = [_requirement(results, requirement.id, where, redactor) for requirement in load_catalog()]
    verdict = run_verdict(results, settings.warnings_as_errors, run.incomplete_reasons)
    return {
        "schema_version": SCHEMA_VERSION,
        "complete": verdict.complete,
        "incomplete_reasons": list(verdict.incomplete_reasons),
        "not_checked": list(verdict.not_checked),
        "suite": {"name": SUITE_NAME, "version": __version__},
        "spec": {"version": spec_version(), "sha256": spec_sha256()},
        "catalog": {"version": load_catalog().version},
        "target": _target(settings, run),
        "profile": settings.profile.value,
        "started": _iso(run.started),
        "finished": _iso(run.finished),
        "duration_s": round((run.finished - run.started).total_seconds(), 3),
        "verdict": verdict.outcome.value,
        "verdict_reason": verdict.reason,
        "diagnosis": None if verdict.diagnosis is None else verdict.diagnosis.to_dict(),
        "blocking": list(verdict.blocking),
        "exit_status": {"code": run.exit_status, "meaning": exit_meaning(run.exit_status)},
        "settings": {
            "examples": settings.examples,
            "seed": settings.seed,
            "seeds_used": list(run.seeds),
            "rate_limit_per_s": settings.rate_limit,
            "success_budget": settings.success_budget,
            "warnings_as_errors": settings.warnings_as_errors,
            "require_complete": settings.require_complete,
            "request_timeout_s": settings.request_timeout_s,
            "latency_budget_ms": settings.latency_budget_ms,
            "known_wcid_given": settings.known_wcid is not None,
            "verify_tls": settings.verify_tls,
            "proxy": settings.proxy,
            "use_proxy_env": settings.use_proxy_env,
        },
        "tests": {
            "collected": run.tests_collected,
            "run": run.tests_run,
            "crashed": list(run.crashed),
            "generated": [{"test": test, "cases": cases} for test, cases in results.generated.items()],
        },
        "totals": _totals(requirements),
        "budget": {
            "requests": results.requests,
            "successes": results.successes,
            "refused": results.refused,
            "success_budget": settings.success_budget,
            "rate_limit_per_s": settings.rate_limit,
        },
        "latency_ms": latency_figures(results.latencies_ms, settings.latency_budget_ms),
        "requirements": requirements,
    }


def _requirement(results: RunResults, requirement_id: str, where: Reproduction, redactor: Redactor) -> dict[str, Any]:
    requirement = load_catalog()[requirement_id]
    result = results.requirements[requirement_id]
    return {
        "id": requirement.id,
        "level": requirement.level.value,
        "area": requirement.area,
        "statement": requirement.statement,
        "should": requirement.should,
        "verdict": result.outcome.value,
        "checks": result.checks,
        "tests": len(result.tests),
        "counts": {outcome.value: result.counts[outcome.value] for outcome in Outcome if result.counts[outcome.value]},
        "evidence": [
            evidence.evidence_data(test_id, seed, redactor.finding(finding), where)
            for test_id, seed, finding in result.evidence
        ],
    }


def _totals(requirements: list[dict[str, Any]]) -> dict[str, int]:
    counted = Counter(item["verdict"] for item in requirements)
    return {outcome.value: counted[outcome.value] for outcome in Outcome}


def _target(settings: Settings, run: RunInfo) -> dict[str, Any]:
    """The target and where it came from; an embedded server's label says that no base URL was given."""
    source = settings.target_source
    if settings.embedded:
        urls = list(run.target_urls)
        label = source + (f" ({', '.join(urls)})" if urls else "")
        return {"embedded": True, "base_url": None, "urls": urls, "label": label, "source": source}
    return {
        "embedded": False,
        "base_url": settings.base_url,
        "urls": [settings.base_url],
        "label": settings.base_url,
        "source": source,
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


@cache
def summary_schema() -> dict[str, Any]:
    """The JSON Schema of summary.json, shipped with the package."""
    return json.loads(resources.files(__package__).joinpath("summary.schema.json").read_text("utf-8"))


def to_json(summary: dict[str, Any]) -> str:
    return dumps(summary, indent=2, ensure_ascii=False) + "\n"
