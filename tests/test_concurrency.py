"""Requests in flight within the limits (concurrency.py, prefetch.py, alike.py, plan.py).

The client is tested directly (fast, exact): the rate cap, the success budget
and the stall rule hold with requests in flight, and nothing is lost to a
server that drops connections. Then whole runs: the same verdicts and the
same cassette as a sequential run with one seed, the budget across ``-n 2``,
the plan shown at the start, and a wrong --concurrency as a usage error.
(The rate cap across two workers, now with the live default of 8 in flight,
is test_parallel.py's test_rate_cap_holds_across_two_workers.)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_servers import Context, HostileServer, response_head, silent
from suite_runs import MIXED_FAULTS, ROOT, SUITE, live_args, run_suite

from ipadlogin_conformance.checks import Expect, created_a_login
from ipadlogin_conformance.client.budget import Budget, BudgetExhausted
from ipadlogin_conformance.client.concurrency import InFlight, LoginCall, Sent
from ipadlogin_conformance.client.target import Target, TargetConfig, TargetStalled
from ipadlogin_conformance.core.exchange import ErrorKind, json_dumps
from ipadlogin_conformance.core.settings import SettingsError, resolve
from ipadlogin_conformance.server import RunningServer, start_reference_server
from ipadlogin_conformance.suite.alike import FirstOfKind, body_shape
from ipadlogin_conformance.suite.generation import GeneratedRequest

TOKEN = "concurrency-test-token-5d2e"
"""A MUST failure (ENV-8, REQ-9) and two warnings (ENV-6, REQ-6): verdicts worth comparing."""
FAILURE = b'{"code":"1001","message":"no","data":null}'
VALID = LoginCall(json_dumps({"type": 2}))
MUST_FAIL = LoginCall(json_dumps({"type": "x"}), may_succeed=False)
REFUSED_ANYWAY = LoginCall(json_dumps({"type": 2}), token="not-the-token-of-this-server-0000")
"""May succeed as far as the budget knows (it holds a reservation), and is refused."""


@pytest.fixture(scope="module")
def reference() -> Iterator[RunningServer]:
    with start_reference_server(token=TOKEN) as server:
        yield server


def _sent(
    url: str, calls: list[LoginCall], concurrency: int, budget: Budget | None = None, timeout_s: float = 10.0
) -> tuple[list[Sent], Target]:
    target = Target(
        TargetConfig(url, TOKEN, request_timeout_s=timeout_s), budget or Budget(), succeeded=created_a_login
    )
    with target, InFlight(target, concurrency) as flight:
        for call in calls:
            flight.submit(call)
        return list(flight.results()), target


def _outline(results: list[Sent]) -> list[tuple[str, int | None]]:
    """What a run reads of each result: not sent (why), or the status."""
    return [
        (type(sent.not_sent).__name__, None)
        if sent.exchange is None
        else ("sent", sent.exchange.response.status if sent.exchange.response else None)
        for sent in results
    ]


# --- the client, with requests in flight -------------------------------------------------------


def test_success_budget_refuses_the_requests_a_sequential_run_refuses(reference: RunningServer) -> None:
    # The reservations of the refused-anyway requests in flight must not refuse the valid ones after them.
    calls = [REFUSED_ANYWAY, REFUSED_ANYWAY, REFUSED_ANYWAY, VALID, MUST_FAIL, VALID, VALID, MUST_FAIL, VALID, VALID]
    sequential, _ = _sent(reference.url, calls, 1, Budget(None, 3))
    concurrent, _ = _sent(reference.url, calls, 4, Budget(None, 3))
    assert _outline(concurrent) == _outline(sequential)
    assert sum(sent.successes for sent in concurrent) == 3
    assert [type(sent.not_sent) for sent in concurrent].count(BudgetExhausted) == 2
    assert sum(sent.refused for sent in concurrent) == 2


def _stamped(times: list[float]) -> object:
    def answer(conn: object, ctx: Context) -> None:
        times.append(time.monotonic())
        conn.sendall(response_head("200 OK", Content_Length=len(FAILURE)) + FAILURE)  # type: ignore[attr-defined]

    return answer


def test_rate_cap_holds_with_requests_in_flight() -> None:
    rate, times = 40.0, []
    with HostileServer(_stamped(times)) as server:  # type: ignore[arg-type]
        results, _ = _sent(server.url, [MUST_FAIL] * 12, 4, Budget(rate, None))
    assert [sent.requests for sent in results] == [1] * 12
    times.sort()
    # 12 requests take at least 11 slots; one of slack for a late wake-up (no bound on speed).
    assert times[-1] - times[0] >= (len(times) - 2) / rate, times


def test_a_host_hanging_from_the_start_gets_one_request() -> None:
    with HostileServer(silent) as server:
        results, target = _sent(server.url, [MUST_FAIL] * 12, 4, timeout_s=1.0)
        received = len(server.requests)
    first, *rest = results
    assert first.exchange is not None and first.exchange.timed_out
    assert all(isinstance(sent.not_sent, TargetStalled) for sent in rest)
    assert received == 1  # the first request goes alone
    assert target.stalled() is not None


def test_a_host_hanging_midway_costs_one_timeout_not_one_per_request() -> None:
    turns = iter(range(1_000_000))
    lock = threading.Lock()

    def answers_twice_then_hangs(conn: object, ctx: Context) -> None:
        with lock:
            turn = next(turns)
        if turn < 2:
            conn.sendall(response_head("200 OK", Content_Length=len(FAILURE)) + FAILURE)  # type: ignore[attr-defined]
        else:
            silent(conn, ctx)  # type: ignore[arg-type]

    with HostileServer(answers_twice_then_hangs) as server:  # type: ignore[arg-type]
        results, target = _sent(server.url, [MUST_FAIL] * 12, 4, timeout_s=1.0)
        received = len(server.requests)
    timed_out = [i for i, sent in enumerate(results) if sent.exchange is not None and sent.exchange.timed_out]
    assert len(timed_out) == 1, _outline(results)  # one timeout read; the answers after it in order are dropped
    assert all(isinstance(sent.not_sent, TargetStalled) for sent in results[timed_out[0] + 1 :])
    assert received <= 2 + 4  # the answered two, then never more than were in flight when the hang began
    assert target.stalled() is not None


def test_a_server_dropping_every_other_connection_loses_no_answer() -> None:
    served = iter(range(1_000_000))
    lock = threading.Lock()

    def every_other(conn: object, ctx: Context) -> None:
        with lock:
            turn = next(served)
        if turn % 2 == 0:
            conn.sendall(response_head("200 OK", Content_Length=len(FAILURE)) + FAILURE)  # type: ignore[attr-defined]
        # odd turns: the connection is closed without an answer

    with HostileServer(every_other) as server:  # type: ignore[arg-type]
        results, _ = _sent(server.url, [MUST_FAIL] * 10, 4)
    assert len(results) == 10 and all(sent.exchange is not None for sent in results)
    kinds = {sent.exchange.error_kind for sent in results if sent.exchange and sent.exchange.response is None}
    assert kinds and kinds <= {ErrorKind.CONNECTION_CLOSED.value}, kinds
    assert any(sent.exchange and sent.exchange.response is not None for sent in results)


# --- alike generated cases ------------------------------------------------------------------


def _generated(
    body: bytes, expect: Expect = Expect.FAILURE, requirements: tuple[str, ...] = ("REQ-6",)
) -> GeneratedRequest:
    return GeneratedRequest(body, "application/json", True, "c", expect, requirements, "fuzzing")


def test_cases_alike_by_class_and_body_shape() -> None:
    assert body_shape(b'{"type": 7}') == body_shape(b'{"type": 12}') == '{"type":int}'
    assert body_shape(b'{"type": "7"}') != body_shape(b'{"type": 7}')
    assert body_shape(b"{") == "not JSON" and body_shape(None) == "no body"
    assert body_shape(b"[" * 40 + b"]" * 40).count("deep") == 1
    alike = FirstOfKind()
    assert alike.first(_generated(b'{"type": 7}'))
    assert not alike.first(_generated(b'{"type": 12}'))
    assert alike.first(_generated(b'{"type": 12}', Expect.ANSWER, ("REQ-4",)))  # another class: sent


# --- whole runs -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def faulty_server() -> Iterator[RunningServer]:
    with start_reference_server(token=TOKEN, faults=MIXED_FAULTS) as server:
        yield server


def _args(url: str, *extra: str) -> list[str]:
    return live_args(url, TOKEN, 60, 4321, *extra)


def _cassette(reports: Path) -> list[tuple[str, str | None, int]]:
    """Each entry's request and status, in order (a success's wId is new on every call)."""
    entries = json.loads((reports / "exchanges.har").read_text("utf-8"))["log"]["entries"]
    return [
        (e["request"]["method"], e["request"].get("postData", {}).get("text"), e["response"]["status"]) for e in entries
    ]


def test_in_flight_run_gives_the_sequential_verdicts_and_cassette(faulty_server: RunningServer, tmp_path: Path) -> None:
    runs = {
        n: run_suite(
            _args(faulty_server.url, "--success-budget", "0", "--concurrency", str(n)), reports_dir=tmp_path / str(n)
        )
        for n in (1, 4)
    }
    sequential, concurrent = runs[1], runs[4]
    assert sequential.returncode == concurrent.returncode == 1, concurrent.tail()
    assert {"ENV-8", "REQ-9"} <= sequential.fails
    assert concurrent.verdicts == sequential.verdicts
    assert concurrent.requests == sequential.requests
    assert _cassette(tmp_path / "4") == _cassette(tmp_path / "1")
    assert re.search(r"plan ~\d+ requests, no rate cap, up to 4 in flight", concurrent.output), concurrent.tail()


def test_success_budget_holds_with_requests_in_flight_on_two_workers(reference: RunningServer) -> None:
    run = run_suite(_args(reference.url, "--success-budget", "5", "--concurrency", "4", "-n", "2"))
    assert run.summary is not None, run.tail()
    assert run.summary["budget"]["successes"] <= 5
    assert run.summary["budget"]["refused"] > 0


def test_the_plan_is_shown_before_the_first_request(reference: RunningServer) -> None:
    run = run_suite(
        [
            "--base-url",
            reference.url,
            "--auth-token",
            TOKEN,
            "--hypothesis-seed",
            "4321",
            "--collect-only",
            f"{SUITE}/test_cases.py",
        ]
    )
    assert "plan" not in run.output  # a collection sends nothing, and plans nothing
    run = run_suite(
        [
            "--base-url",
            reference.url,
            "--auth-token",
            TOKEN,
            "--assert=plain",
            "-k",
            "auth or method",
            f"{SUITE}/test_cases.py",
            f"{SUITE}/test_methods.py",
        ]
    )
    selected = int(re.search(r"(\d+) passed", run.output).group(1))  # type: ignore[union-attr]
    assert f"plan ~{selected} requests, ~{selected / 5:.0f} s at 5 req/s, up to 8 in flight" in run.output, run.tail()


@pytest.mark.parametrize("value", ["0", "-2", "33", "1000000", "four"])
def test_a_wrong_concurrency_is_a_usage_error(value: str) -> None:
    with pytest.raises(SettingsError, match=r"must be a whole number from 1 to 32"):
        resolve({"ipadlogin_concurrency": value}, environ={})
    with pytest.raises(SettingsError, match=r"IPADLOGIN_CONCURRENCY"):
        resolve({}, environ={"IPADLOGIN_CONCURRENCY": value})


def test_a_wrong_concurrency_is_one_line_and_exit_4() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", SUITE, "--concurrency", "0"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 4
    assert "--concurrency='0': must be a whole number from 1 to 32" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_concurrency_defaults_by_target() -> None:
    assert resolve({}, environ={}).concurrency == 1
    live = resolve({"base_url": "http://127.0.0.1:9", "ipadlogin_auth_token": TOKEN}, environ={})
    assert (live.concurrency, live.examples) == (8, 300)
    assert resolve({"ipadlogin_concurrency": "8"}, environ={}).concurrency == 8
