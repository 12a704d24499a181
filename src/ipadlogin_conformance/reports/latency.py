"""Latency figures and a histogram of the answered logins, for summary.json and the HTML chart.

The bins have a "nice" width (1, 2, 2.5 or 5 times a power of ten) and span
the bulk of the distribution; a long tail (a hanging re-login) goes into one
overflow bin so it does not flatten the chart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..checks.timing import percentile

TARGET_BINS = 24


def latency_figures(latencies_ms: Sequence[float], budget_p95_ms: float) -> dict[str, Any]:
    """count, p50, p95, max and the histogram; figures are None when no call was answered."""
    if not latencies_ms:
        return {
            "count": 0,
            "p50": None,
            "p95": None,
            "max": None,
            "budget_p95": budget_p95_ms,
            "histogram": [],
            "overflow": None,
        }
    bins, overflow = histogram(latencies_ms)
    return {
        "count": len(latencies_ms),
        "p50": round(percentile(latencies_ms, 0.50), 2),
        "p95": round(percentile(latencies_ms, 0.95), 2),
        "max": round(max(latencies_ms), 2),
        "budget_p95": budget_p95_ms,
        "histogram": bins,
        "overflow": overflow,
    }


def histogram(values: Sequence[float]) -> tuple[list[dict[str, float]], dict[str, float] | None]:
    """Bins ``{"from", "to", "count"}`` over [low, high) and the overflow bin above ``high`` (or None)."""
    top = percentile(values, 0.99)
    high = max(values) if max(values) <= 1.5 * top else top
    low = min(values)
    step = nice_step((high - low) / TARGET_BINS if high > low else max(high, 1.0) / 10)
    start = math.floor(low / step) * step
    count = max(1, math.floor((high - start) / step) + 1)
    counts = [0] * count
    over = 0
    for value in values:
        index = math.floor((value - start) / step)
        if index < count:
            counts[index] += 1
        else:
            over += 1
    end = start + count * step
    digits = max(0, 2 - math.floor(math.log10(step)))  # edges exact to the bin width, not float noise

    def edge(value: float) -> float:
        return round(value, digits)

    bins = [
        {"from": edge(start + i * step), "to": edge(start + (i + 1) * step), "count": n} for i, n in enumerate(counts)
    ]
    overflow = None if not over else {"from": edge(end), "to": max(values), "count": over}
    return bins, overflow


def nice_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is at least ``raw``."""
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * power >= raw * (1 - 1e-9):
            return factor * power
    return 10 * power
