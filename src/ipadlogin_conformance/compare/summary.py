"""compare.json: the comparison as data, and the one model the terminal table and compare.html render.

Built from a finished :class:`~.runner.Run`: the per-request differences, the
per-class latency differences and the per-requirement verdict differences,
less the kinds the team ignores (``--ignore``); grouped by request class and
kind; with the curl lines of both sides for each difference (the token reads
``$IPADLOGIN_TOKEN``). ``compare.schema.json`` (package data) describes it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

from .. import __version__
from ..contract.catalog import load_catalog
from ..contract.spec import spec_sha256, spec_version
from ..core.exchange import Exchange
from ..reports.latency import latency_figures
from ..reports.summary import SUITE_NAME
from ..reports.summary import _iso as iso_time
from .diff import (
    KINDS,
    LATENCY_FLOOR_MS,
    LATENCY_MIN_REQUESTS,
    LATENCY_RATIO,
    Difference,
    group,
    latency_classes,
    latency_difference,
    verdict_differences,
)
from .runner import Pair, Run, Side

SCHEMA_VERSION = 1
CLASS_KINDS = ("latency", "verdict")
"""Kinds of difference that belong to a whole request class or requirement, not to one request."""
Item = tuple[list[str], str, Difference, "Pair | None"]
"""(request ids, request class or requirement ID, difference, the pair whose curl lines show it)."""
SAME, DIFFERENT, INCOMPLETE = "same", "different", "incomplete"
EXIT_MEANINGS = {
    0: "same: no difference, every request compared",
    1: "different: a difference of a kind not ignored, or requests that could not be compared",
}


def build_summary(
    run: Run,
    *,
    ignored: Iterable[str] = (),
    settings: dict[str, Any] | None = None,
    notes: Iterable[str] = (),
    latency_slowdown_only: bool = False,
) -> dict[str, Any]:
    """Everything the comparison found, as JSON-ready data (no token: exchanges are redacted at the source).

    ``latency_slowdown_only``: OLD's latencies were measured with requests in flight (see :mod:`.diff`).
    """
    ignored = frozenset(ignored)
    compared = [pair for pair in run.pairs if pair.compared]
    found: list[Item] = [
        ([pair.request.id], pair.request.request_class, difference, pair)
        for pair in compared
        for difference in pair.differences
    ]
    found += _latency(compared, latency_slowdown_only)
    found += _verdicts(run)
    kept = [item for item in found if item[2].kind not in ignored]
    not_compared = [pair for pair in run.pairs if not pair.compared]
    result = DIFFERENT if kept else INCOMPLETE if not_compared else SAME
    code = 0 if result == SAME else 1
    return {
        "schema_version": SCHEMA_VERSION,
        "suite": {"name": SUITE_NAME, "version": __version__},
        "spec": {"version": spec_version(), "sha256": spec_sha256()},
        "catalog": {"version": load_catalog().version},
        "started": iso_time(run.started),
        "finished": iso_time(run.finished),
        "duration_s": round((run.finished - run.started).total_seconds(), 3),
        "result": result,
        "exit_status": {"code": code, "meaning": EXIT_MEANINGS[code]},
        "old": _side(run.old, [pair.old for pair in run.pairs]),
        "new": _side(run.new, [pair.new for pair in run.pairs]),
        "settings": {
            **(settings or {}),
            "latency": {
                "ratio": LATENCY_RATIO,
                "floor_ms": LATENCY_FLOOR_MS,
                "min_requests": LATENCY_MIN_REQUESTS,
                "slowdown_only": latency_slowdown_only,
            },
        },
        "ignored_kinds": sorted(ignored, key=KINDS.index),
        "notes": list(notes),
        "requests": {
            "total": len(run.pairs),
            "compared": len(compared),
            "differing": len({ids[0] for ids, _, difference, _ in kept if difference.kind not in CLASS_KINDS}),
            "not_compared": len(not_compared),
        },
        "counts": dict(Counter(difference.kind for _, _, difference, _ in kept)),
        "ignored": dict(Counter(difference.kind for _, _, difference, _ in found if difference.kind in ignored)),
        "groups": [
            {
                "class": item.request_class,
                "kind": item.kind,
                "old": item.old,
                "new": item.new,
                "count": len(item.requests),
                "requests": item.requests,
                "sentence": item.sentence(),
            }
            for item in group((ids, request_class, difference) for ids, request_class, difference, _ in kept)
        ],
        "differences": [
            {
                "request": None if difference.kind in CLASS_KINDS else ids[0],
                "class": request_class,
                "kind": difference.kind,
                "old": difference.old,
                "new": difference.new,
                "curl": _curls(pair),
            }
            for ids, request_class, difference, pair in kept
        ],
        "not_compared": [
            {
                "request": pair.request.id,
                "class": pair.request.request_class,
                "why": pair.why_not_compared,
                "curl": _curls(pair),
            }
            for pair in not_compared
        ],
    }


def differences_of(summary: dict[str, Any], group: dict[str, Any]) -> list[dict[str, Any]]:
    """The differences a group of compare.json stands for, in request order."""
    key = (group["kind"], group["class"], group["old"], group["new"])
    return [item for item in summary["differences"] if (item["kind"], item["class"], item["old"], item["new"]) == key]


def _latency(compared: list[Pair], slowdown_only: bool) -> list[Item]:
    """One difference per request class whose p95 moved beyond noise; the curl lines of its slowest NEW request."""
    by_class: dict[str, list[tuple[Pair, float, float]]] = {}
    for pair in compared:
        shapes = pair.shapes
        if shapes is not None and shapes[0].latency_ms is not None and shapes[1].latency_ms is not None:
            by_class.setdefault(pair.request.request_class, []).append(
                (pair, shapes[0].latency_ms, shapes[1].latency_ms)
            )
    found: list[Item] = []
    for request_class, timed in latency_classes(by_class).items():
        difference = latency_difference(
            [old_ms for _, old_ms, _ in timed], [new_ms for _, _, new_ms in timed], slowdown_only=slowdown_only
        )
        if difference is not None:
            slowest = max(timed, key=lambda item: item[2] - item[1])[0]
            found.append(([pair.request.id for pair, _, _ in timed], request_class, difference, slowest))
    return found


def _verdicts(run: Run) -> list[Item]:
    """One difference per requirement whose verdict differs; the curl lines of a request that shows it."""
    pairs = {pair.request.id: pair for pair in run.pairs}

    def shown_by(requirement_id: str) -> Pair | None:
        for side in (run.new, run.old):
            for test_id, _seed, _finding in side.results.requirements[requirement_id].evidence:
                if test_id in pairs:
                    return pairs[test_id]
        return None

    return [
        ([], requirement_id, difference, shown_by(requirement_id))
        for requirement_id, difference in verdict_differences(run.old.verdicts(), run.new.verdicts())
    ]


def _side(side: Side, answers: list[Any]) -> dict[str, Any]:
    usage = side.usage
    latencies = [
        answer.exchange.elapsed_ms
        for answer in answers
        if answer.exchange is not None and answer.exchange.response is not None
    ]
    figures = latency_figures(latencies, side.policy.latency_budget_ms)
    return {
        "label": side.label,
        "kind": "live" if side.live else "recording",
        "where": side.where,
        "answered": sum(answer.exchange is not None for answer in answers),
        "requests_sent": usage.requests if usage is not None else None,
        "successes": usage.successes if usage is not None else None,
        "not_sent": sum(answer.exchange is None for answer in answers),
        "stopped": side.stopped,
        "verdict": side.overall(),
        "blocking": side.blocking(),
        "verdicts": side.verdicts(),
        "latency_ms": {key: figures[key] for key in ("count", "p50", "p95", "max")},
    }


def _curls(pair: Pair | None) -> dict[str, str | None]:
    def curl(exchange: Exchange | None) -> str | None:
        return None if exchange is None else exchange.curl()

    if pair is None:
        return {"old": None, "new": None}
    return {"old": curl(pair.old.exchange), "new": curl(pair.new.exchange)}


@cache
def compare_schema() -> dict[str, Any]:
    """The JSON Schema of compare.json, shipped with the package."""
    return json.loads(resources.files(__package__).joinpath("compare.schema.json").read_text("utf-8"))


def to_json(summary: dict[str, Any]) -> str:
    return json.dumps(summary, indent=2, ensure_ascii=False) + "\n"
