"""METH-1: only POST may succeed on /iPadLogin."""

from __future__ import annotations

import pytest

from ipadlogin_conformance.exchange import Exchange, json_dumps
from ipadlogin_conformance.target import Target

STANDARD_METHODS = ("GET", "PUT", "PATCH", "DELETE")
UNKNOWN_METHOD = "BREW"


@pytest.mark.requirement("METH-1")
@pytest.mark.parametrize("method", [*STANDARD_METHODS, UNKNOWN_METHOD])
def test_other_method_refused(method: str, target, judge) -> None:
    judge.other_method(send_method(method, target), method_is_standard=method != UNKNOWN_METHOD)


def send_method(method: str, target: Target) -> Exchange:
    """The request of this test (also the vendor guide's METH-1 example)."""
    body = None if method in ("GET", "DELETE") else json_dumps({"type": 2})
    return target.login(body, method=method, content_type=None if body is None else "application/json")
