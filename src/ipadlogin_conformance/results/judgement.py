"""How an exchange is judged, written on the exchange itself.

A test labels each exchange with the judgement that applies (a login with its
expected outcome and requirement IDs, another method, a QR image) and the
findings are computed from that label only (see :mod:`..core.label`). A live
run and the replay of its cassette therefore call the same checks with the
same arguments: the label is the whole input besides the exchange and the policy.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace
from urllib.parse import urlsplit

from ..checks import Expect, Policy, judge_login, other_method_refused, qr_image_decodes
from ..core.exchange import Exchange
from ..core.label import Judgement
from ..core.verdict import Finding
from .records import TestRecord


def label_login(exchange: Exchange, expect: Expect, requirement_ids: Iterable[str]) -> Exchange:
    label = replace(exchange.label, judgement=Judgement.LOGIN, expect=expect, requirements=tuple(requirement_ids))
    return replace(exchange, label=label)


def label_other_method(exchange: Exchange, *, method_is_standard: bool = True) -> Exchange:
    label = replace(exchange.label, judgement=Judgement.OTHER_METHOD, method_is_standard=method_is_standard)
    return replace(exchange, label=label)


def label_qr(exchange: Exchange, *, unreachable: bool, base_url: str) -> Exchange:
    """``base_url``: the API's, whose host the suite reached (DATA-3 blames an unreachable QR URL there)."""
    label = replace(
        exchange.label, judgement=Judgement.QR, unreachable=unreachable, api_host=urlsplit(base_url).hostname
    )
    return replace(exchange, label=label)


def judge_labeled(exchange: Exchange, policy: Policy) -> list[Finding]:
    """The findings for an exchange, from its label (raises ValueError when it has none)."""
    label = exchange.label
    if label.judgement is Judgement.LOGIN and label.expect is not None:
        return judge_login(exchange, label.expect, label.requirements, policy)
    if label.judgement is Judgement.OTHER_METHOD:
        return [other_method_refused(exchange, method_is_standard=label.method_is_standard)]
    if label.judgement is Judgement.QR:
        # A cassette recorded before api_host was labeled judges as it did then.
        return [qr_image_decodes(exchange, unreachable=label.unreachable, api_host=label.api_host)]
    raise ValueError(
        f"an exchange without a judgement cannot be judged: {exchange.request.method} {exchange.request.url}"
    )


def judge_into(
    record: TestRecord, exchange: Exchange, policy: Policy, findings: list[Finding] | None = None
) -> list[Finding]:
    """Judge a labeled exchange and keep it, its findings and (for a login) its latency and answer on the record.

    ``findings`` given: judged already (a cassette entry whose body was cut), recorded as they are.
    """
    if exchange.label.sent_at is None:  # a replay keeps the recorded time (and its findings, this exchange)
        exchange = replace(exchange, label=replace(exchange.label, sent_at=time.time() - exchange.elapsed_ms / 1000))
    if findings is None:
        findings = judge_labeled(exchange, policy)
    if exchange.label.judgement is Judgement.LOGIN and exchange.label.expect is not None:
        record.answers.observe(exchange, exchange.label.expect, exchange.label.requirements)
        if exchange.response is not None:
            record.latencies_ms.append(exchange.elapsed_ms)
    record.add_judged(exchange, findings)
    return findings
