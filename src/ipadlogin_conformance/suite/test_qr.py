"""DATA-3: the qrCodeUrl of a success serves a PNG that decodes as a QR code."""

from __future__ import annotations

import json

import pytest

from ipadlogin_conformance.checks import Decision, Expect, qr_image_decodes, read_envelope
from ipadlogin_conformance.exchange import json_dumps
from ipadlogin_conformance.verdict import not_verified


@pytest.mark.requirement("DATA-3", "AUTH-3", "REQ-1")
def test_qr_code_url_serves_a_qr_code(target, judge) -> None:
    login = target.login(json_dumps({"type": 2}))
    judge.login(login, Expect.SUCCESS, "AUTH-3", "REQ-1")
    envelope = read_envelope(login)
    data = envelope.body.get("data") if isinstance(envelope.body, dict) else None
    url = data.get("qrCodeUrl") if isinstance(data, dict) else None
    if envelope.decision is not Decision.ACCEPTED or not isinstance(url, str):
        judge.add(not_verified("DATA-3", "no success with a qrCodeUrl to fetch", login))
        return
    if not url.lower().startswith(("http://", "https://")):
        judge.add(not_verified("DATA-3", f"qrCodeUrl {json.dumps(url)[:80]} is not an http(s) URL (DATA-2)", login))
        return
    exchange, unreachable = target.fetch_qr(url)
    judge.add(qr_image_decodes(exchange, unreachable=unreachable))
