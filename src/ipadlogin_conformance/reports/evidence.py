"""How a problem is told to a person: requirement, what was sent, what came back, how to send it again.

Used by the failure messages of the tests, the terminal's findings and every
report, so QA reads the same evidence in the terminal, in JUnit and in the
HTML report. Everything that came from the server (or that the suite sent to
provoke it) is escaped: no control byte reaches a terminal or a file.
"""

from __future__ import annotations

from typing import Any

from ..contract.catalog import load_catalog
from ..core.exchange import Exchange, ReceivedResponse, excerpt, shown_body
from ..core.reproduce import Reproduction, curl_parts, request_id, resend_line
from ..core.verdict import Finding, Outcome
from .text import visible

BODY_EXCERPT = 600
REQUEST_BODY_EXCERPT = 200
MAX_HEADERS = 40
HEADER_EXCERPT = 300
NO_REPRODUCTION = Reproduction()


def describe(
    finding: Finding, seed: int | None = None, where: Reproduction = NO_REPRODUCTION, *, brief: bool = False
) -> str:
    """The finding as lines of text; ``brief``: what and where only (a warning next to failures)."""
    requirement = load_catalog()[finding.requirement]
    lines = [f"{requirement.id} ({requirement.level.value}) {finding.outcome.value}: {shown(finding.detail)}"]
    if not brief:
        lines.append(f"  requirement: {requirement.statement}")
        if requirement.should and finding.outcome is Outcome.WARN:
            lines.append(f"  should: {requirement.should}")
    if finding.exchange is not None:
        lines += reproduction_lines(finding.exchange, where) if brief else describe_exchange(finding.exchange, where)
    if seed is not None:
        lines.append(f"  hypothesis seed: {seed} (replay: --hypothesis-seed={seed})")
    return "\n".join(lines)


def describe_exchange(exchange: Exchange, where: Reproduction = NO_REPRODUCTION) -> list[str]:
    request = exchange.request
    lines = [f"  sent: {request.method} {shown(request.url)}"]
    lines += [f"        {shown(name)}: {shown(value)}" for name, value in request.headers[:MAX_HEADERS]]
    if request.body is not None:
        lines.append(f"        body: {body_text(request.body, REQUEST_BODY_EXCERPT)}")
    response = exchange.response
    if response is None:
        lines.append(
            f"  got: no response ({shown(exchange.error or 'unknown error')}) after {exchange.elapsed_ms:.0f} ms"
        )
    else:
        content_type = next((v for k, v in response.headers if k.lower() == "content-type"), "-")
        lines.append(f"  got: HTTP {response.status}, Content-Type {shown(content_type)}, {exchange.elapsed_ms:.0f} ms")
        lines.append(f"       {response_text(response, BODY_EXCERPT)}")
    return lines + reproduction_lines(exchange, where)


def reproduction_lines(exchange: Exchange, where: Reproduction = NO_REPRODUCTION) -> list[str]:
    """The curl line and, where the run has a cassette, the tool's one-liner."""
    lines = [f"  reproduce: {' '.join(curl_parts(exchange.request, where))}"]
    resend = resend_line(exchange.request, where)
    if resend is not None:
        lines.append(f"         or: {resend}")
    return lines


def shown(text: str) -> str:
    """Text on one terminal line: control, bidi and zero-width characters, newlines and tabs escaped."""
    return visible(text).replace("\n", "\\n").replace("\t", "\\t")


def body_text(body: bytes, limit: int) -> str:
    """The beginning of a body on one line; "(empty)" for no bytes at all."""
    return shown(excerpt(body, limit)) if body else "(empty)"


def response_text(response: ReceivedResponse, limit: int) -> str:
    """An answer's body on one line; only its size where the client withheld it (a QR answer that is no PNG)."""
    return shown_body(response, limit) if response.withheld is not None else body_text(response.body, limit)


def evidence_data(
    test_id: str, seed: int | None, finding: Finding, where: Reproduction = NO_REPRODUCTION
) -> dict[str, Any]:
    """The evidence :func:`describe` tells, as data: summary.json stores it, the HTML report shows it."""
    return {
        "test": test_id,
        "outcome": finding.outcome.value,
        "detail": finding.detail,
        "seed": seed,
        "replay": None if seed is None else f"--hypothesis-seed={seed}",
        "message": describe(finding, seed, where),
        "exchange": None if finding.exchange is None else exchange_data(finding.exchange, where),
    }


def exchange_data(exchange: Exchange, where: Reproduction = NO_REPRODUCTION) -> dict[str, Any]:
    """An exchange cut to what a reader needs (excerpts, a bounded header list) plus its reproduction."""
    request, response = exchange.request, exchange.response
    curl = curl_parts(request, where)
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
        "curl": " ".join(curl),
        "curl_parts": curl,
        "request_id": request_id(request),
        "resend": resend_line(request, where),
    }


def _headers(headers: tuple[tuple[str, str], ...]) -> list[list[str]]:
    """A hostile server may send thousands of headers or huge values: keep the first few, cut long ones."""
    return [[_cut(name), _cut(value)] for name, value in headers[:MAX_HEADERS]]


def _cut(text: str, limit: int = HEADER_EXCERPT) -> str:
    return text[:limit] + ("…" if len(text) > limit else "")
