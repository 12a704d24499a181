"""The checks: one function per requirement, each judging an Exchange.

Checks know nothing of pytest or of the HTTP client: they take plain data
(:class:`~ipadlogin_conformance.core.exchange.Exchange`) and return findings, so the
same functions judge a live response, a replayed cassette and a fault.
:func:`judge_login` applies every check that fits one call of POST /iPadLogin.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..core.exchange import Exchange
from ..core.policy import Expect, Policy, Profile
from ..core.verdict import Finding
from .decision import expected_outcome
from .envelope import Decision, Envelope, created_a_login, judge_envelope, read_envelope
from .method import other_method_refused
from .qr import qr_image_decodes
from .timing import answered_in_time, latency_within_budget, p95
from .transport import broken_answer, unanswered

__all__ = [
    "Decision",
    "Envelope",
    "Expect",
    "Policy",
    "Profile",
    "created_a_login",
    "judge_login",
    "latency_within_budget",
    "other_method_refused",
    "p95",
    "qr_image_decodes",
    "read_envelope",
]


def judge_login(exchange: Exchange, expect: Expect, requirement_ids: Iterable[str], policy: Policy) -> list[Finding]:
    """Judge one POST /iPadLogin: its request class's requirements, the envelope, the time."""
    if exchange.response is None:
        return unanswered(exchange, expect, requirement_ids, policy)
    envelope = read_envelope(exchange, policy.profile)
    findings = [expected_outcome(exchange, envelope, expect, rid) for rid in requirement_ids]
    findings.append(answered_in_time(exchange, policy))
    findings += judge_envelope(exchange, envelope)
    return findings + broken_answer(exchange)
