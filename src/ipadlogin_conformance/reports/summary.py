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
from ..catalog import load_catalog
from ..evidence import evidence_data
from ..redaction import Redactor
from ..results import RunResults
from ..settings import Settings
from ..spec import spec_sha256, spec_version
from ..strict_json import dumps
from ..verdict import Outcome
from .latency import latency_figures
from .run import RunInfo, exit_meaning

SCHEMA_VERSION = 1
SUITE_NAME = "ipadlogin-conformance"
EMBEDDED = "embedded reference server"


def build_summary(results: RunResults, settings: Settings, run: RunInfo) -> dict[str, Any]:
    """Everything a report states about a run, as JSON-ready data (the token is never part of it: the evidence is redacted)."""
    redactor = Redactor(settings.token)
    requirements = [_requirement(results, requirement.id, redactor) for requirement in load_catalog()]
    return {
        "schema_version": SCHEMA_VERSION,
        "complete": run.complete,
        "incomplete_reasons": list(run.incomplete_reasons),
        "suite": {"name": SUITE_NAME, "version": __version__},
        "spec": {"version": spec_version(), "sha256": spec_sha256()},
        "catalog": {"version": load_catalog().version},
        "target": _target(settings, run),
        "profile": settings.profile.value,
        "started": _iso(run.started),
        "finished": _iso(run.finished),
        "duration_s": round((run.finished - run.started).total_seconds(), 3),
        "verdict": overall(results, settings.warnings_as_errors).value,
        "blocking": results.blocking(settings.warnings_as_errors),
        "exit_status": {"code": run.exit_status, "meaning": exit_meaning(run.exit_status)},
        "settings": {
            "examples": settings.examples,
            "seed": settings.seed,
            "seeds_used": list(run.seeds),
            "rate_limit_per_s": settings.rate_limit,
            "success_budget": settings.success_budget,
            "warnings_as_errors": settings.warnings_as_errors,
            "request_timeout_s": settings.request_timeout_s,
            "latency_budget_ms": settings.latency_budget_ms,
            "known_wcid_given": settings.known_wcid is not None,
            "verify_tls": settings.verify_tls,
            "proxy": settings.proxy,
            "use_proxy_env": settings.use_proxy_env,
        },
        "tests": {"collected": run.tests_collected, "run": run.tests_run, "crashed": list(run.crashed)},
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


def overall(results: RunResults, warnings_as_errors: bool) -> Outcome:
    """The run's verdict; "not run" when no requirement was checked at all (never a vacuous pass)."""
    if not any(result.checks for result in results.requirements.values()):
        return Outcome.NOT_RUN
    return results.overall(warnings_as_errors)


def headline(summary: dict[str, Any]) -> str:
    """The word a reader sees first: a failure found is conclusive, a pass of a partial run is not."""
    if not summary["complete"] and summary["verdict"] != Outcome.FAIL.value:
        return "incomplete"
    return summary["verdict"]


def _requirement(results: RunResults, requirement_id: str, redactor: Redactor) -> dict[str, Any]:
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
        "evidence": [evidence_data(test_id, seed, redactor.finding(finding)) for test_id, seed, finding in result.evidence],
    }


def _totals(requirements: list[dict[str, Any]]) -> dict[str, int]:
    counted = Counter(item["verdict"] for item in requirements)
    return {outcome.value: counted[outcome.value] for outcome in Outcome}


def _target(settings: Settings, run: RunInfo) -> dict[str, Any]:
    if settings.embedded:
        urls = list(run.target_urls)
        label = EMBEDDED + (f" ({', '.join(urls)})" if urls else "")
        return {"embedded": True, "base_url": None, "urls": urls, "label": label}
    return {"embedded": False, "base_url": settings.base_url, "urls": [settings.base_url], "label": settings.base_url}


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


@cache
def summary_schema() -> dict[str, Any]:
    """The JSON Schema of summary.json, shipped with the package."""
    return json.loads(resources.files(__package__).joinpath("summary.schema.json").read_text("utf-8"))


def to_json(summary: dict[str, Any]) -> str:
    return dumps(summary, indent=2, ensure_ascii=False) + "\n"
