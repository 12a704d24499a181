"""What a run shows a person, end to end through the console tool.

A server with one fault (code-int: every answer breaks ENV-3) is tested once,
hand-written cases and a generated run; then: the terminal tells ENV-3 in one
block; every curl line the run printed (terminal, JUnit, summary.json,
report.html) and every exchange of its cassette sends, through bash and curl
to a capture server, exactly the recorded request, test by test; no control
byte reaches the terminal, even from a server that answers with them; a
lenient run shows its warning's evidence; a long property test against a slow,
rate-capped server shows its progress on a terminal.
"""

from __future__ import annotations

import html
import json
import os
import pty
import re
import select
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from capture_server import capture_server
from hostile_servers import Context, HostileServer, response_head
from test_reproduce import CONTROL, TOKEN, assert_sent_as_recorded, needs_curl, run_curl

from ipadlogin_conformance.core.exchange import Exchange, ReceivedResponse, SentRequest
from ipadlogin_conformance.core.label import Judgement
from ipadlogin_conformance.core.redaction import Redactor
from ipadlogin_conformance.core.reproduce import Reproduction, curl_line, request_id
from ipadlogin_conformance.core.verdict import Finding, Outcome
from ipadlogin_conformance.reports.cassette import RecordedEntry, read_cassette
from ipadlogin_conformance.results.records import RunResults
from ipadlogin_conformance.results.records import TestRecord as Record
from ipadlogin_conformance.runner.findings import finding_block
from ipadlogin_conformance.runner.progress import WorkProgress
from ipadlogin_conformance.server import start_reference_server

TOOL = [sys.executable, "-m", "ipadlogin_conformance.cli"]
SEED = "13"


def tool_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("IPADLOGIN_", "PYTEST_", "GITHUB_"))}
    env["IPADLOGIN_TOKEN"] = TOKEN  # in the environment, as the README advises: never on a command line
    return env


def run_tool(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TOOL, *args], cwd=cwd, env=tool_env(), capture_output=True, text=True, timeout=600)


@dataclass(frozen=True)
class Run:
    cwd: Path
    result: subprocess.CompletedProcess[str]

    @property
    def reports(self) -> Path:
        return self.cwd / "reports"

    @property
    def stdout(self) -> str:
        return self.result.stdout


@pytest.fixture(scope="module")
def code_int_server() -> Iterator[str]:
    with start_reference_server(token=TOKEN, faults=("code-int",)) as server:
        yield server.url


@pytest.fixture(scope="module")
def code_int_run(code_int_server: str, tmp_path_factory: pytest.TempPathFactory) -> Run:
    cwd = tmp_path_factory.mktemp("code-int")
    result = run_tool(
        cwd,
        "run",
        "--base-url",
        code_int_server,
        "--rate-limit",
        "0",
        "--examples",
        "10",
        "--hypothesis-seed",
        SEED,
        "--reports-dir",
        "reports",
    )
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    return Run(cwd, result)


# --- one defect, one finding --------------------------------------------------------------


def test_a_one_fault_server_gives_one_block_per_broken_requirement(code_int_run: Run) -> None:
    out = code_int_run.stdout
    failed = [
        case
        for case in ET.parse(code_int_run.reports / "junit.xml").getroot().iter("testcase")
        if case.find("failure") is not None
    ]
    logins = [
        entry
        for entry in read_cassette(code_int_run.reports / "exchanges.har").entries
        if entry.exchange.label.judgement is Judgement.LOGIN and entry.exchange.response is not None
    ]
    headers = re.findall(r"^(\S+) \((MUST|SHOULD)\) (broken|warned) by (.*?): ", out, flags=re.M)
    assert headers == [("ENV-3", "MUST", "broken", f"{len(failed)} tests, {len(logins)} responses")], headers
    assert all(
        {p.get("name"): p.get("value") for p in case.iter("property")}.get("broken") == "ENV-3" for case in failed
    )
    block = out[out.index("findings by requirement") : out.index("iPadLogin conformance")]
    assert (
        "  first: test_cases.py::test_case[" in block
        and "  reproduce: curl " in block
        and "or: ipadlogin-conformance resend " in block
    )
    assert "FAILURES" not in out  # pytest's per-test sections stay behind -v / --tb
    assert len(out.splitlines()) < 200  # it was 764 lines for this server


def test_progress_lines_and_the_short_summary_name_the_broken_requirement(code_int_run: Run) -> None:
    lines = code_int_run.stdout.splitlines()
    assert any(
        re.fullmatch(r"\[ *\d+/\d+\] FAIL  test_cases\.py::test_case\[auth-missing\]  ENV-3 broken  [\d.]+ s", line)
        for line in lines
    )
    assert any(
        re.fullmatch(r"\[ *\d+/\d+\] pass  test_methods\.py::test_other_method_refused\[GET\]  METH-1  [\d.]+ s", line)
        for line in lines
    )
    summary = [line for line in lines if line.startswith("FAILED ")]
    assert summary and all(re.match(r"FAILED test_\w+\.py::\S+ - ENV-3 broken", line) for line in summary), summary
    assert "site-packages" not in code_int_run.stdout and "../" not in code_int_run.stdout


