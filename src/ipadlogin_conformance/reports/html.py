"""report.html: one self-contained page a vendor can attach or publish.

Rendered with Jinja2 from the summary (see :mod:`.summary`), with autoescape
on for every value: server bodies and headers are hostile input. No script,
no external resource; CSS is inlined and the latency chart is inline SVG,
whose geometry is computed here so the template only draws.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import jinja2

from ..contract.catalog import AREAS
from .latency import nice_step
from .text import one_line, visible

VERDICTS = {
    # verdict: (symbol, label); the colour comes from the CSS class, the meaning never only from it
    "pass": ("✓", "Pass"),
    "fail": ("✗", "Fail"),
    "warn": ("!", "Warning"),
    "not verified": ("?", "Not verified"),
    "not run": ("–", "Not run"),
    "incomplete": ("◌", "Incomplete"),  # the run's verdict only (see overall.py)
}
CHART_WIDTH, CHART_HEIGHT = 760, 260
MARGIN = {"left": 52, "right": 16, "top": 28, "bottom": 40}


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("ipadlogin_conformance.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(visible=visible, one_line=one_line, ms=ms, css=lambda verdict: verdict.replace(" ", "-"))
    environment.globals.update(VERDICTS=VERDICTS)
    return environment


def ms(value: float) -> str:
    """Milliseconds to read, not to compute with: three significant digits, whole numbers from 100."""
    return f"{value:.0f}" if value >= 100 else f"{value:.3g}"


def render_html(summary: dict[str, Any]) -> str:
    """The report page for a summary."""
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            s=summary,
            areas=group_by_area(summary["requirements"]),
            problems=[item for item in summary["requirements"] if item["verdict"] in ("fail", "warn")],
            unverified=[item for item in summary["requirements"] if item["verdict"] == "not verified"],
            chart=latency_chart(summary["latency_ms"]),
        )
    )


def group_by_area(requirements: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(area title, requirements) in the catalog's area order, empty areas left out."""
    groups = [(title, [item for item in requirements if item["area"] == area]) for area, title in AREAS.items()]
    return [(title, items) for title, items in groups if items]


def latency_chart(latency: dict[str, Any]) -> dict[str, Any] | None:
    """Bars, axes and marker lines of the latency histogram in SVG user units (None: no data)."""
    bins = list(latency["histogram"])
    if not bins:
        return None
    overflow = latency["overflow"]
    slots = len(bins) + (2 if overflow else 0)  # a gap, then the overflow bar
    plot_w = CHART_WIDTH - MARGIN["left"] - MARGIN["right"]
    plot_h = CHART_HEIGHT - MARGIN["top"] - MARGIN["bottom"]
    slot_w = plot_w / slots
    top_count = max([item["count"] for item in bins] + [overflow["count"] if overflow else 0])
    y_step = nice_step(top_count / 4)
    y_max = max(y_step, math.ceil(top_count / y_step) * y_step)
    base = MARGIN["top"] + plot_h

    def bar(index: int, item: dict[str, Any], label: str) -> dict[str, Any]:
        height = plot_h * item["count"] / y_max
        return {
            "x": MARGIN["left"] + index * slot_w + 1,
            "y": base - height,
            "w": max(slot_w - 2, 1),
            "h": height,
            "title": f"{label}: {item['count']} calls",
        }

    bars = [bar(i, item, f"{item['from']:g}–{item['to']:g} ms") for i, item in enumerate(bins)]
    over = (
        None
        if not overflow
        else bar(slots - 1, overflow, f"over {ms(overflow['from'])} ms (up to {ms(overflow['to'])} ms)")
    )
    low, high = bins[0]["from"], bins[-1]["to"]

    def x_of(value: float) -> float:
        return MARGIN["left"] + (value - low) / (high - low) * len(bins) * slot_w

    every = max(1, math.ceil(len(bins) / 6))
    x_ticks = [{"x": x_of(edge), "label": f"{edge:g}"} for edge in [item["from"] for item in bins[::every]] + [high]]
    y_ticks = [{"y": base - plot_h * value / y_max, "label": f"{value:g}"} for value in _range(0, y_max, y_step)]
    markers = []
    for name, value, css in (
        ("p50", latency["p50"], "p50"),
        ("p95", latency["p95"], "p95"),
        ("budget", latency["budget_p95"], "budget"),
    ):
        if value is not None and low <= value <= high:
            markers.append({"x": x_of(value), "label": f"{name} {ms(value)} ms", "css": css})
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": MARGIN["left"],
        "right": CHART_WIDTH - MARGIN["right"],
        "top": MARGIN["top"],
        "base": base,
        "bars": bars,
        "overflow": over,
        "overflow_label_x": None if over is None else over["x"] + over["w"] / 2,
        "x_ticks": x_ticks,
        "y_ticks": y_ticks,
        "markers": markers,
        "budget_off_chart": latency["budget_p95"] > high,
    }


def _range(start: float, stop: float, step: float) -> list[float]:
    count = int(round((stop - start) / step))
    return [start + i * step for i in range(count + 1)]


def render_page(source: str, **context: Any) -> str:
    """Another page in the report's look (``compare.html``): this environment, its filters and report.css."""
    return _environment().from_string(source).render(**context)
