"""The run's overall verdict: never a vacuous pass, blame where it belongs, a harness problem named as one.

Unit tests pin the rules of :mod:`ipadlogin_conformance.results.overall` and
:mod:`ipadlogin_conformance.results.diagnosis` on hand-made results and exchanges, and
the client's wording of wire failures against hostile loopback servers.
End-to-end tests run the suite in a subprocess (a few side by side) and read
the terminal, summary.json, report.html and summary.md: a ``-k`` run, an
all-crashed run, a transport failure, a wrong token and an all-5xx target.
"""

from __future__ import annotations

import json
import shlex
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import hostile_servers as hostile
import pytest
from suite_runs import ROOT, SUITE, run_suite

from ipadlogin_conformance.checks import Expect, created_a_login
from ipadlogin_conformance.client.target import Target, TargetConfig
from ipadlogin_conformance.core.exchange import Exchange, ReceivedResponse, SentRequest
from ipadlogin_conformance.core.verdict import Finding, Outcome
from ipadlogin_conformance.reports import REPORT_HTML, SUMMARY_MD
from ipadlogin_conformance.results.diagnosis import AnswerTally, HarnessProblem, diagnose
from ipadlogin_conformance.results.overall import RunOutcome, run_verdict
from ipadlogin_conformance.results.records import RunResults
from ipadlogin_conformance.server import start_reference_server
from tools.subprocess_run import SuiteRun
from tools.subprocess_run import run_suite as run_in_subprocess

TOKEN = "verdicts-test-token-7f3a"
OTHER_TOKEN = "verdicts-other-token-c19e"
REFUSED = {"code": "1001", "message": "用户名或密码错误", "data": None}
ACCEPTED = {"code": "1000", "message": "ok", "data": {"wId": "w-1", "qrCodeUrl": "http://127.0.0.1/q.png"}}


# --- the overall verdict ----------------------------------------------------------------------


def results_with(outcomes: dict[str, Outcome], *, check_the_rest: bool = True) -> RunResults:
    """Results where the given requirements got the given outcome and (by default) every other one passed."""
    results = RunResults()
    results.tests = 1
    for rid in results.requirements:
        if rid in outcomes:
            results.add(Finding(rid, outcomes[rid], "detail"), "t::x")
        elif check_the_rest:
            results.add(Finding(rid, Outcome.PASS), "t::x")
    return results


def test_a_run_that_checked_everything_and_met_it_passes() -> None:
    verdict = run_verdict(results_with({"DATA-3": Outcome.NOT_VERIFIED}), warnings_as_errors=False)
    assert verdict.outcome is RunOutcome.PASS and verdict.complete and verdict.not_checked == ()
    assert verdict.lines() == [
        "overall: PASS — every requirement checked, every MUST met, no warning; not verified: DATA-3"
    ]


def test_one_requirement_without_a_check_makes_the_run_incomplete_not_a_pass() -> None:
    results = results_with({})
    results.requirements["REQ-7"].counts.clear()
    verdict = run_verdict(results, warnings_as_errors=False)
    assert verdict.outcome is RunOutcome.INCOMPLETE and verdict.not_checked == ("REQ-7",) and not verdict.complete
    assert verdict.lines() == [
        f"incomplete: 1 of {len(results.requirements)} requirements got no check (deselected, skipped or never reached): REQ-7",
        "overall: INCOMPLETE — no requirement failed in what ran, but the run is incomplete: not a verdict to publish",
    ]
    # A requirement only "checked" to say it could not be (TIME-2 without an answered call) got no check either.
    assert run_verdict(results_with({"TIME-2": Outcome.NOT_RUN}), warnings_as_errors=False).not_checked == ("TIME-2",)


def test_a_crashed_or_interrupted_run_is_incomplete_even_when_every_requirement_was_checked() -> None:
    verdict = run_verdict(
        results_with({}), False, ["1 test(s) crashed (failed for a reason no finding explains): t::x"]
    )
    assert verdict.outcome is RunOutcome.INCOMPLETE and verdict.not_checked == ()
    assert verdict.incomplete_reasons == ("1 test(s) crashed (failed for a reason no finding explains): t::x",)
    nothing = run_verdict(RunResults(), False, ["no test ran"])
    assert nothing.outcome is RunOutcome.INCOMPLETE and nothing.not_checked == tuple(RunResults().requirements)