# --- every curl line sends the recorded request --------------------------------------------


def printed_reproductions(run: Run) -> dict[str, list[tuple[str, str, str]]]:
    """(test id, curl line, request id) as each output prints them."""

    def from_text(text: str, test: str) -> list[tuple[str, str, str]]:
        pairs = re.findall(r"reproduce: (.+)\n\s+or: ipadlogin-conformance resend \S+ ([0-9a-f]{12})", text)
        return [(test, line, rid) for line, rid in pairs]

    terminal = []
    for block in run.stdout.split("\n\n"):
        first = re.search(r"first: (\S+):", block)
        if first:
            terminal += from_text(block, first.group(1))
    junit = []
    for case in ET.parse(run.reports / "junit.xml").getroot().iter("testcase"):
        failure = case.find("failure")
        if failure is not None:
            junit += from_text(failure.text or "", f"{case.get('name')}")
    summary = json.loads((run.reports / "summary.json").read_text("utf-8"))
    documented = [
        (evidence["test"], evidence["exchange"]["curl"], evidence["exchange"]["request_id"])
        for item in summary["requirements"]
        for evidence in item["evidence"]
        if evidence["exchange"]
    ]
    page = (run.reports / "report.html").read_text("utf-8")
    shown = re.findall(
        r'<pre class="curl">(.*?)</pre>\s*<p class="more">Without a POSIX shell: <code>ipadlogin-conformance resend \S+ ([0-9a-f]{12})</code>',
        page,
        flags=re.S,
    )
    html_lines = [("", html.unescape(re.sub(r"<[^>]+>", "", line)), rid) for line, rid in shown]
    return {"terminal": terminal, "junit": junit, "summary.json": documented, "report.html": html_lines}


@needs_curl
def test_every_curl_line_the_run_printed_sends_its_recorded_request(code_int_run: Run) -> None:
    entries: dict[str, list[RecordedEntry]] = {}  # a request sent by two tests (the same bytes) has one id
    for entry in read_cassette(code_int_run.reports / "exchanges.har").entries:
        entries.setdefault(request_id(entry.exchange.request), []).append(entry)
    printed = printed_reproductions(code_int_run)
    assert all(printed.values()), {source: len(lines) for source, lines in printed.items()}
    tests = {test.rpartition("::")[2].partition("[")[0] for test, _line, _rid in printed["junit"]}
    assert {
        "test_case",
        "test_generated_cases_1_of_2",
        "test_generated_cases_2_of_2",
    } <= tests  # hand-written and generated
    with capture_server() as (port, captured):
        for source, lines in printed.items():
            for test, line, rid in lines:
                entry = next(entry for entry in entries[rid] if entry.test_id.endswith(test.split("::")[-1]))
                assert not CONTROL.search(line)
                run_curl(line, port, code_int_run.cwd)
                assert_sent_as_recorded(captured[-1], entry.exchange.request)


@needs_curl
def test_every_exchange_of_the_run_reproduces_test_by_test(code_int_run: Run) -> None:
    cassette = code_int_run.reports / "exchanges.har"
    where = Reproduction.in_reports(code_int_run.reports, cassette)
    by_test: dict[str, list[SentRequest]] = {}
    for entry in read_cassette(cassette).entries:
        by_test.setdefault(entry.test_id, []).append(entry.exchange.request)
    phases = {entry.exchange.label.phase for entry in read_cassette(cassette).entries}
    assert {"coverage", "fuzzing"} <= phases and len(by_test) > 60
    with capture_server() as (port, captured):
        for test, requests in by_test.items():
            for request in requests:
                run_curl(curl_line(request, where), port, code_int_run.cwd)
            assert len(captured) >= len(requests), test
            for got, request in zip(captured[-len(requests) :], requests):
                assert_sent_as_recorded(got, request)


