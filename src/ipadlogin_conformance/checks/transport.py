"""Failures on the wire: one finding where the failure belongs, not one per requirement the request names.

A request that got no HTTP answer (refused, reset, closed early, a status
line or framing that is not HTTP) says nothing about whether the server
would have accepted it; it says the server did not answer in the envelope,
which is ENV-1's. A timeout is TIME-1's. The request's own requirement is
blamed as well only when its class promises nothing but an answer
(:attr:`Expect.ANSWER`: a re-login, odd wcIds, other Content-Types):
then the missing answer is exactly what it forbids.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..core.exchange import Exchange
from ..core.policy import Expect, Policy
from ..core.verdict import Finding, violated
from .timing import answered_in_time


def unanswered(exchange: Exchange, expect: Expect, requirement_ids: Iterable[str], policy: Policy) -> list[Finding]:
    """The findings of a POST /iPadLogin that got no HTTP answer."""
    what = exchange.error or "no answer"
    findings = [
        answered_in_time(exchange, policy)
        if exchange.timed_out
        else violated("ENV-1", f"no HTTP answer: {what}", exchange)
    ]
    if expect is Expect.ANSWER:
        findings += [violated(rid, f"no answer: {what}", exchange) for rid in requirement_ids]
    return findings


def broken_answer(exchange: Exchange) -> list[Finding]:
    """An answer that came with a transport error other than a timeout (a framing error after it): ENV-1."""
    if exchange.error is None or exchange.timed_out:
        return []
    return [violated("ENV-1", f"the answer is broken on the wire: {exchange.error}", exchange)]
