"""pytest-xdist: the same verdicts as a serial run, and one set of limits for the whole run.

The budget's shared state is tested directly with processes (fast, exact),
then end to end: serial against ``-n 2`` on a faulty reference server, and
the rate cap across two workers against the ``slow`` fault (300 ms a call).
"""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from suite_runs import MIXED_FAULTS, SUITE, live_args, run_suite

from ipadlogin_conformance.client.budget import Budget, BudgetExhausted
from ipadlogin_conformance.server import RunningServer, start_reference_server

TOKEN = "parallel-test-token-77c1"
"""A MUST failure (ENV-8, REQ-9) and two warnings (ENV-6, REQ-6): verdicts worth comparing."""


# --- the shared state, process against process ----------------------------------------------


def _spend(state_file: str, rate: float | None, budget: int | None, attempts: int, out: multiprocessing.Queue) -> None:
    limits = Budget(rate, budget, state_file)
    sent, times = 0, []
    for _ in range(attempts):
        try:
            reserved = limits.before_request(may_succeed=True)
        except BudgetExhausted:
            continue
        times.append(time.monotonic())
        sent += 1
        limits.after_response(True, reserved)
    limits.close()
    out.put((sent, times))


def _in_processes(
    tmp_path: Path, rate: float | None, budget: int | None, attempts: int
) -> list[tuple[int, list[float]]]:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    state = str(tmp_path / "state")
    workers = [context.Process(target=_spend, args=(state, rate, budget, attempts, out)) for _ in range(2)]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(10)
    return results


def test_success_budget_holds_across_processes(tmp_path: Path) -> None:
    results = _in_processes(tmp_path, rate=None, budget=7, attempts=10)
    assert sum(sent for sent, _ in results) == 7


def test_rate_cap_holds_across_processes(tmp_path: Path) -> None:
    rate = 40.0
    results = _in_processes(tmp_path, rate=rate, budget=None, attempts=6)
    times = sorted(t for _, sent_at in results for t in sent_at)
    assert len(times) == 12
    # Shared slots put 12 requests at least 11/rate apart, per-process caps only 5/rate;
    # one slot of slack absorbs a process that wakes late for its slot (no timing bound on speed).
    assert times[-1] - times[0] >= (len(times) - 2) / rate, times


def test_serial_state_stays_in_memory() -> None:
    limits = Budget(None, 1)
    reserved = limits.before_request(may_succeed=True)
    with pytest.raises(BudgetExhausted):
        limits.before_request(may_succeed=True)
    limits.after_response(False, reserved)
    limits.before_request(may_succeed=True)
    assert (limits.usage.requests, limits.usage.refused) == (2, 1)


# --- whole runs ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def faulty_server() -> Iterator[RunningServer]:
    with start_reference_server(token=TOKEN, faults=MIXED_FAULTS) as server:
        yield server


def _args(url: str, *extra: str) -> list[str]:
    return live_args(url, TOKEN, 40, 1234, "--success-budget", "0", *extra)


def test_two_workers_give_the_serial_verdicts(faulty_server: RunningServer) -> None:
    serial = run_suite(_args(faulty_server.url))
    parallel = run_suite(_args(faulty_server.url, "-n", "2"))
    assert serial.returncode == parallel.returncode == 1, parallel.tail()
    assert serial.verdicts, serial.tail()
    assert parallel.verdicts == serial.verdicts
    assert {"ENV-8", "REQ-9"} <= serial.fails
    assert serial.requests == parallel.requests
    if serial.summary and parallel.summary:
        checks = {item["id"]: item["counts"] for item in serial.summary["requirements"]}
        assert {item["id"]: item["counts"] for item in parallel.summary["requirements"]} == checks


def test_rate_cap_holds_across_two_workers(tmp_path: Path) -> None:
    """300 ms a call: one worker alone could do 3.3 calls/s, so a cap of 2/s binds each worker;
    capped per worker the run would reach 4/s, capped for the run it stays at 2/s."""
    rate, log = 2.0, tmp_path / "access.log"
    with start_reference_server(token=TOKEN, faults=("slow",), log=log) as server:
        run = run_suite(
            [
                "--base-url",
                server.url,
                "--auth-token",
                TOKEN,
                "--rate-limit",
                f"{rate:g}",
                "--success-budget",
                "0",
                "--assert=plain",
                "-n",
                "2",
                f"{SUITE}/test_cases.py",
                "-k",
                "auth or wcid",
            ]
        )
    assert run.returncode in (0, 1), run.tail()
    stamps = [
        datetime.fromisoformat(line.split(" ", 1)[0]) for line in log.read_text().splitlines() if " /iPadLogin " in line
    ]
    assert len(stamps) >= 10, run.tail()
    per_second = Counter(stamps)
    assert max(per_second.values()) <= rate + 1, per_second
    span_s = (max(stamps) - min(stamps)).total_seconds() + 1  # stamps are whole seconds
    assert len(stamps) / span_s <= rate * 1.3, (len(stamps), span_s)
