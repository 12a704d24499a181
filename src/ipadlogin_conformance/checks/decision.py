"""AUTH-1..3 and REQ-1..10: did the server accept or reject what it had to?

These checks judge the server's decision only; the form of the envelope that
carried it is the envelope checks' business.
"""

from __future__ import annotations

from ..core.exchange import Exchange, excerpt
from ..core.policy import Expect
from ..core.verdict import Finding, passed, violated
from .envelope import Decision, Envelope


def expected_outcome(exchange: Exchange, envelope: Envelope, expect: Expect, requirement_id: str) -> Finding:
    """The request class of ``requirement_id`` got the outcome it must get (an unanswered request: see transport.py).

    A class that only SHOULD succeed breaks just the SHOULD clause, whatever came
    instead; a crash there is still ENV-8's failure.
    """
    response = exchange.response
    assert response is not None
    should = expect is Expect.SHOULD_SUCCEED
    if expect in (Expect.SUCCESS, Expect.SHOULD_SUCCEED):
        if envelope.decision is Decision.ACCEPTED:
            return passed(requirement_id, exchange)
        return violated(
            requirement_id, f"expected a success, got {_describe(exchange, envelope)}", exchange, should_clause=should
        )
    if response.status >= 500:
        return violated(requirement_id, f"expected {_wanted(expect)}, got {_describe(exchange, envelope)}", exchange)
    if expect is Expect.FAILURE and envelope.decision is Decision.ACCEPTED:
        return violated(requirement_id, f"expected a failure, got a success: {_describe(exchange, envelope)}", exchange)
    return passed(requirement_id, exchange)


def _wanted(expect: Expect) -> str:
    return "a failure envelope" if expect is Expect.FAILURE else "an envelope"


def _describe(exchange: Exchange, envelope: Envelope) -> str:
    response = exchange.response
    assert response is not None
    if envelope.decision is Decision.UNKNOWN:
        return f"HTTP {response.status} without an envelope ({excerpt(response.body, 120)!r})"
    return f"HTTP {response.status} with code {envelope.code!r}"
