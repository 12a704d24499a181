"""REQ-7: a re-login of an account the target knows succeeds."""

from __future__ import annotations

import pytest

from ipadlogin_conformance.checks import Expect
from ipadlogin_conformance.core.exchange import json_dumps


@pytest.mark.requirement("REQ-7")
def test_known_wcid_relogin_succeeds(target, judge, ipadlogin_settings) -> None:
    wcid = ipadlogin_settings.known_wcid
    if wcid is None:
        pytest.skip("no known wcId given (--known-wcid): only the answer to a re-login is checked")
    judge.login(target.login(json_dumps({"type": 2, "wcId": wcid})), Expect.SUCCESS, "REQ-7")