def test_a_failure_found_is_conclusive_even_in_a_partial_run() -> None:
    verdict = run_verdict(
        results_with({"ENV-3": Outcome.FAIL}, check_the_rest=False), False, ["the run was interrupted"]
    )
    assert verdict.outcome is RunOutcome.FAIL and verdict.blocking == ("ENV-3",) and not verdict.complete
    assert verdict.lines()[-1] == "overall: FAIL — ENV-3 fails the run"


def test_warnings_warn_and_fail_only_with_warnings_as_errors_which_the_verdict_names() -> None:
    results = results_with({"ENV-6": Outcome.WARN, "METH-1": Outcome.WARN})
    assert run_verdict(results, False).lines() == [
        "overall: WARN — every requirement checked, every MUST met; warnings: ENV-6, METH-1"
    ]
    strict = run_verdict(results, True)
    assert strict.outcome is RunOutcome.FAIL and strict.blocking == ("ENV-6", "METH-1")
    assert strict.lines() == ["overall: FAIL — warnings are errors (--warnings-as-errors), and ENV-6, METH-1 warned"]
    both = run_verdict(results_with({"ENV-3": Outcome.FAIL, "ENV-6": Outcome.WARN}), True)
    assert both.reason == "ENV-3 fails the run; warnings are errors (--warnings-as-errors), and ENV-6 warned"


# --- the diagnosis ----------------------------------------------------------------------------


def answer(body: object, status: int = 200, content_type: str = "application/json") -> Exchange:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Exchange(
        SentRequest("POST", "http://h/iPadLogin", (), b'{"type":2}'),
        ReceivedResponse(status, (("Content-Type", content_type),), raw, 1.0),
        elapsed_ms=1.0,
    )


def tally(*observed: tuple[Exchange, Expect, tuple[str, ...]]) -> AnswerTally:
    counted = AnswerTally()
    for exchange, expect, ids in observed:
        counted.observe(exchange, expect, ids)
    return counted


def wrong_token_run(valid_answer: Exchange) -> AnswerTally:
    """What a correct server with another token answers: every request refused alike."""
    return tally(
        (answer(REFUSED), Expect.FAILURE, ("AUTH-1",)),
        (answer(REFUSED), Expect.FAILURE, ("AUTH-2",)),
        (valid_answer, Expect.SUCCESS, ("AUTH-3", "REQ-1")),
        (answer(REFUSED), Expect.SUCCESS, ("REQ-2",)),
        (answer(REFUSED), Expect.FAILURE, ("REQ-5",)),
    )


def test_a_token_refused_like_an_unknown_one_is_diagnosed() -> None:
    diagnosis = diagnose(wrong_token_run(answer(REFUSED)), token_requirement_failed=True)
    assert diagnosis is not None and diagnosis.problem is HarnessProblem.TOKEN_REFUSED
    assert diagnosis.finding == (
        "The target probably refused the token: it refused all 2 requests with the token and a valid body "
        "the same way (HTTP 200, code '1001'), exactly as it answered a request without a valid token."
    )
    assert "--auth-token" in diagnosis.advice and "IPADLOGIN_TOKEN" in diagnosis.advice


@pytest.mark.parametrize(
    ("valid_answer", "token_requirement_failed"),
    [
        (answer(ACCEPTED), True),  # one valid request succeeded: the token works
        (answer({**REFUSED, "code": "10001"}), True),  # refused two ways: the bodies matter, not the token
        (answer(REFUSED), False),  # AUTH-3 held
    ],
    ids=["one-success", "two-ways", "auth-3-held"],
)
def test_no_token_diagnosis_unless_every_valid_request_was_refused_alike(
    valid_answer: Exchange, token_requirement_failed: bool
) -> None:
    assert diagnose(wrong_token_run(valid_answer), token_requirement_failed) is None


