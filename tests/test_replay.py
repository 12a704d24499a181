"""Record and replay: a run's cassette (reports/exchanges.har) judged again gives the run's verdicts.

Two real runs feed the tests: one against the embedded reference server (it
passes) and one against a reference server with three faults, one per kind of
judgement (login, other method, QR image), which fails. Replaying each must
give the same verdict per requirement, the same exit status and the same
summary.json; changing the cassette or the profile must change the verdicts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ipadlogin_conformance import cli
from ipadlogin_conformance.checks import Expect
from ipadlogin_conformance.core.exchange import Exchange, ReceivedResponse, SentRequest
from ipadlogin_conformance.core.settings import resolve
from ipadlogin_conformance.core.verdict import not_verified, violated
from ipadlogin_conformance.reports.cassette import CASSETTE_NAME, RESPONSE_BODY_LIMIT, CassetteWriter, read_cassette
from ipadlogin_conformance.results.judgement import judge_into, label_login
from ipadlogin_conformance.results.records import RunResults
from ipadlogin_conformance.results.records import TestRecord as Record  # not collected as a test class
from ipadlogin_conformance.runner.replay import replay, settings_of
from ipadlogin_conformance.server import start_reference_server

TOKEN = "replay-test-token-5d1e"
FAULTS = ("code-int", "get-500", "qr-not-a-qr")
"""ENV-3 (a login judgement), METH-1 (other method) and DATA-3 (QR image)."""


def conformance_run(reports: Path, *args: str) -> int:
    command = [
        sys.executable,
        "-m",
        "ipadlogin_conformance.cli",
        "run",
        "--examples",
        "20",
        "--reports-dir",
        str(reports),
        *args,
    ]
    return subprocess.run(command, cwd=reports.parent, capture_output=True, timeout=600).returncode


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, Path]]:
    """name -> (exit status, reports dir) of the two live runs."""
    base = tmp_path_factory.mktemp("runs")
    done = {"correct": (conformance_run(base / "correct"), base / "correct")}
    with start_reference_server(token=TOKEN, faults=FAULTS) as server:
        status = conformance_run(
            base / "faulty",
            "--base-url",
            server.url,
            "--auth-token",
            TOKEN,
            "--rate-limit",
            "0",
            "--success-budget",
            "0",
        )
    done["faulty"] = (status, base / "faulty")
    return done


@pytest.fixture(autouse=True)
def no_step_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def summary(reports: Path) -> dict[str, Any]:
    return json.loads((reports / "summary.json").read_text("utf-8"))


def verdicts(reports: Path) -> dict[str, str]:
    return {row["id"]: row["verdict"] for row in summary(reports)["requirements"]}


def replay_cli(cassette: Path, reports: Path, *args: str) -> int:
    return cli.main(["replay", str(cassette), "--reports-dir", str(reports), *args])


def test_the_runs_are_what_the_tests_need(runs: dict[str, tuple[int, Path]]) -> None:
    assert runs["correct"][0] == 0 and set(verdicts(runs["correct"][1]).values()) == {"pass"}
    status, reports = runs["faulty"]
    assert status == 1
    found = verdicts(reports)
    assert (found["ENV-3"], found["METH-1"], found["DATA-3"]) == ("fail", "warn", "warn")
    assert found["AUTH-3"] == found["REQ-1"] == "pass"


@pytest.mark.parametrize("name", ["correct", "faulty"])
def test_replay_gives_the_runs_verdicts_exit_status_and_summary(
    name: str, runs: dict[str, tuple[int, Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, reports = runs[name]
    assert replay_cli(reports / CASSETTE_NAME, tmp_path) == status
    assert "every verdict as recorded" in capsys.readouterr().out
    assert verdicts(tmp_path) == verdicts(reports)
    assert summary(tmp_path) == summary(reports)  # the same report, to the figures and the evidence
    assert (tmp_path / "report.html").is_file() and (tmp_path / "summary.md").is_file()


@pytest.mark.parametrize("name", ["correct", "faulty"])
def test_each_judged_exchange_is_recorded_once_with_its_judgement(name: str, runs: dict[str, tuple[int, Path]]) -> None:
    reports = runs[name][1]
    log = json.loads((reports / CASSETTE_NAME).read_text("utf-8"))["log"]
    entries = log["entries"]
    assert len(entries) == summary(reports)["budget"]["requests"] == sum(test["requests"] for test in log["_tests"])
    assert {entry["_judgement"] for entry in entries} == {"login", "other-method", "qr"}
    for entry in entries:
        assert entry["_testId"] and "_seed" in entry
        if entry["_judgement"] == "login":
            assert entry["_expect"] in {expect.value for expect in Expect} and entry["_requirements"]
    generated = [entry for entry in entries if "test_properties" in entry["_testId"]]
    assert generated and all(entry["_seed"] is not None and entry["_caseId"] for entry in generated)


def test_the_cassette_is_har_1_2_without_the_token(runs: dict[str, tuple[int, Path]]) -> None:
    text = (runs["faulty"][1] / CASSETTE_NAME).read_text("utf-8")
    jsonschema.validate(json.loads(text), HAR_1_2)
    assert TOKEN not in text and "$IPADLOGIN_TOKEN" in text


def test_replay_judges_the_bodies_again(runs: dict[str, tuple[int, Path]], tmp_path: Path) -> None:
    """A changed answer in the cassette changes the verdict: nothing is copied from the recording."""
    cassette = json.loads((runs["correct"][1] / CASSETTE_NAME).read_text("utf-8"))
    login = next(e for e in cassette["log"]["entries"] if e["_judgement"] == "login" and e["response"]["status"] == 200)
    body = json.loads(login["response"]["content"]["text"])
    body["code"] = int(body["code"])
    login["response"]["content"]["text"] = json.dumps(body)
    edited = tmp_path / "edited.har"
    edited.write_text(json.dumps(cassette), "utf-8")
    assert replay_cli(edited, tmp_path / "reports") == 1
    assert verdicts(tmp_path / "reports")["ENV-3"] == "fail"


def test_replay_applies_another_profile(
    runs: dict[str, tuple[int, Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Lenient accepts an integer code with a warning: the faulty run no longer fails a MUST."""
    assert replay_cli(runs["faulty"][1] / CASSETTE_NAME, tmp_path, "--profile", "lenient") == 0
    assert "changed since the recording: ENV-3 fail → warn" in capsys.readouterr().out
    assert verdicts(tmp_path)["ENV-3"] == "warn"


