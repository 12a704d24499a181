"""docs/vendors.md is what `python -m tools.vendor_docs` prints, and its examples mean what they say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ipadlogin_conformance.contract.catalog import load_catalog
from ipadlogin_conformance.server import CATALOG
from tools.vendor_docs import render
from tools.vendor_examples import Example, collect, faults_breaking

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "vendors.md"


@pytest.fixture(scope="module")
def examples() -> list[Example]:
    return collect()


def test_the_committed_guide_is_the_generated_one(examples: list[Example]) -> None:
    generated = render(examples)  # what `python -m tools.vendor_docs` prints
    assert GUIDE.read_text("utf-8") == generated, (
        "docs/vendors.md is stale: run `python -m tools.vendor_docs > docs/vendors.md`"
    )


def test_every_requirement_has_its_section_in_catalog_order() -> None:
    headings = re.findall(r"^### (\S+): (MUST|SHOULD), (\w+)$", GUIDE.read_text("utf-8"), flags=re.M)
    assert [(r.id, r.level.value, r.area) for r in load_catalog()] == headings


def test_each_example_passes_on_the_reference_server_and_fails_with_its_fault(examples: list[Example]) -> None:
    """What the guide shows is the suite's own judgement of real answers, not prose."""
    for example in examples:
        rid = example.requirement_id
        if example.run_level:  # TIME-2: judged over the run
            assert example.passing is None and example.failing is None
            continue
        assert example.passing is not None and all(f.outcome.value == "pass" for f in example.passing.about(rid)), rid
        if faults_breaking(rid):
            assert example.failing is not None, rid
            assert example.faults[0].name in CATALOG and rid in (*example.faults[0].breaks, *example.faults[0].warns)
            assert any(f.is_problem for f in example.failing.about(rid)), rid


def test_the_guide_shows_no_port_or_fresh_wid_of_the_run() -> None:
    text = GUIDE.read_text("utf-8")
    ports = set(re.findall(r"http://127\.0\.0\.1:(\d+)", text))
    assert ports == {"18081"}
    assert set(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-0001-[0-9a-f]{12}", text)) == {
        "0000016e-63ef-3a9c-0001-ed3311628ef4"
    }
    assert "vendor-guide-token" not in text and "$IPADLOGIN_TOKEN" in text