def test_a_target_answering_only_server_errors_or_web_pages_is_diagnosed() -> None:
    crash = answer(b"Internal Server Error", 500, "text/plain")
    assert (
        diagnose(tally((crash, Expect.SUCCESS, ("REQ-1",)), (crash, Expect.FAILURE, ("REQ-4",))), True).problem
        is HarnessProblem.SERVER_ERRORS
    )
    page = answer(b"<!doctype html><title>Welcome to nginx!</title>", 200, "text/html")
    assert (
        diagnose(tally((page, Expect.SUCCESS, ("REQ-1",)), (page, Expect.FAILURE, ("REQ-4",))), True).problem
        is HarnessProblem.NOT_THE_API
    )
    missing = answer({"detail": "Not Found"}, 404)
    assert diagnose(tally((missing, Expect.SUCCESS, ("REQ-1",))), True).problem is HarnessProblem.NOT_THE_API


def test_a_server_that_breaks_a_requirement_on_every_answer_is_not_taken_for_a_setup_problem() -> None:
    """The JSON envelope served as text/html (fault text-html-content-type), a crash on some bodies only."""
    as_html = answer(ACCEPTED, content_type="text/html")
    assert diagnose(tally((as_html, Expect.SUCCESS, ("REQ-1",))), False) is None
    crash = answer(b"Internal Server Error", 500, "text/plain")
    assert (
        diagnose(tally((crash, Expect.FAILURE, ("REQ-8",)), (answer(ACCEPTED), Expect.SUCCESS, ("REQ-1",))), False)
        is None
    )
    assert diagnose(AnswerTally(), True) is None  # nothing answered: nothing to say


def test_the_tally_travels_as_plain_data_and_adds_up() -> None:
    one = wrong_token_run(answer(REFUSED))
    again = AnswerTally.from_dict(json.loads(json.dumps(one.to_dict())))
    assert again == one
    again.add(one)
    assert again.valid_sent == 4 and again.valid_refusals == {"HTTP 200, code '1001'": 4}


# --- the client names what happened on the wire --------------------------------------------


def sends(data: bytes) -> hostile.Behaviour:
    def behaviour(conn: socket.socket, ctx: hostile.Context) -> None:
        conn.sendall(data)

    return behaviour


GARBAGE_STATUS_LINE = sends(b"GARBAGE\r\nContent-Length: 2\r\n\r\n{}")


@pytest.mark.parametrize(
    ("behaviour", "error"),
    [
        (GARBAGE_STATUS_LINE, "the status line is not HTTP/1.x: b'GARBAGE'"),
        (
            sends(b"\x16\x03\x01\x00\x05hello"),
            "the answer does not start with an HTTP status line (its first bytes are not text)",
        ),
        (sends(b"HTTP/1.1 200 OK\r\nContent-Length 5\r\n\r\nhello"), "a header line is malformed: b'Content-Length 5'"),
        (sends(b""), "the server closed the connection without an answer"),
        (
            sends(hostile.response_head("200 OK", Content_Length=1000) + b'{"code":'),
            "the connection closed before the body was complete (received 8 bytes, expected 1000)",
        ),
        (hostile.reset_mid_body, "the server reset the connection"),
    ],
    ids=[
        "garbage-status-line",
        "binary-answer",
        "bad-header-line",
        "closed-without-answer",
        "closed-mid-body",
        "reset",
    ],
)
def test_a_transport_failure_is_named_for_what_happened(behaviour: hostile.Behaviour, error: str) -> None:
    with (
        hostile.HostileServer(behaviour) as server,
        Target(TargetConfig(server.url, TOKEN, 2.0), succeeded=created_a_login) as target,
    ):
        exchange = target.login(b'{"type":2}')
    assert exchange.response is None and exchange.error == error


# --- end to end ---------------------------------------------------------------------------


def answers_500(conn: socket.socket, ctx: hostile.Context) -> None:
    body = b"Internal Server Error"
    conn.sendall(hostile.response_head("500 Internal Server Error", "text/plain", Content_Length=len(body)) + body)


CRASH_EVERY_TEST = """
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    raise OverflowError("cannot convert float infinity to integer")
"""
CASES = f"{SUITE}/test_cases.py"