def test_2000_exchanges_stay_small_and_cut_bodies_keep_their_verdicts(tmp_path: Path) -> None:
    """Hostile answers (64 KiB, the most the target reads, of HTML) are cut; their findings are kept."""
    settings = resolve({"ipadlogin_reports_dir": str(tmp_path)}, environ={})
    results, writer = RunResults(), CassetteWriter(tmp_path / CASSETTE_NAME, settings, in_flight=1)
    body = b"<html>" + b"x" * (64 * 1024 - 6)
    tracemalloc.start()
    for test in range(20):
        record = Record(test_id=f"t{test}")
        for _ in range(100):
            sent = SentRequest(
                "POST", "http://target.test/iPadLogin", (("Authorization", "$IPADLOGIN_TOKEN"),), b'{"type":2}'
            )
            exchange = Exchange(
                sent, ReceivedResponse(200, (("Content-Type", "text/html"),), body, 3.0), elapsed_ms=3.0
            )
            judge_into(record, label_login(exchange, Expect.SUCCESS, ["REQ-1"]), settings.policy)
        record.requests = 100
        results.merge(record)
        writer.add(record)
        del record
    results.close(settings.policy)
    writer.close(results)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = (tmp_path / CASSETTE_NAME).stat().st_size
    assert size < 2000 * (RESPONSE_BODY_LIMIT + 2048), size
    assert peak < 100 * 64 * 1024 * 3, peak  # about one test's record at a time, not the run's
    cassette = read_cassette(tmp_path / CASSETTE_NAME)
    assert len(cassette.entries) == 2000 and all(entry.recorded_findings for entry in cassette.entries)
    replayed = replay(cassette, settings_of(cassette.run, {}))
    assert replayed.changed() == {}
    assert replayed.results.verdict("ENV-1").value == "fail" and replayed.results.requests == 2000