def test_resend_sends_a_recorded_request_again_and_judges_it(code_int_run: Run) -> None:
    cassette = code_int_run.reports / "exchanges.har"
    entry = next(entry for entry in read_cassette(cassette).entries if entry.test_id.endswith("test_case[auth-empty]"))
    rid = request_id(entry.exchange.request)
    again = run_tool(code_int_run.cwd, "resend", str(cassette), rid)
    assert again.returncode == 1, again.stdout + again.stderr
    assert f"request {rid} of test_cases.py::test_case[auth-empty], sent again:" in again.stdout
    assert "        Authorization: \n" in again.stdout  # the empty token, sent as recorded
    assert re.search(r"^ENV-3 fail: \$\.code: 1001 is not of type 'string'", again.stdout, flags=re.M)
    with start_reference_server(token=TOKEN) as fixed:
        to_fixed = run_tool(code_int_run.cwd, "resend", str(cassette), rid, "--base-url", fixed.url)
    assert to_fixed.returncode == 0 and "pass: AUTH-2, ENV-1" in to_fixed.stdout, to_fixed.stdout + to_fixed.stderr
    assert TOKEN not in again.stdout + to_fixed.stdout
    missing = run_tool(code_int_run.cwd, "resend", str(cassette), "000000000000")
    assert missing.returncode == 4 and missing.stderr.count("\n") == 1 and "no request '000000000000'" in missing.stderr


# --- the report's figures are what ran ------------------------------------------------------


def test_the_reports_give_each_property_tests_real_case_count(code_int_run: Run) -> None:
    summary = json.loads((code_int_run.reports / "summary.json").read_text("utf-8"))
    entries = read_cassette(code_int_run.reports / "exchanges.har").entries
    generated = {item["test"]: item["cases"] for item in summary["tests"]["generated"]}
    assert len(generated) == 2 and all(
        cases == sum(e.test_id == test for e in entries) for test, cases in generated.items()
    )
    page = (code_int_run.reports / "report.html").read_text("utf-8")
    for test, cases in generated.items():
        assert f"{cases} sent by {test.rpartition('::')[2]}" in page
    assert "of no cap" not in page and f"{summary['budget']['successes']} successes (budget 25)" in page


# --- no control byte on the terminal ---------------------------------------------------------

HOSTILE_BODY = b'{"code":"1001\x1b[2J\x1b]0;pwned\x07","message":"\x00\r\x08evil\xe2\x80\xae","data":null}'


def terminal_escapes(conn: socket.socket, ctx: Context) -> None:
    """A failure envelope whose strings hold terminal escapes, NUL, CR, backspace and a bidi override."""
    conn.sendall(response_head("200 OK", Content_Length=len(HOSTILE_BODY)) + HOSTILE_BODY)


def test_no_control_byte_reaches_the_terminal(tmp_path: Path) -> None:
    with HostileServer(terminal_escapes) as server:
        result = run_tool(
            tmp_path,
            "run",
            "--base-url",
            server.url,
            "--rate-limit",
            "0",
            "--reports-dir",
            "reports",
            "--",
            "-k",
            "auth-missing or auth-empty",
        )
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout + result.stderr
    assert "\\x1b[2J" in out and "\\u202e" in out  # the server's text is there, escaped
    assert not CONTROL.search(out), repr(CONTROL.search(out))
    for name in ("junit.xml", "summary.json", "report.html", "summary.md"):
        assert not CONTROL.search((tmp_path / "reports" / name).read_text("utf-8")), name


# --- warnings tell their evidence ------------------------------------------------------------


def test_a_lenient_run_shows_its_warnings_evidence(code_int_server: str, tmp_path: Path) -> None:
    result = run_tool(
        tmp_path,
        "run",
        "--base-url",
        code_int_server,
        "--profile",
        "lenient",
        "--rate-limit",
        "0",
        "--reports-dir",
        "reports",
        "--",
        "-k",
        "test_case and auth",
    )
    assert result.returncode == 0, result.stdout[-3000:]
    out = result.stdout
    block = out[out.index("findings by requirement") : out.index("iPadLogin conformance")]
    assert re.search(r"^ENV-3 \(MUST\) warned by \d+ tests, \d+ responses: ", block, flags=re.M), block
    assert "  first: test_cases.py::test_case[auth-" in block and "  reproduce: curl " in block
    assert re.search(r"\[ *\d+/\d+\] pass  test_cases\.py::test_case\[auth-missing\]  ENV-3 warned  ", out)


# --- progress of long work ---------------------------------------------------------------------


def run_on_a_terminal(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    """Run ``command`` with a pseudo-terminal as its stdout and stderr, and return what it wrote."""
    master, slave = pty.openpty()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    output = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            elif process.poll() is not None:
                break
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)
        os.close(master)
    return output.decode("utf-8", "replace")


