"""The reports: what they hold, that they validate, that they keep the token out and the server's text inert.

Unit tests build RunResults by hand (a failing finding with a hostile
exchange); end-to-end tests run the suite in a subprocess, against the
embedded server and against a faulty reference server, and read what it
left in its reports dir and on its terminal.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from paths import ROOT, SUITE

from ipadlogin_conformance.core.exchange import Exchange, ReceivedResponse, SentRequest
from ipadlogin_conformance.core.redaction import PLACEHOLDER
from ipadlogin_conformance.core.reproduce import Reproduction
from ipadlogin_conformance.core.settings import resolve
from ipadlogin_conformance.core.verdict import Finding, Outcome
from ipadlogin_conformance.reports import (
    JUNIT_XML,
    REPORT_HTML,
    SUMMARY_JSON,
    SUMMARY_MD,
    ReportsDirError,
    RunInfo,
    build_summary,
    prepare_reports_dir,
    summary_schema,
    write_reports,
)
from ipadlogin_conformance.reports.html import group_by_area, render_html
from ipadlogin_conformance.reports.latency import histogram
from ipadlogin_conformance.reports.markdown import render_markdown
from ipadlogin_conformance.results.records import RunResults
from ipadlogin_conformance.server import start_reference_server

TOKEN = "tok-Zq8RwX-5ecr3t-91c4"
"""Distinctive: it cannot occur in a report by accident, so finding it means a leak."""
REPORT_FILES = (JUNIT_XML, SUMMARY_JSON, REPORT_HTML, SUMMARY_MD)
HOSTILE_BODY = '{"code":"1000","message":"</pre><script>alert(1)</script><img src=http://evil.example/x>\u202eevil\x00","data":null}'


def validate(summary: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(summary_schema(), format_checker=jsonschema.FormatChecker())
    return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(summary)]


# --- built by hand ------------------------------------------------------------------------


def hostile_exchange() -> Exchange:
    return Exchange(
        request=SentRequest("POST", "http://127.0.0.1:9/iPadLogin", (("Authorization", PLACEHOLDER),), b'{"type":2}'),
        response=ReceivedResponse(
            200, (("Content-Type", "application/json"), ("X-Note", "a|b`c`")), HOSTILE_BODY.encode(), 3.0
        ),
        elapsed_ms=3.0,
    )


def run_info(*, reasons: tuple[str, ...] = (), status: int = 1) -> RunInfo:
    started = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    return RunInfo(
        started,
        started + timedelta(seconds=7),
        status,
        3,
        3,
        incomplete_reasons=reasons,
        target_urls=("http://127.0.0.1:9",),
        seeds=(42,),
    )


def failing_results() -> RunResults:
    results = RunResults()
    results.tests = 3
    for rid in ("ENV-1", "ENV-2", "AUTH-1"):
        results.add(Finding(rid, Outcome.PASS), "t::ok")
    results.add(
        Finding("ENV-3", Outcome.FAIL, "code | is `1000` <b>not</b> a string", hostile_exchange()), "t::bad", 42
    )
    results.add(Finding("ENV-6", Outcome.WARN, "failure code '4001'", hostile_exchange()), "t::warn")
    results.latencies_ms.extend([1.0, 2.0, 2.5, 3.0, 250.0])
    return results


def complete_results() -> RunResults:
    """failing_results, with a passing check of every requirement it left unchecked."""
    results = failing_results()
    for rid, result in results.requirements.items():
        if not result.checks:
            results.add(Finding(rid, Outcome.PASS), "t::ok")
    return results


@pytest.fixture
def settings(tmp_path: Path):
    return resolve({"ipadlogin_reports_dir": str(tmp_path / "reports")}, environ={})


def test_summary_of_a_failing_run_validates_and_holds_the_evidence(settings) -> None:
    summary = build_summary(failing_results(), settings, run_info())
    assert validate(summary) == []
    assert summary["verdict"] == "fail" and summary["blocking"] == ["ENV-3"]  # a failure found is conclusive
    assert summary["verdict_reason"] == "ENV-3 fails the run" and summary["diagnosis"] is None
    by_id = {item["id"]: item for item in summary["requirements"]}
    assert by_id["ENV-3"]["verdict"] == "fail" and by_id["ENV-6"]["verdict"] == "warn"
    assert by_id["REQ-1"]["verdict"] == "not run" and by_id["ENV-1"]["verdict"] == "pass"
    assert summary["complete"] is False and "REQ-1" in summary["not_checked"] and "ENV-1" not in summary["not_checked"]
    assert len(summary["not_checked"]) == len(summary["requirements"]) - 5
    evidence = by_id["ENV-3"]["evidence"][0]
    assert evidence["seed"] == 42 and evidence["replay"] == "--hypothesis-seed=42"
    assert evidence["exchange"]["response"]["status"] == 200
    assert evidence["exchange"]["curl"].startswith("curl ")
    assert summary["totals"]["fail"] == 1 and summary["totals"]["not run"] == len(summary["requirements"]) - 5
    assert summary["latency_ms"]["max"] == 250.0 and summary["latency_ms"]["count"] == 5


def test_the_schema_rejects_what_it_does_not_describe(settings) -> None:
    summary = build_summary(failing_results(), settings, run_info())
    broken = json.loads(json.dumps(summary))
    broken["verdict"] = "mostly fine"
    del broken["requirements"][0]["level"]
    broken["unexpected"] = 1
    errors = validate(broken)
    assert len(errors) == 3, errors


def test_nothing_checked_is_not_a_pass(settings) -> None:
    summary = build_summary(RunResults(), settings, run_info(reasons=("no test ran",), status=5))
    assert summary["verdict"] == "incomplete" and summary["complete"] is False
    assert summary["incomplete_reasons"][0] == "no test ran" and len(summary["not_checked"]) == len(
        summary["requirements"]
    )
    assert validate(summary) == []


def test_html_keeps_the_server_text_inert(settings) -> None:
    page = render_html(build_summary(failing_results(), settings, run_info()))
    assert "<script" not in page and "<img" not in page and "</pre><" not in page.replace("</pre>\n", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\u202e" not in page and "\\u202e" in page and "\x00" not in page
    assert "<b>not</b>" not in page  # a finding's detail quotes the server: escaped too


class Elements(HTMLParser):
    """The elements a browser builds from a page, and the attributes that would make it fetch something."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.links: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.links += [
            value or "" for name, value in attrs if name in ("src", "href", "xlink:href", "action", "srcset", "poster")
        ]


