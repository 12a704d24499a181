"""METH-1: only POST may succeed on /iPadLogin."""

from __future__ import annotations

import pytest

from ipadlogin_conformance.checks import other_method_refused
from ipadlogin_conformance.exchange import json_dumps

STANDARD_METHODS = ("GET", "PUT", "PATCH", "DELETE")
UNKNOWN_METHOD = "BREW"


@pytest.mark.requirement("METH-1")
@pytest.mark.parametrize("method", [*STANDARD_METHODS, UNKNOWN_METHOD])
def test_other_method_refused(method: str, target, judge) -> None:
    body = None if method in ("GET", "DELETE") else json_dumps({"type": 2})
    exchange = target.login(body, method=method, content_type=None if body is None else "application/json")
    judge.add(other_method_refused(exchange, method_is_standard=method != UNKNOWN_METHOD))
