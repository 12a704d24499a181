"""METH-1: only POST may succeed on /iPadLogin."""

from __future__ import annotations

import pytest

from ipadlogin_conformance.concurrency import LoginCall
from ipadlogin_conformance.exchange import Exchange, json_dumps
from ipadlogin_conformance.target import Target

STANDARD_METHODS = ("GET", "PUT", "PATCH", "DELETE")
UNKNOWN_METHOD = "BREW"


def method_call(method: str) -> LoginCall:
    """The request of this test (also the vendor guide's METH-1 example)."""
    body = None if method in ("GET", "DELETE") else json_dumps({"type": 2})
    return LoginCall(body, method=method, content_type=None if body is None else "application/json")


@pytest.mark.requirement("METH-1")
@pytest.mark.parametrize("method", [pytest.param(method, marks=pytest.mark.login_call(method_call(method)))
                                    for method in (*STANDARD_METHODS, UNKNOWN_METHOD)])
def test_other_method_refused(method: str, judge, sent_ahead) -> None:
    judge.other_method(sent_ahead(), method_is_standard=method != UNKNOWN_METHOD)


def send_method(method: str, target: Target) -> Exchange:
    """Send this test's request."""
    return method_call(method).send(target)