def test_html_is_self_contained_and_builds_no_element_from_server_text(settings) -> None:
    page = render_html(build_summary(failing_results(), settings, run_info()))
    elements = Elements(page)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert elements.links and all(link.startswith("#") for link in elements.links), elements.links
    assert "url(" not in page and "@import" not in page
    assert "svg" in elements.tags  # the latency chart is inline
    assert not elements.tags & {"script", "img", "iframe", "object", "embed", "link"}


def test_html_shows_verdicts_in_words_and_the_evidence(settings) -> None:
    page = render_html(build_summary(failing_results(), settings, run_info()))
    assert "✗ FAIL" in page and "ENV-3" in page
    assert 'id="ENV-3"' in page and "Reproduce" in page and '<span class="arg">curl -sS</span>' in page
    assert "Hypothesis seed" in page and "--hypothesis-seed=42" in page
    for label in ("Pass", "Fail", "Warning", "Not run"):
        assert f"</span> {label}</span>" in page  # colour is never the only sign


def test_partial_run_is_marked_in_every_format(settings) -> None:
    summary = build_summary(complete_results(), settings, run_info(reasons=("the run was interrupted",), status=2))
    assert summary["complete"] is False and summary["incomplete_reasons"] == ["the run was interrupted"]
    assert "Incomplete run" in render_html(summary) and "Incomplete run" in render_markdown(summary)
    complete = build_summary(complete_results(), settings, run_info())
    assert complete["complete"] is True and complete["not_checked"] == []
    assert "Incomplete run" not in render_html(complete) and "Incomplete run" not in render_markdown(complete)