def test_a_rate_capped_run_against_a_slow_server_shows_the_property_tests_progress(tmp_path: Path) -> None:
    with start_reference_server(
        token=TOKEN, faults=("slow",)
    ) as server:  # 300 ms an answer, 5 requests a second at most
        out = run_on_a_terminal(
            [
                *TOOL,
                "run",
                "--base-url",
                server.url,
                "--rate-limit",
                "5",
                "--examples",
                "6",
                "--reports-dir",
                "reports",
                "--",
                "-k",
                "test_properties",
            ],
            tmp_path,
            tool_env(),
        )
    shown = re.findall(
        r"test_generated_cases_1_of_2  (\d+) cases sent in \d+ s \(fuzzing (\d+) of 3\) · "
        r"(\d+) of 25 successes · (?:about|at least) \d+ s left",
        out,
    )
    assert shown, out[-3000:]
    assert [int(sent) for sent, *_ in shown] == sorted(int(sent) for sent, *_ in shown)
    assert re.search(r"\[1/2\] \S*pass\S*  test_properties\.py::test_generated_cases_1_of_2", out)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Shown:
    def __init__(self, interactive: bool) -> None:
        self.interactive = interactive
        self.lines: list[tuple[float, str]] = []
        self.clock = FakeClock()
        self.finished = False

    def show(self, text: str) -> None:
        self.lines.append((self.clock.now, text))

    def finish(self) -> None:
        self.finished = True


class FakeBudget:
    max_successes = 25

    class usage:  # noqa: N801 - the shape of budget.BudgetUsage
        successes = 3


@pytest.mark.parametrize(("interactive", "every"), [(True, 2.0), (False, 10.0)], ids=["terminal", "ci-log"])
def test_a_long_test_reports_every_interval(interactive: bool, every: float) -> None:
    """On a terminal every 2 s, in a CI log every 10 s; a request every 0.5 s for 30 s."""
    display = Shown(interactive)
    progress = WorkProgress(display, FakeBudget(), clock=display.clock)  # type: ignore[arg-type]
    progress.plan(50, "fuzzing")
    for step in range(1, 61):
        display.clock.now = step * 0.5
        progress.tick("coverage" if step <= 10 else "fuzzing")
    times = [at for at, _text in display.lines]
    assert times == [every * n for n in range(1, int(30 // every) + 1)]
    at, text = display.lines[-1]
    assert text == "60 cases sent in 30 s (fuzzing 50 of 50) · 3 of 25 successes · about 0 s left"
    first = display.lines[0][1]
    assert ("(fuzzing 0 of 50)" in first and "at least 25 s left" in first) if interactive else "fuzzing" in first
    progress.finish()
    assert display.finished


def test_a_short_test_shows_nothing() -> None:
    display = Shown(True)
    progress = WorkProgress(display, clock=display.clock)  # type: ignore[arg-type]
    for step in range(10):
        display.clock.now = step * 0.1
        progress.tick()
    assert display.lines == []


def test_a_finding_block_escapes_what_the_server_and_the_suite_sent() -> None:
    request = SentRequest(
        "POST",
        "http://h.test/iPadLogin",
        (("Content-Type", "application/json"), ("X-Odd", "a\x1bb")),
        b"\x00\x1b[31m\r\n",
    )
    exchange = Exchange(
        request, ReceivedResponse(500, (("Content-Type", "text/x\x07"),), HOSTILE_BODY, 2.0), elapsed_ms=2.0
    )
    results = RunResults()
    results.merge(
        Record(
            "suite/test_cases.py::test_case[x]",
            [
                Finding("ENV-8", Outcome.FAIL, "5xx \x1b[2J", exchange),
                Finding("ENV-8", Outcome.FAIL, "again", exchange),
            ],
        )
    )
    results.merge(
        Record("suite/test_cases.py::test_case[y]", [Finding("ENV-6", Outcome.WARN, "code '4001'", exchange)])
    )
    failing = finding_block(results.requirements["ENV-8"], Reproduction(), Redactor(None))
    assert failing[0].startswith("ENV-8 (MUST) broken by 1 test, 1 response: ")
    assert "  first: test_cases.py::test_case[x]: 5xx \\x1b[2J" in failing and any(
        line.startswith("  reproduce: printf ") for line in failing
    )
    assert not any(CONTROL.search(line) for line in failing)
    warning = finding_block(results.requirements["ENV-6"], Reproduction(), Redactor(None))
    assert warning[0].startswith("ENV-6 (SHOULD) warned by 1 test, 1 response: ") and len(warning) < len(failing)
    assert not any(line.lstrip().startswith(("sent:", "got:")) for line in warning)


def test_a_failure_is_told_by_its_own_evidence_even_after_many_warnings() -> None:
    """ENV-7: its SHOULD clause warns on many answers before its MUST fails on one."""
    results = RunResults()
    for n in range(8):
        results.add(Finding("ENV-7", Outcome.WARN, f"data {{}} #{n}"), f"t::warn{n}")
    results.add(Finding("ENV-7", Outcome.FAIL, "a failure carries a wId"), "t::fail")
    block = finding_block(results.requirements["ENV-7"], Reproduction(), Redactor(None))
    assert (
        block[0].startswith("ENV-7 (MUST) broken by 9 tests")
        and block[1] == "  first: t::fail: a failure carries a wId"
    )
