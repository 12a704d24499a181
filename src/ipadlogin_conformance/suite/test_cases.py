"""The deterministic cases of cases.yaml, one test each."""

from __future__ import annotations

import pytest

from ipadlogin_conformance.suite.cases import Case, load_cases, login_call


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case,
            id=case.id,
            marks=[pytest.mark.requirement(*case.requirements), pytest.mark.login_call(login_call(case))],
        )
        for case in load_cases()
    ],
)
def test_case(case: Case, judge, sent_ahead) -> None:
    judge.login(sent_ahead(), case.expect, *case.requirements)
