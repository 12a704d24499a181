"""The terminal table of a comparison, rendered from compare.json's data only.

Server text (messages, codes, errors) goes through :func:`~ipadlogin_conformance.reports.text.one_line`:
a hostile server's control characters never reach the terminal.
"""

from __future__ import annotations

from typing import Any

from ..reports.text import one_line, visible
from .summary import differences_of

WIDTH = 80
CURL_GROUPS = 5
"""Groups whose first request's curl lines the table shows; compare.json and compare.html hold them all."""
CURL_CHARS = 400


def render_text(summary: dict[str, Any]) -> str:
    lines = [" iPadLogin compare ".center(WIDTH, "=")]
    old, new = summary["old"], summary["new"]
    lines.append(
        f"OLD {one_line(old['where'], 200)} ({old['kind']}) · NEW {one_line(new['where'], 200)} ({new['kind']})"
    )
    counts = summary["requests"]
    lines.append(
        f"requests {counts['total']} · compared {counts['compared']} · differing {counts['differing']} · not compared {counts['not_compared']}"
    )
    lines += [f"note: {one_line(note, 400)}" for note in summary["notes"]]
    groups = summary["groups"]
    if groups:
        lines.append(f"{'kind':<14}{'count':>6}  difference")
        for group in groups:
            lines.append(f"{group['kind']:<14}{group['count'] or '':>6}  {one_line(group['sentence'], 300)}")
    else:
        lines.append("no difference" + (" among the requests compared" if counts["not_compared"] else ""))
    if summary["ignored"]:
        lines.append(
            "ignored (--ignore): " + ", ".join(f"{kind} {count}" for kind, count in summary["ignored"].items())
        )
    for side in (old, new):
        if side["stopped"]:
            lines.append(f"{side['label']} stopped sending: {one_line(side['stopped'], 300)}")
    if summary["not_compared"]:
        ids = [item["request"] for item in summary["not_compared"]]
        lines.append(
            f"not compared: {len(ids)} request{'s' if len(ids) != 1 else ''} ({one_line(', '.join(ids), 200)}): "
            f"{one_line(summary['not_compared'][0]['why'], 200)}"
        )
    lines.append("contract: " + " · ".join(_verdict(side) for side in (old, new)))
    lines.append("sent: " + " · ".join(_usage(side, summary["settings"]) for side in (old, new)))
    lines += _curl_lines(summary)
    lines.append(
        f"result: {summary['result'].upper()} (exit {summary['exit_status']['code']}: {summary['exit_status']['meaning']})"
    )
    return "\n".join(lines) + "\n"


def _verdict(side: dict[str, Any]) -> str:
    problems = [f"{rid} {verdict}" for rid, verdict in side["verdicts"].items() if verdict in ("fail", "warn")]
    return f"{side['label']} {side['verdict']}" + (f" ({', '.join(problems)})" if problems else "")


def _usage(side: dict[str, Any], settings: dict[str, Any]) -> str:
    """What a live side used of its budget (the suite says so to every live target)."""
    if side["requests_sent"] is None:
        return f"{side['label']} recorded ({side['answered']} answers)"
    budget = (
        "no success budget" if settings["success_budget"] is None else f"success budget {settings['success_budget']}"
    )
    return f"{side['label']} {side['requests_sent']} requests, {side['successes']} successes ({budget})"


def _curl_lines(summary: dict[str, Any]) -> list[str]:
    """The first request of the first groups, as curl lines of both sides ($IPADLOGIN_TOKEN stands for the token)."""
    shown = []
    for group in summary["groups"][:CURL_GROUPS]:
        difference = next(iter(differences_of(summary, group)), None)
        if difference is None or not any(difference["curl"].values()):
            continue
        subject = f"requirement {group['class']}" if group["kind"] == "verdict" else f"class {group['class']}"
        shown.append(
            f"  {group['kind']}, {subject}" + (f", {difference['request']}" if difference["request"] else "") + ":"
        )
        for label in ("old", "new"):
            curl = difference["curl"][label]
            if curl is not None:
                cut = visible(curl[:CURL_CHARS]) + (" …" if len(curl) > CURL_CHARS else "")
                shown.append(f"    {label.upper()}: {cut}")
    if not shown:
        return []
    more = " (every one: compare.json, compare.html)" if len(summary["groups"]) > CURL_GROUPS else ""
    return ["reproduce ($IPADLOGIN_TOKEN stands for each side's token):" + more, *shown]