def test_a_partial_pass_is_incomplete_but_a_partial_fail_stays_a_fail(settings) -> None:
    passing = RunResults()
    passing.tests = 1
    passing.add(Finding("ENV-1", Outcome.PASS), "t::ok")
    partial = build_summary(passing, settings, run_info(status=0))
    assert partial["verdict"] == "incomplete" and partial["complete"] is False  # a requirement unchecked is enough
    assert partial["incomplete_reasons"] == [
        f"{len(partial['not_checked'])} of {len(partial['requirements'])} requirements got no check "
        f"(deselected, skipped or never reached): {', '.join(partial['not_checked'])}"
    ]
    assert "◌ INCOMPLETE" in render_html(partial) and "✓ PASS" not in render_html(partial)
    assert render_markdown(partial).startswith("## iPadLogin conformance: ⏹️ INCOMPLETE\n")
    assert validate(partial) == []
    failing = build_summary(failing_results(), settings, run_info(reasons=("the run was interrupted",), status=2))
    assert "✗ FAIL" in render_html(failing) and render_markdown(failing).startswith(
        "## iPadLogin conformance: ❌ FAIL\n"
    )


def test_markdown_keeps_server_text_in_its_cell(settings) -> None:
    text = render_markdown(build_summary(failing_results(), settings, run_info()))
    row = next(line for line in text.splitlines() if line.startswith("| ENV-3 |"))
    assert row.count("|") - row.count("\\|") == 5  # four cells, whatever the detail held
    assert "<b>" not in text and "\\<b\\>" in text


def test_write_reports_appends_to_the_github_step_summary(settings, tmp_path: Path) -> None:
    step_summary = tmp_path / "step-summary.md"
    step_summary.write_text("earlier step\n")
    written = write_reports(
        failing_results(), settings, run=run_info(), environ={"GITHUB_STEP_SUMMARY": str(step_summary)}
    )
    assert sorted(path.name for path in written) == sorted([SUMMARY_JSON, REPORT_HTML, SUMMARY_MD])
    content = step_summary.read_text()
    assert content.startswith("earlier step\n") and "iPadLogin conformance: ❌ FAIL" in content
    assert content.endswith((settings.reports_dir / SUMMARY_MD).read_text() + "\n")


def test_write_reports_from_records_alone(settings) -> None:
    """The replay's call: records instead of a RunInfo."""
    written = write_reports(failing_results(), settings, [], environ={})
    summary = json.loads((settings.reports_dir / SUMMARY_JSON).read_text())
    assert validate(summary) == [] and len(written) == 3 and summary["exit_status"]["code"] == 1


def test_a_long_token_is_scrubbed_even_from_text_that_escaped_redaction(tmp_path: Path) -> None:
    settings = resolve({"ipadlogin_reports_dir": str(tmp_path), "ipadlogin_auth_token": TOKEN}, environ={})
    results = RunResults()
    results.tests = 1
    results.add(Finding("ENV-3", Outcome.FAIL, f"a server echoed {TOKEN}"), "t::echo")
    write_reports(results, settings, run=run_info(), environ={})
    for name in (SUMMARY_JSON, REPORT_HTML, SUMMARY_MD):
        text = (tmp_path / name).read_text()
        assert TOKEN not in text, name
    assert PLACEHOLDER in (tmp_path / SUMMARY_JSON).read_text()


def test_an_unwritable_reports_dir_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ReportsDirError, match="not writable"):
        prepare_reports_dir(blocker / "reports")


@given(st.lists(st.floats(min_value=0.01, max_value=60_000, allow_nan=False), min_size=1, max_size=300))
def test_histogram_counts_every_call_once(values: list[float]) -> None:
    bins, overflow = histogram(values)
    assert sum(item["count"] for item in bins) + (overflow["count"] if overflow else 0) == len(values)
    assert all(a["to"] == pytest.approx(b["from"]) for a, b in zip(bins, bins[1:]))
    assert bins[0]["from"] <= min(values) and (overflow or bins[-1])["to"] >= max(values) - 1e-6


# --- end to end: the suite in a subprocess ------------------------------------------------


def run_suite(reports: Path, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("IPADLOGIN_", "GITHUB_", "PYTEST_"))}
    env.update(extra_env or {})
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(SUITE),
        "-q",
        "--reports-dir",
        str(reports),
        "--examples",
        "5",
        *args,
    ]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def load_summary(reports: Path) -> dict:
    return json.loads((reports / SUMMARY_JSON).read_text("utf-8"))


