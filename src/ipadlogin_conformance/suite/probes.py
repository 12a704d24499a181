"""The suite's deterministic requests as one list product code can send: cases, other methods, QR, re-login.

The tests send them one per test (test_cases, test_methods, test_qr,
test_relogin); the vendor guide and ``compare`` need them as a list, each
labeled for judgement, so they send exactly what the suite sends.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from ..checks import Decision, Expect, read_envelope
from ..client.concurrency import LoginCall
from ..client.target import Target
from ..core.exchange import Exchange, json_dumps
from ..results.judgement import label_login, label_other_method, label_qr
from .cases import Case, load_cases, send

STANDARD_METHODS = ("GET", "PUT", "PATCH", "DELETE")
UNKNOWN_METHOD = "BREW"


@dataclass(frozen=True)
class Probe:
    """One request the suite sends, labeled for judgement; None when it cannot be made (no QR URL)."""

    name: str
    description: str
    send: Callable[[Target], Exchange | None]
    requirements: tuple[str, ...] = ()
    """The requirements the request was written for (a case's)."""
    plain: bool = False
    """A valid token under the usual header names and Content-Type: the most typical request."""
    key: str = ""
    """A short stable identifier (the case id, ``method-GET``, ``qr-fetch``, ``known-relogin``)."""


def probes(known_wcid: str | None) -> list[Probe]:
    """The suite's requests, in a fixed order: the hand-written cases, the other methods, the QR fetch,
    and the re-login of ``known_wcid`` when one is given."""
    found = [
        Probe(
            f"case `{case.id}`",
            case.description,
            lambda target, case=case: label_login(send(case, target), case.expect, case.requirements),
            case.requirements,
            _plain(case),
            case.id,
        )
        for case in load_cases()
    ]
    found += [
        Probe(
            f"method `{method}`",
            f"{method} /iPadLogin",
            lambda target, method=method: label_other_method(
                send_method(method, target), method_is_standard=method != UNKNOWN_METHOD
            ),
            ("METH-1",),
            key=f"method-{method}",
        )
        for method in (*STANDARD_METHODS, UNKNOWN_METHOD)
    ]
    found.append(
        Probe("QR fetch", "GET the qrCodeUrl of a successful first login", _fetch_qr, ("DATA-3",), key="qr-fetch")
    )
    if known_wcid is not None:
        found.append(
            Probe(
                "known re-login",
                "a re-login of the account the server knows (`--known-wcid`)",
                lambda target: _known_relogin(target, known_wcid),
                ("REQ-7",),
                key="known-relogin",
            )
        )
    return found


def _known_relogin(target: Target, wcid: str) -> Exchange:
    """test_relogin's request."""
    return label_login(target.login(json_dumps({"type": 2, "wcId": wcid})), Expect.SUCCESS, ["REQ-7"])


def _plain(case: Case) -> bool:
    defaults = Case(case.id, case.requirements, case.expect, case.body)
    return (case.token, case.token_header, case.content_type, case.content_type_header) == (
        defaults.token,
        defaults.token_header,
        defaults.content_type,
        defaults.content_type_header,
    )


def _fetch_qr(target: Target) -> Exchange | None:
    url, _why_not = qr_code_url(target.login(json_dumps({"type": 2})))
    if url is None:
        return None
    exchange, unreachable = target.fetch_qr(url)
    return label_qr(exchange, unreachable=unreachable, base_url=target.config.base_url)


def method_call(method: str) -> LoginCall:
    """Another method on /iPadLogin (METH-1): test_methods sends it (ahead, in flight), the vendor guide shows it."""
    body = None if method in ("GET", "DELETE") else json_dumps({"type": 2})
    return LoginCall(body, method=method, content_type=None if body is None else "application/json")


def send_method(method: str, target: Target) -> Exchange:
    return method_call(method).send(target)


def qr_code_url(login: Exchange) -> tuple[str | None, str]:
    """The http(s) qrCodeUrl of a successful login, or None and why there is none to fetch."""
    envelope = read_envelope(login)
    data = envelope.body.get("data") if isinstance(envelope.body, dict) else None
    url = data.get("qrCodeUrl") if isinstance(data, dict) else None
    if envelope.decision is not Decision.ACCEPTED or not isinstance(url, str):
        return None, "no success with a qrCodeUrl to fetch"
    if not url.lower().startswith(("http://", "https://")):
        return None, f"qrCodeUrl {json.dumps(url)[:80]} is not an http(s) URL (DATA-2)"
    return url, ""
