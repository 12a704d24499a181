"""How a problem is told to a person: requirement, what was sent, what came back, how to replay it.

Used by the failure messages of the tests and by every report, so QA reads
the same evidence in the terminal, in JUnit and in the HTML report.
"""

from __future__ import annotations

from .catalog import load_catalog
from .exchange import Exchange, excerpt
from .verdict import Finding

BODY_EXCERPT = 600


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
        lines.append(f"       {excerpt(response.body, BODY_EXCERPT)}")
    lines.append(f"  reproduce: {exchange.curl()}")
    return lines