def verdicts(summary: dict) -> dict[str, str]:
    return {item["id"]: item["verdict"] for item in summary["requirements"]}


@pytest.fixture(scope="module")
def faulty_server() -> Iterator[str]:
    """code-int breaks ENV-3 on every answer (evidence with the token's header); 4001 failure codes warn ENV-6."""
    with start_reference_server(token=TOKEN, faults=("code-int", "undocumented-failure-code")) as server:
        yield server.url


@pytest.fixture(scope="module")
def faulty_run(
    faulty_server: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    reports = tmp_path_factory.mktemp("faulty") / "reports"
    result = run_suite(
        reports, "--base-url", faulty_server, "--auth-token", TOKEN, "--rate-limit", "0", "--hypothesis-seed", "7"
    )
    return reports, result


def test_embedded_run_writes_every_report(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    result = run_suite(reports)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert all((reports / name).is_file() for name in REPORT_FILES)
    summary = load_summary(reports)
    assert validate(summary) == []
    assert summary["verdict"] == "pass" and summary["complete"] is True and summary["exit_status"]["code"] == 0
    assert summary["target"]["embedded"] is True and summary["target"]["urls"][0].startswith("http://127.0.0.1:")
    assert summary["tests"]["run"] == summary["tests"]["collected"] > 0
    assert summary["latency_ms"]["count"] > 0 and summary["budget"]["requests"] > 0
    assert "PytestWarning" not in result.stdout + result.stderr


def test_junit_cases_carry_requirement_ids_and_levels(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    run_suite(reports, "-k", "test_case")
    cases = ET.parse(reports / JUNIT_XML).getroot().iter("testcase")
    checked = 0
    for case in cases:
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        ids, levels = properties["requirements"].split(), properties["levels"].split()
        assert ids and len(ids) == len(levels) and set(levels) <= {"MUST", "SHOULD"}
        checked += 1
    assert checked > 10


def test_failing_run_reports_fail_with_evidence(faulty_run) -> None:
    reports, result = faulty_run
    assert result.returncode == 1, result.stdout[-3000:]
    summary = load_summary(reports)
    assert validate(summary) == []
    assert summary["verdict"] == "fail" and summary["complete"] is True and "ENV-3" in summary["blocking"]
    by_id = {item["id"]: item for item in summary["requirements"]}
    assert by_id["ENV-6"]["verdict"] == "warn"
    headers = {name.lower(): value for name, value in by_id["ENV-3"]["evidence"][0]["exchange"]["request"]["headers"]}
    assert headers.get("authorization") == PLACEHOLDER  # the token's place is there: the scan below means something
    url = summary["target"]["base_url"]
    assert summary["target"] == {
        "embedded": False,
        "base_url": url,
        "urls": [url],
        "label": url,
        "source": "--base-url",
    }
    assert "Incomplete" not in (reports / REPORT_HTML).read_text()


def test_the_token_is_in_no_report_and_not_on_the_terminal(faulty_run) -> None:
    reports, result = faulty_run
    files = [path for path in reports.rglob("*") if path.is_file()]
    assert {path.name for path in files} >= set(REPORT_FILES)
    for path in files:
        assert TOKEN.encode() not in path.read_bytes(), f"token in {path.name}"
    assert TOKEN not in result.stdout and TOKEN not in result.stderr
    assert "$IPADLOGIN_TOKEN" in result.stdout  # failure messages did show the request, redacted


def test_xdist_controller_writes_the_same_verdicts(faulty_run, faulty_server: str, tmp_path: Path) -> None:
    serial_reports, _ = faulty_run
    reports = tmp_path / "reports"
    result = run_suite(
        reports,
        "-n",
        "2",
        "--base-url",
        faulty_server,
        "--auth-token",
        TOKEN,
        "--rate-limit",
        "0",
        "--hypothesis-seed",
        "7",
    )
    assert result.returncode == 1, result.stdout[-3000:]
    summary = load_summary(reports)
    assert validate(summary) == []
    assert verdicts(summary) == verdicts(load_summary(serial_reports))
    assert (
        summary["tests"]["run"] == summary["tests"]["collected"] == load_summary(serial_reports)["tests"]["collected"]
    )
    assert result.stdout.count("reports: ") == 1
    names = [case.get("name") for case in ET.parse(reports / JUNIT_XML).getroot().iter("testcase")]
    assert len(names) == len(set(names)) == summary["tests"]["collected"]


INTERRUPT_PLUGIN = """
import pytest
seen = []

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    seen.append(item.nodeid)
    if len(seen) == 3:
        raise {exception}
"""


@pytest.mark.parametrize(
    ("exception", "status", "reason"),
    [("KeyboardInterrupt", 2, "interrupted"), ("RuntimeError('boom')", 1, "crashed")],
    ids=["ctrl-c", "crash"],
)
def test_a_broken_run_still_writes_partial_reports(tmp_path: Path, exception: str, status: int, reason: str) -> None:
    (tmp_path / "break_the_run.py").write_text(INTERRUPT_PLUGIN.format(exception=exception))
    reports = tmp_path / "reports"
    result = run_suite(reports, "-p", "break_the_run", extra_env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == status, result.stdout[-3000:]
    summary = load_summary(reports)
    assert validate(summary) == []
    assert summary["complete"] is False and any(reason in text for text in summary["incomplete_reasons"])
    assert summary["verdict"] == "incomplete" and "overall: INCOMPLETE — " in result.stdout  # never a vacuous pass
    assert (
        "Incomplete run" in (reports / REPORT_HTML).read_text()
        and "Incomplete run" in (reports / SUMMARY_MD).read_text()
    )
    if reason == "crashed":
        assert len(summary["tests"]["crashed"]) == 1 and summary["tests"]["run"] == summary["tests"]["collected"]
    else:
        assert summary["tests"]["run"] < summary["tests"]["collected"]


def test_an_unwritable_reports_dir_stops_the_run_at_once(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run_suite(blocker / "reports")
    assert result.returncode == 4
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and "not writable" in errors[0], result.stderr


def test_collect_only_and_self_test_runs_write_no_reports(tmp_path: Path) -> None:
    """Neither is a conformance run: writing would overwrite the last real run's reports."""
    reports = tmp_path / "reports"
    assert run_suite(reports, "--collect-only").returncode == 0
    env = {key: value for key, value in os.environ.items() if not key.startswith(("IPADLOGIN_", "PYTEST_"))}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        str(Path(__file__)),
        "-k",
        "histogram",
        "--reports-dir",
        str(reports),
    ]
    assert subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600).returncode == 0
    assert not reports.exists() or not any(reports.iterdir())


def test_html_shows_an_empty_body_and_wraps_curl_lines_between_options(settings) -> None:
    empty = Exchange(
        SentRequest("POST", "http://127.0.0.1:9/iPadLogin", (("Authorization", ""),), b""),
        ReceivedResponse(502, (("Content-Type", "text/plain"),), b"", 3.0),
        elapsed_ms=3.0,
    )
    results = RunResults()
    results.tests = 1
    results.add(Finding("ENV-8", Outcome.FAIL, "a 5xx", empty), "t::empty")
    reports = settings.reports_dir
    page = render_html(
        build_summary(results, settings, run_info(), Reproduction.in_reports(reports, reports / "exchanges.har"))
    )
    assert page.count('<span class="empty">(empty)</span>') == 2  # the request's body and the response's
    curl = re.search(r'<pre class="curl">(.*?)</pre>', page, flags=re.S).group(1)
    assert re.findall(r'<span class="arg">(.*?)</span>', curl) == [
        "curl -sS",
        "http://127.0.0.1:9/iPadLogin",
        "-H &#39;Authorization;&#39;",
        "-H &#39;Content-Type:&#39;",
        "--data-raw &#39;&#39;",
    ]
    assert f"ipadlogin-conformance resend {reports / 'exchanges.har'} " in page
    assert page.count('<div class="scroll">\n<table class="matrix">') == len(
        group_by_area(build_summary(results, settings, run_info())["requirements"])
    )
