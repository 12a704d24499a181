"""METH-1: other methods on /iPadLogin do not succeed and do not crash the server."""

from __future__ import annotations

from ..core.exchange import Exchange
from ..core.verdict import Finding, passed, violated
from .envelope import Decision, read_envelope


def other_method_refused(exchange: Exchange, *, method_is_standard: bool = True) -> Finding:
    """405 or a failure envelope; no 5xx but 501 for a method the server does not know."""
    response = exchange.response
    method = exchange.request.method
    if response is None:
        return violated("METH-1", f"{method}: no answer: {exchange.error}", exchange)
    if response.status >= 500 and not (response.status == 501 and not method_is_standard):
        return violated("METH-1", f"{method} answered HTTP {response.status}", exchange)
    decision = read_envelope(exchange).decision
    if decision is Decision.ACCEPTED:
        return violated("METH-1", f"{method} succeeded (code 1000); only POST may", exchange)
    if 200 <= response.status < 300 and decision is not Decision.REJECTED:
        return violated("METH-1", f"{method} answered HTTP {response.status} without a failure envelope", exchange)
    return passed("METH-1", exchange)
