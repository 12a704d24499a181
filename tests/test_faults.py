"""The suite proves itself: every fault caught by exactly its requirements, every variation passed.

Each scenario (a fault or variation of the reference server's catalog, or a
setup such as a wrong token) runs the real suite in a subprocess against its
own server on a free port; :mod:`tools.selftest` holds the
expectations and the runner, which the score command uses too. In one
process the whole catalog starts at the first test, a few runs side by side;
under pytest-xdist each worker runs only the scenarios it is given.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ipadlogin_conformance.contract.catalog import Level, load_catalog
from tools.selftest import (
    README,
    Runs,
    Scenario,
    all_scenarios,
    catalog_scenarios,
    expected_rows,
    problems,
    readme_expected_rows,
)

SCENARIOS = all_scenarios()


@pytest.fixture(scope="session")
def runs(pytestconfig: pytest.Config) -> Iterator[Runs]:
    under_xdist = hasattr(pytestconfig, "workerinput")
    runner = Runs(SCENARIOS, prefetch=not under_xdist)
    yield runner
    runner.close()


@pytest.mark.parametrize("scenario", [pytest.param(s, id=f"{s.kind}:{s.name}") for s in SCENARIOS])
def test_suite_reaches_exactly_the_expected_verdicts(scenario: Scenario, runs: Runs) -> None:
    found = problems(scenario, runs.result(scenario.name))
    assert not found, f"{scenario.name} ({scenario.description}):\n" + "\n".join(found)


def test_every_requirement_is_proven_by_a_fault() -> None:
    covered = {rid for s in catalog_scenarios() if s.kind == "fault" for rid in s.fails | s.warns}
    assert [r.id for r in load_catalog() if r.id not in covered] == []


def test_expected_verdicts_fit_the_levels() -> None:
    """Only a MUST fails; a warning is a SHOULD, a MUST's SHOULD clause, or an erratum the lenient profile accepts."""
    catalog = load_catalog()
    for scenario in SCENARIOS:
        assert all(catalog[rid].level is Level.MUST for rid in scenario.fails), scenario.name
        for rid in scenario.warns:
            assert catalog[rid].level is Level.SHOULD or catalog[rid].should or catalog[rid].errata, (
                scenario.name,
                rid,
            )
        assert not scenario.fails & scenario.warns, scenario.name


def test_readme_shows_the_catalogs_score_table() -> None:
    """The README's table is generated (tools/fault_score.py --update-readme): its expected part is the catalog's."""
    assert readme_expected_rows(README.read_text("utf-8")) == expected_rows(SCENARIOS), (
        "the README's fault-score table is stale: run `python -m tools.fault_score --update-readme`"
    )