def _obj(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


_PAIRS = {"type": "array", "items": _obj(["name", "value"], name={"type": "string"}, value={"type": "string"})}
HAR_1_2: dict[str, Any] = _obj(
    ["log"],
    log=_obj(
        ["version", "creator", "entries"],
        version={"const": "1.2"},
        creator=_obj(["name", "version"]),
        entries={
            "type": "array",
            "items": _obj(
                ["startedDateTime", "time", "request", "response", "cache", "timings"],
                startedDateTime={
                    "type": "string",
                    "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$",
                },
                time={"type": "number", "minimum": 0},
                request=_obj(
                    ["method", "url", "httpVersion", "cookies", "headers", "queryString", "headersSize", "bodySize"],
                    headers=_PAIRS,
                    queryString=_PAIRS,
                    postData=_obj(["mimeType"]),
                ),
                response=_obj(
                    [
                        "status",
                        "statusText",
                        "httpVersion",
                        "cookies",
                        "headers",
                        "content",
                        "redirectURL",
                        "headersSize",
                        "bodySize",
                    ],
                    status={"type": "integer"},
                    headers=_PAIRS,
                    content=_obj(["size", "mimeType"]),
                ),
                cache={"type": "object"},
                timings=_obj(["send", "wait", "receive"]),
            ),
        },
    ),
)
"""The fields HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) requires."""


def test_findings_a_test_states_itself_are_kept_with_their_exchange(tmp_path: Path) -> None:
    """test_qr's "no qrCodeUrl to fetch" is not judged from an exchange: the replay keeps it, pointing at its login."""
    settings = resolve({"ipadlogin_reports_dir": str(tmp_path)}, environ={})
    record = Record(test_id="suite/test_qr.py::test_qr_code_url_serves_a_qr_code", requests=1)
    sent = SentRequest("POST", "http://target.test/iPadLogin", (), b'{"type":2}')
    login = Exchange(
        sent,
        ReceivedResponse(
            200, (("Content-Type", "application/json"),), b'{"code":"1000","message":"","data":{"wId":"w"}}', 1.0
        ),
        elapsed_ms=1.0,
    )
    judge_into(record, label_login(login, Expect.SUCCESS, ["REQ-1"]), settings.policy)
    record.add([not_verified("DATA-3", "no success with a qrCodeUrl to fetch", login)])
    results, writer = RunResults(), CassetteWriter(tmp_path / CASSETTE_NAME, settings, in_flight=1)
    results.merge(record)
    writer.add(record)
    results.close(settings.policy)
    writer.close(results)
    cassette = read_cassette(tmp_path / CASSETTE_NAME)
    [own] = cassette.tests[0].findings
    assert (own.requirement, own.outcome.value, own.exchange) == (
        "DATA-3",
        "not verified",
        cassette.entries[0].exchange,
    )
    replayed = replay(cassette, settings_of(cassette.run, {}))
    assert replayed.changed() == {}
    assert (
        replayed.results.verdict("DATA-3").value == "not verified"
        and replayed.results.verdict("DATA-2").value == "fail"
    )


@pytest.mark.parametrize(
    ("recorded", "blocking", "expected"), [(0, True, 1), (1, False, 0), (2, False, 2), (3, True, 3)]
)
def test_an_interrupted_run_stays_interrupted(recorded: int, blocking: bool, expected: int) -> None:
    """A complete run's exit status follows the replayed verdicts; an interrupted or crashed one keeps its own."""
    from datetime import datetime, timezone

    from ipadlogin_conformance.reports.run import RunInfo
    from ipadlogin_conformance.runner.replay import Replay, run_info

    results = RunResults()
    if blocking:
        results.add(violated("ENV-1", "not JSON"))
    now = datetime.now(timezone.utc)
    info = RunInfo(now, now, recorded, 64, 64 if recorded < 2 else 10)
    replayed = Replay(resolve({}, environ={}), results, [], {})
    assert run_info(replayed, info).exit_status == expected
