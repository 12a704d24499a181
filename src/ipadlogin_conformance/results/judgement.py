"""How an exchange is judged, written on the exchange itself.

A test labels each exchange with the judgement that applies (a login with its
expected outcome and requirement IDs, another method, a QR image) and the
findings are computed from those labels only. A live run and the replay of
its cassette therefore call the same checks with the same arguments: the
labels are the whole input besides the exchange and the policy.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

from ..checks import Expect, Policy, judge_login, other_method_refused, qr_image_decodes
from ..core.exchange import Exchange
from ..core.verdict import Finding
from .records import TestRecord

SENT_AT = "sent_at"


class Judgement(str, enum.Enum):
    LOGIN = "login"
    """POST /iPadLogin: the request class's requirements, the envelope, the time."""
    OTHER_METHOD = "other-method"
    """Another method on /iPadLogin (METH-1)."""
    QR = "qr"
    """GET qrCodeUrl (DATA-3)."""


def label_login(exchange: Exchange, expect: Expect, requirement_ids: Iterable[str]) -> Exchange:
    exchange.labels.update(judgement=Judgement.LOGIN.value, expect=expect.value, requirements=list(requirement_ids))
    return exchange


def label_other_method(exchange: Exchange, *, method_is_standard: bool = True) -> Exchange:
    exchange.labels.update(judgement=Judgement.OTHER_METHOD.value, method_is_standard=method_is_standard)
    return exchange


def label_qr(exchange: Exchange, *, unreachable: bool, base_url: str) -> Exchange:
    """``base_url``: the API's, whose host the suite reached (DATA-3 blames an unreachable QR URL there)."""
    exchange.labels.update(judgement=Judgement.QR.value, unreachable=unreachable, api_host=urlsplit(base_url).hostname)
    return exchange


def judge_labeled(exchange: Exchange, policy: Policy) -> list[Finding]:
    """The findings for an exchange, from its labels (raises KeyError/ValueError when unlabeled)."""
    labels = exchange.labels
    kind = Judgement(labels["judgement"])
    if kind is Judgement.LOGIN:
        return judge_login(exchange, Expect(labels["expect"]), labels["requirements"], policy)
    if kind is Judgement.OTHER_METHOD:
        return [other_method_refused(exchange, method_is_standard=labels["method_is_standard"])]
    # A cassette recorded before api_host was labeled judges as it did then.
    return [qr_image_decodes(exchange, unreachable=labels["unreachable"], api_host=labels.get("api_host"))]


def judge_into(
    record: TestRecord, exchange: Exchange, policy: Policy, findings: list[Finding] | None = None
) -> list[Finding]:
    """Judge a labeled exchange and keep it, its findings and (for a login) its latency and answer on the record.

    ``findings`` given: judged already (a cassette entry whose body was cut), recorded as they are.
    """
    if findings is None:
        findings = judge_labeled(exchange, policy)
    # When it was sent (epoch seconds), for the cassette's timeline; a replay keeps the recorded one.
    exchange.labels.setdefault(SENT_AT, time.time() - exchange.elapsed_ms / 1000)
    if exchange.labels["judgement"] == Judgement.LOGIN.value:
        record.answers.observe(exchange, Expect(exchange.labels["expect"]), exchange.labels["requirements"])
        if exchange.response is not None:
            record.latencies_ms.append(exchange.elapsed_ms)
    record.add_judged(exchange, findings)
    return findings
