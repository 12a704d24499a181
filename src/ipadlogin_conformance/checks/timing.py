"""TIME-1 (each call answered within the request timeout) and TIME-2 (p95 within budget)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..core.exchange import Exchange
from ..core.policy import Policy
from ..core.verdict import Finding, Outcome, passed, violated


def answered_in_time(exchange: Exchange, policy: Policy) -> Finding:
    """TIME-1: an answer within the request timeout."""
    if exchange.timed_out:
        return violated(
            "TIME-1", f"no complete answer within the {policy.request_timeout_s:g} s request timeout", exchange
        )
    return passed("TIME-1", exchange)


def percentile(values: Sequence[float], fraction: float) -> float:
    """A percentile by the nearest-rank method (``fraction`` 0.5 is the median); reports use it too."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def p95(latencies_ms: Sequence[float]) -> float:
    """The 95th percentile by the nearest-rank method."""
    return percentile(latencies_ms, 0.95)


def latency_within_budget(latencies_ms: Sequence[float], policy: Policy) -> Finding:
    """TIME-2: the p95 latency of the run's answered calls within the budget."""
    if not latencies_ms:
        return Finding("TIME-2", Outcome.NOT_RUN, "no call was answered")
    value = p95(latencies_ms)
    detail = f"p95 {value:.1f} ms over {len(latencies_ms)} calls, budget {policy.latency_budget_ms:g} ms"
    if value > policy.latency_budget_ms:
        return violated("TIME-2", detail)
    return Finding("TIME-2", Outcome.PASS, detail)
