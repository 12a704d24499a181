"""The contract as code: openapi.yaml, the catalog and the tests agree with each other and with CONTRACT.md."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from paths import ROOT, SUITE

from ipadlogin_conformance.contract import spec
from ipadlogin_conformance.contract.catalog import Level, load_catalog, parse_catalog
from ipadlogin_conformance.server import start_reference_server
from ipadlogin_conformance.suite.cases import load_cases

CONTRACT = ROOT.parent / "shared" / "CONTRACT.md"


def test_openapi_is_valid_openapi_3_1() -> None:
    validate(spec.load_openapi())
    assert spec.load_openapi()["openapi"].startswith("3.1")


def test_openapi_loads_in_schemathesis() -> None:
    schema = schemathesis.openapi.from_path(spec.spec_path())
    assert [op.ok().label for op in schema.get_all_operations()] == ["POST /iPadLogin"]


def test_packaged_spec_is_the_top_level_file() -> None:
    assert spec.spec_bytes() == (ROOT / "openapi.yaml").read_bytes()


@pytest.mark.skipif(not CONTRACT.exists(), reason="shared/CONTRACT.md is not beside the checkout")
def test_catalog_lists_exactly_the_contracts_requirements() -> None:
    text = CONTRACT.read_text("utf-8")
    contract = dict(re.findall(r"^- ([A-Z]+-\d+) (MUST|SHOULD)", text, flags=re.MULTILINE))
    catalog = load_catalog()
    assert sorted(contract) == sorted(r.id for r in catalog)
    for requirement_id, level in contract.items():
        assert catalog[requirement_id].level is Level(level), requirement_id


@pytest.mark.skipif(not CONTRACT.exists(), reason="shared/CONTRACT.md is not beside the checkout")
def test_a_must_has_a_should_clause_exactly_where_the_contract_gives_it_one() -> None:
    """A SHOULD inside a MUST's paragraph (REQ-1's 2.0, ENV-7's null data, ENV-8's HTTP 200) is a warning, not a failure."""
    text = CONTRACT.read_text("utf-8")
    paragraphs = dict(re.findall(r"^- ([A-Z]+-\d+) MUST(.*?)(?=^- |^\S|\Z)", text, flags=re.MULTILINE | re.DOTALL))
    catalog = load_catalog()
    assert {rid for rid, body in paragraphs.items() if "SHOULD" in body} == {r.id for r in catalog if r.should}


def test_every_requirement_id_in_the_spec_is_in_the_catalog() -> None:
    named = set(re.findall(r"\b(?:ENV|DATA|AUTH|REQ|TIME|METH)-\d+\b", spec.spec_bytes().decode("utf-8")))
    assert named <= {r.id for r in load_catalog()}


def test_catalog_rejects_an_unknown_area_and_duplicates() -> None:
    entry = "  - {id: X-1, level: MUST, area: %s, statement: s, seed: s}\n"
    with pytest.raises(ValueError, match="unknown area"):
        parse_catalog("version: 1\nrequirements:\n" + entry % "nowhere")
    with pytest.raises(ValueError, match="listed twice"):
        parse_catalog("version: 1\nrequirements:\n" + entry % "body" + entry % "body")


def test_response_schemas_come_from_the_spec() -> None:
    """The validators resolve the very components of openapi.yaml, not a copy."""
    components = spec.load_openapi()["components"]["schemas"]
    validator = spec.validator("SuccessEnvelope")
    resolved = validator._resolver.lookup(validator.schema["$ref"]).contents
    assert resolved is components["SuccessEnvelope"]
    assert not list(ROOT.glob("src/**/*envelope*.json")), "a hand-kept JSON Schema copy of the envelope"


def _suite_requirement_ids() -> dict[str, set[str]]:
    """Requirement ID → tests naming it, from the collected conformance suite."""

    class Collector:
        def __init__(self) -> None:
            self.by_id: dict[str, set[str]] = {}

        def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
            for item in items:
                for marker in item.iter_markers("requirement"):
                    for rid in marker.args:
                        self.by_id.setdefault(rid, set()).add(item.nodeid)

    collector = Collector()
    code = pytest.main(
        ["--collect-only", "-q", "-p", "ipadlogin_conformance.runner.plugin", "--examples", "1", str(SUITE)],
        plugins=[collector],
    )
    assert code == 0
    return collector.by_id


def test_every_requirement_is_checked_by_a_test_and_every_named_id_exists() -> None:
    named = _suite_requirement_ids()
    catalog_ids = {r.id for r in load_catalog()}
    assert set(named) <= catalog_ids, set(named) - catalog_ids
    # The envelope and time requirements are judged on every answer, so tests
    # need not name them; every other requirement must be named by a test.
    judged_on_every_answer = {r.id for r in load_catalog() if r.area in ("envelope", "payload")} | {"TIME-1", "TIME-2"}
    assert catalog_ids - judged_on_every_answer <= set(named), catalog_ids - judged_on_every_answer - set(named)


def test_every_case_names_catalog_requirements() -> None:
    catalog = load_catalog()
    for case in load_cases():
        assert case.requirements and all(rid in catalog for rid in case.requirements), case.id


def test_schemathesis_cli_with_the_fitting_checks_finds_nothing_on_the_reference(tmp_path: Path) -> None:
    """Issue 2's bar: `schemathesis run openapi.yaml --url <reference>` with checks that fit this API."""
    with start_reference_server(token="contract-token") as server:
        result = subprocess.run(
            [
                str(Path(sys.executable).with_name("schemathesis")),
                "run",
                str(spec.spec_path()),
                "--url",
                server.url,
                "-H",
                "Authorization: contract-token",
                "--max-examples",
                "60",
                "--seed",
                "7",
                "--checks",
                "not_a_server_error,content_type_conformance,response_schema_conformance,outcome_fits_request_class",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "SCHEMATHESIS_HOOKS": "ipadlogin_conformance.suite.generation"},
        )
    assert result.returncode == 0, result.stdout[-3000:]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
_envelopes = st.fixed_dictionaries(
    {},
    optional={
        "code": st.sampled_from(["1000", "1001", "10001", "4001", "", "12a", 1000]) | _json,
        "message": st.sampled_from(["ok", ""]) | _json,
        "data": st.none()
        | st.fixed_dictionaries(
            {},
            optional={
                "wId": st.sampled_from(["w", ""]) | _json,
                "qrCodeUrl": st.sampled_from(["http://h/q.png", "https://h", "/q.png", "ftp://h/q"]) | _json,
            },
        ),
    },
)


@pytest.mark.parametrize("component", ["SuccessEnvelope", "FailureEnvelope"])
@given(body=_envelopes | _json)
@settings(max_examples=300, deadline=None, database=None)
def test_the_fast_first_pass_agrees_with_jsonschema(component: str, body: object) -> None:
    assert spec.fast_validator(component).is_valid(body) == (not list(spec.validator(component).iter_errors(body)))
