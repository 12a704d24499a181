"""METH-1: only POST may succeed on /iPadLogin."""

from __future__ import annotations

import pytest

from ipadlogin_conformance.suite.probes import STANDARD_METHODS, UNKNOWN_METHOD, send_method


@pytest.mark.requirement("METH-1")
@pytest.mark.parametrize("method", [*STANDARD_METHODS, UNKNOWN_METHOD])
def test_other_method_refused(method: str, target, judge) -> None:
    judge.other_method(send_method(method, target), method_is_standard=method != UNKNOWN_METHOD)