def _live(base_url: str, *args: str) -> list[str]:
    return [
        "--base-url",
        base_url,
        "--auth-token",
        TOKEN,
        "--rate-limit",
        "0",
        "--request-timeout",
        "2",
        "--assert=plain",
        *args,
    ]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[tuple[SuiteRun, Path]]]]:
    """Every end-to-end run, started at once, two side by side; name -> (run, reports dir)."""
    plugin_dir = tmp_path_factory.mktemp("plugin")
    (plugin_dir / "crash_every_test.py").write_text(CRASH_EVERY_TEST)
    futures: dict[str, Future[tuple[SuiteRun, Path]]] = {}
    with ExitStack() as stack, ThreadPoolExecutor(2) as pool:
        garbage = stack.enter_context(hostile.HostileServer(GARBAGE_STATUS_LINE))
        crashing = stack.enter_context(hostile.HostileServer(answers_500))
        other_token = stack.enter_context(start_reference_server(token=OTHER_TOKEN))

        def job(name: str, args: list[str], run: Callable[..., SuiteRun] = run_suite, **kwargs: object) -> None:
            def go() -> tuple[SuiteRun, Path]:
                reports = tmp_path_factory.mktemp(name)
                return run(args, reports_dir=reports, **kwargs), reports

            futures[name] = pool.submit(go)

        embedded = ["--examples", "5", "--assert=plain"]
        job("selected", [*embedded, "-k", "auth", SUITE])
        job("selected-required", [*embedded, "-k", "auth", "--require-complete", SUITE])
        job(
            "all-crashed",
            [*embedded, "-p", "crash_every_test", CASES],
            run_in_subprocess,
            cwd=ROOT,
            env={"PYTHONPATH": str(plugin_dir)},
        )
        job("garbage-status-line", _live(garbage.url, "-k", "auth-missing or relogin-unknown-account", CASES))
        job("wrong-token", _live(other_token.url, CASES))
        job("all-5xx", _live(crashing.url, CASES))
        yield futures
        for future in futures.values():
            future.result()


def finished(runs: dict[str, Future[tuple[SuiteRun, Path]]], name: str) -> tuple[SuiteRun, dict, Path]:
    run, reports = runs[name].result()
    assert run.summary is not None and "Traceback" not in run.output, run.tail()
    return run, run.summary, reports


def verdict_block(run: SuiteRun) -> list[str]:
    """The table's last lines: from the one after "requests ..." to the overall line."""
    lines = run.output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("requests ")) + 1
    end = next(i for i, line in enumerate(lines) if line.startswith("overall: ")) + 1
    return lines[start:end]


def test_a_deselected_run_reads_incomplete_everywhere_and_exits_0(runs) -> None:
    run, summary, reports = finished(runs, "selected")
    assert run.returncode == 0, run.tail()
    assert summary["verdict"] == "incomplete" and summary["complete"] is False
    assert {"AUTH-1", "AUTH-2", "AUTH-3"}.isdisjoint(summary["not_checked"]) and "REQ-8" in summary["not_checked"]
    assert verdict_block(run)[-1].startswith("overall: INCOMPLETE — ")
    assert verdict_block(run)[0].startswith(
        f"incomplete: {len(summary['not_checked'])} of 27 requirements got no check"
    )
    assert "◌ INCOMPLETE" in (reports / REPORT_HTML).read_text() and "✓ PASS" not in (reports / REPORT_HTML).read_text()
    assert (reports / SUMMARY_MD).read_text().startswith("## iPadLogin conformance: ⏹️ INCOMPLETE\n")


def test_require_complete_makes_an_incomplete_run_exit_1(runs) -> None:
    run, summary, _ = finished(runs, "selected-required")
    assert run.returncode == 1, run.tail()
    assert summary["verdict"] == "incomplete" and summary["exit_status"]["code"] == 1
    assert "--require-complete" in summary["exit_status"]["meaning"]


def test_a_run_whose_every_test_crashed_reads_incomplete(runs) -> None:
    run, summary, _ = finished(runs, "all-crashed")
    assert run.returncode == 1, run.tail()
    assert summary["verdict"] == "incomplete" and len(summary["tests"]["crashed"]) == summary["tests"]["collected"] > 0
    assert "PASS" not in "\n".join(verdict_block(run))
    assert verdict_block(run)[-1].startswith("overall: INCOMPLETE")


