"""DATA-3: the qrCodeUrl of a success serves a PNG that decodes as a QR code."""

from __future__ import annotations

import pytest

from ipadlogin_conformance.checks import Expect
from ipadlogin_conformance.core.exchange import json_dumps
from ipadlogin_conformance.core.verdict import not_verified
from ipadlogin_conformance.suite.probes import qr_code_url


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
