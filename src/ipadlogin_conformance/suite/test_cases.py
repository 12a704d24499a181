"""The deterministic cases of cases.yaml, one test each."""

from __future__ import annotations

import pytest

from ipadlogin_conformance.checks import Expect
from ipadlogin_conformance.suite.cases import UNKNOWN_TOKEN, Case, load_cases
from ipadlogin_conformance.target import VALID_TOKEN

TOKENS = {"valid": VALID_TOKEN, "none": None, "empty": "", "unknown": UNKNOWN_TOKEN}


@pytest.mark.parametrize(
    "case",
    [pytest.param(case, id=case.id, marks=pytest.mark.requirement(*case.requirements)) for case in load_cases()],
)
def test_case(case: Case, target, judge) -> None:
    exchange = target.login(
        case.body,
        token=TOKENS[case.token],
        token_header=case.token_header,
        content_type=case.content_type,
        content_type_header=case.content_type_header,
        may_succeed=case.expect is not Expect.FAILURE,
    )
    judge.login(exchange, case.expect, *case.requirements)
