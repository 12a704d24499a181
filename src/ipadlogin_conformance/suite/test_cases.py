"""The deterministic cases of cases.yaml, one test each."""

from __future__ import annotations

import pytest

from ipadlogin_conformance.suite.cases import Case, load_cases, send


@pytest.mark.parametrize(
    "case",
    [pytest.param(case, id=case.id, marks=pytest.mark.requirement(*case.requirements)) for case in load_cases()],
)
def test_case(case: Case, target, judge) -> None:
    judge.login(send(case, target), case.expect, *case.requirements)
