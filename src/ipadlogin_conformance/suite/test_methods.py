"""METH-1: only POST may succeed on /iPadLogin."""

from __future__ import annotations

import pytest

from ipadlogin_conformance.suite.probes import STANDARD_METHODS, UNKNOWN_METHOD, method_call


@pytest.mark.requirement("METH-1")
@pytest.mark.parametrize(
    "method",
    [
        pytest.param(method, marks=pytest.mark.login_call(method_call(method)))
        for method in (*STANDARD_METHODS, UNKNOWN_METHOD)
    ],
)
def test_other_method_refused(method: str, judge, sent_ahead) -> None:
    judge.other_method(sent_ahead(), method_is_standard=method != UNKNOWN_METHOD)
