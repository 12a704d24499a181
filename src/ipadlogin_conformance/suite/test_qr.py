"""DATA-3: the qrCodeUrl of a success serves a PNG that decodes as a QR code."""

from __future__ import annotations

import json

import pytest

from ipadlogin_conformance.checks import Decision, Expect, read_envelope
from ipadlogin_conformance.exchange import Exchange, json_dumps
from ipadlogin_conformance.verdict import not_verified


@pytest.mark.requirement("DATA-3", "AUTH-3", "REQ-1")
def test_qr_code_url_serves_a_qr_code(target, judge) -> None:
    login = target.login(json_dumps({"type": 2}))
    judge.login(login, Expect.SUCCESS, "AUTH-3", "REQ-1")
    url, why_not = qr_code_url(login)
    if url is None:
        judge.add(not_verified("DATA-3", why_not, login))
        return
    exchange, unreachable = target.fetch_qr(url)
    judge.qr(exchange, unreachable)


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