def test_a_transport_failure_is_one_finding_against_env_1(runs) -> None:
    """A garbage status line: ENV-1 per request, plus REQ-7 whose class promises an answer; AUTH-1 is not blamed."""
    run, summary, _ = finished(runs, "garbage-status-line")
    assert run.returncode == 1, run.tail()
    assert run.fails == {"ENV-1", "REQ-7"}, run.tail()
    by_id = {item["id"]: item for item in summary["requirements"]}
    assert by_id["ENV-1"]["counts"] == {"fail": 2} and by_id["REQ-7"]["counts"] == {"fail": 1}
    assert by_id["AUTH-1"]["verdict"] == "not run"
    assert by_id["ENV-1"]["evidence"][0]["detail"] == "no HTTP answer: the status line is not HTTP/1.x: b'GARBAGE'"
    assert summary["verdict"] == "fail" and summary["diagnosis"] is None


def test_a_wrong_token_is_diagnosed_first(runs) -> None:
    run, summary, reports = finished(runs, "wrong-token")
    assert run.returncode == 1, run.tail()
    assert summary["diagnosis"]["problem"] == "token-refused"
    assert run.fails == {"AUTH-3", "REQ-1", "REQ-2", "REQ-3", "REQ-10"}  # the verdicts stay what the suite saw
    block = verdict_block(run)
    assert (
        block[0].startswith("harness problem: The target probably refused the token") and "IPADLOGIN_TOKEN" in block[0]
    )
    assert block[-1].startswith("overall: FAIL — ")
    assert "Probably a setup problem" in (reports / REPORT_HTML).read_text()
    assert "Probably a setup problem" in (reports / SUMMARY_MD).read_text().split("\n", 3)[2]


def test_a_target_answering_only_5xx_is_diagnosed(runs) -> None:
    run, summary, _ = finished(runs, "all-5xx")
    assert run.returncode == 1, run.tail()
    assert summary["diagnosis"]["problem"] == "server-errors"
    assert verdict_block(run)[0].startswith("harness problem: The target answered every call with a server error")


def test_the_replay_gives_the_same_overall_verdict_and_honours_require_complete(
    runs, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ipadlogin_conformance import cli
    from ipadlogin_conformance.reports.cassette import CASSETTE_NAME

    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    _, summary, reports = finished(runs, "selected")
    assert cli.main(["replay", str(reports / CASSETTE_NAME), "--reports-dir", str(tmp_path / "again")]) == 0
    replayed = json.loads((tmp_path / "again" / "summary.json").read_text())
    assert (
        summary["verdict"] == replayed["verdict"] == "incomplete" and replayed["not_checked"] == summary["not_checked"]
    )
    assert (
        cli.main(
            ["replay", str(reports / CASSETTE_NAME), "--reports-dir", str(tmp_path / "gate"), "--require-complete"]
        )
        == 1
    )
    _, _, required = finished(runs, "selected-required")
    assert (
        cli.main(["replay", str(required / CASSETTE_NAME), "--reports-dir", str(tmp_path / "recorded")]) == 1
    )  # as recorded


def test_the_readmes_jq_gate_accepts_only_a_complete_run_that_did_not_fail(runs, tmp_path: Path) -> None:
    jq = shutil.which("jq")
    if jq is None:
        pytest.skip("jq is not installed (Debian: apt-get install jq); the gate line in the README needs it")
    line = next(line for line in (ROOT / "README.md").read_text("utf-8").splitlines() if line.startswith("jq -e "))
    program = shlex.split(line)[2]

    def gate(summary: dict) -> int:
        path = tmp_path / "summary.json"
        path.write_text(json.dumps(summary))
        return subprocess.run([jq, "-e", program, str(path)], capture_output=True).returncode

    _, incomplete, _ = finished(runs, "selected")
    _, failed, _ = finished(runs, "wrong-token")
    assert gate(incomplete) != 0 and gate(failed) != 0
    assert gate({**incomplete, "complete": True, "verdict": "pass"}) == 0
    assert gate({**incomplete, "complete": True, "verdict": "warn"}) == 0
