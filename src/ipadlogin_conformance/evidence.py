"""How a problem is told to a person: requirement, what was sent, what came back, how to replay it.

Used by the failure messages of the tests and by every report, so QA reads
the same evidence in the terminal, in JUnit and in the HTML report.
"""

from __future__ import annotations

from typing import Any

from .catalog import load_catalog
from .exchange import Exchange, excerpt, shown_body
from .verdict import Finding

BODY_EXCERPT = 600
MAX_HEADERS = 40
HEADER_EXCERPT = 300


def describe(finding: Finding, seed: int | None = None) -> str:
    requirement = load_catalog()[finding.requirement]
    lines = [
        f"{requirement.id} ({requirement.level.value}) {finding.outcome.value}: {finding.detail}",
        f"  requirement: {requirement.statement}",
    ]
    if requirement.should and finding.outcome.value == "warn":
        lines.append(f"  should: {requirement.should}")
    if finding.exchange is not None:
        lines += describe_exchange(finding.exchange)
    if seed is not None:
        lines.append(f"  hypothesis seed: {seed} (replay: --hypothesis-seed={seed})")
    return "\n".join(lines)


def describe_exchange(exchange: Exchange) -> list[str]:
    request = exchange.request
    lines = [f"  sent: {request.method} {request.url}"]
    if request.body is not None:
        lines.append(f"        body: {excerpt(request.body, 200)}")
    response = exchange.response
    if response is None:
        lines.append(f"  got: no response ({exchange.error}) after {exchange.elapsed_ms:.0f} ms")
    else:
        content_type = next((v for k, v in response.headers if k.lower() == "content-type"), "-")
        lines.append(f"  got: HTTP {response.status}, Content-Type {content_type}, {exchange.elapsed_ms:.0f} ms")
        lines.append(f"       {shown_body(response, BODY_EXCERPT)}")
    lines.append(f"  reproduce: {exchange.curl()}")
    return lines


def evidence_data(test_id: str, seed: int | None, finding: Finding) -> dict[str, Any]:
    """The evidence :func:`describe` tells, as data: summary.json stores it, the HTML report shows it."""
    return {
        "test": test_id,
        "outcome": finding.outcome.value,
        "detail": finding.detail,
        "seed": seed,
        "replay": None if seed is None else f"--hypothesis-seed={seed}",
        "message": describe(finding, seed),
        "exchange": None if finding.exchange is None else exchange_data(finding.exchange),
    }


def exchange_data(exchange: Exchange) -> dict[str, Any]:
    """An exchange cut to what a reader needs (excerpts, a bounded header list) plus its curl line."""
    request, response = exchange.request, exchange.response
    return {
        "request": {
            "method": request.method,
            "url": request.url,
            "headers": _headers(request.headers),
            "body": None if request.body is None else excerpt(request.body, BODY_EXCERPT),
            "body_bytes": None if request.body is None else len(request.body),
        },
        "response": None
        if response is None
        else {
            "status": response.status,
            "headers": _headers(response.headers),
            "body": shown_body(response, BODY_EXCERPT),
            "body_bytes": len(response.body) if response.withheld is None else response.withheld,
            "truncated": response.truncated,
        },
        "error": exchange.error,
        "timed_out": exchange.timed_out,
        "elapsed_ms": round(exchange.elapsed_ms, 1),
        "curl": exchange.curl(),
    }


def _headers(headers: tuple[tuple[str, str], ...]) -> list[list[str]]:
    """A hostile server may send thousands of headers or huge values: keep the first few, cut long ones."""
    return [[_cut(name), _cut(value)] for name, value in headers[:MAX_HEADERS]]


def _cut(text: str, limit: int = HEADER_EXCERPT) -> str:
    return text[:limit] + ("…" if len(text) > limit else "")
