"""summary.md: the short verdict for a CI job page (also appended to $GITHUB_STEP_SUMMARY).

Only the verdict, a setup problem if one is suspected, the counts and one line per failed or warned requirement:
the evidence and the reproduction live in report.html and summary.json.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .text import markdown_text

ICONS = {"pass": "✅", "warn": "⚠️", "fail": "❌", "not verified": "❔", "not run": "⏸️", "incomplete": "⏹️"}
STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def render_markdown(summary: dict[str, Any]) -> str:
    verdict = summary["verdict"]
    lines = [f"## iPadLogin conformance: {ICONS[verdict]} {verdict.upper()}", ""]
    diagnosis = summary["diagnosis"]
    if diagnosis:
        lines += [
            f"> **Probably a setup problem, not the server's:** {markdown_text(diagnosis['finding'], 400)} "
            f"{markdown_text(diagnosis['advice'], 300)}",
            "",
        ]
    lines += [markdown_text(summary["verdict_reason"], 600), ""]
    if not summary["complete"]:
        reasons = "; ".join(markdown_text(reason, 400) for reason in summary["incomplete_reasons"])
        lines += [f"> **Incomplete run: the verdicts are partial.** {reasons}", ""]
    spec = summary["spec"]
    lines += [
        f"Target {_target(summary['target'])} · profile **{summary['profile']}** · "
        f"suite {summary['suite']['version']} · spec {markdown_text(spec['version'])} (sha256 {spec['sha256'][:12]}…) · "
        f"{summary['started']}",
        "",
        f"Exit status {summary['exit_status']['code']}: {summary['exit_status']['meaning']}",
        "",
        "| " + " | ".join(f"{ICONS[name]} {name}" for name in summary["totals"]) + " |",
        "|" + "---:|" * len(summary["totals"]),
        "| " + " | ".join(str(count) for count in summary["totals"].values()) + " |",
        "",
    ]
    problems = [item for item in summary["requirements"] if item["verdict"] in ("fail", "warn")]
    if problems:
        lines += ["| Requirement | Level | Verdict | What went wrong |", "|---|---|---|---|"]
        for item in problems:
            first = item["evidence"][0]["detail"] if item["evidence"] else item["statement"]
            lines.append(
                f"| {item['id']} | {item['level']} | {ICONS[item['verdict']]} {item['verdict']} | {markdown_text(first)} |"
            )
        lines.append("")
    lines += [_budget_line(summary), "", "Details and reproductions: `report.html`, `summary.json`, `junit.xml`.", ""]
    return "\n".join(lines)


def _target(target: dict[str, Any]) -> str:
    """The target and where it came from (the embedded server's source says it all)."""
    label = markdown_text(target["label"])
    return label if target["embedded"] else f"{label} (from {markdown_text(target['source'])})"


def _budget_line(summary: dict[str, Any]) -> str:
    budget, latency = summary["budget"], summary["latency_ms"]
    cap = "no cap" if budget["success_budget"] is None else f"budget {budget['success_budget']}"
    line = f"Requests {budget['requests']} · successes {budget['successes']} ({cap})"
    if budget["refused"]:
        line += f" · not sent (budget spent) {budget['refused']}"
    if latency["count"]:
        line += f" · latency p50 {latency['p50']:g} ms, p95 {latency['p95']:g} ms, max {latency['max']:g} ms"
    return line


def append_step_summary(text: str, environ: Mapping[str, str]) -> Path | None:
    """Append to the GitHub Actions job summary when the runner provides one."""
    target = environ.get(STEP_SUMMARY_ENV)
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text + "\n")
    return path
