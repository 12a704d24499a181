"""No hostile target can hang, crash, bloat or leak through the suite.

Each scenario runs the real suite in a subprocess against a misbehaving
server on loopback and asserts what a user would see: a clearly failed
requirement (or the one-line "cannot reach" usage error), no traceback, a
run that ends within the request timeout + 2 s of its first request, a peak
RSS under 300 MB, and a token that never reaches another host. Scenarios run
side by side (they mostly wait), each with few examples and a 2 s timeout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass

import pytest

import hostile_servers as hostile
from suite_runs import SUITE, SuiteRun, run_suite

TOKEN = "hostile-test-token-5e1d"
TIMEOUT_S = 2.0
SLACK_S = 2.0
MAX_RSS_MB = 300
SIDE_BY_SIDE = 2
"""Concurrent suite runs: one per core, so a run is not starved of CPU after its first request."""
QR_TEST = f"{SUITE}/test_qr.py"

LOGIN_BEHAVIOURS: dict[str, tuple[hostile.Behaviour, set[str]]] = {
    # scenario: (behaviour of POST /iPadLogin, requirements that must fail)
    "never-answers": (hostile.silent, {"TIME-1"}),
    "trickles-body": (hostile.trickle, {"TIME-1"}),
    "1-gib-body": (hostile.huge, {"ENV-1"}),
    "endless-chunks": (hostile.endless_chunks, {"ENV-1"}),
    "reset-mid-body": (hostile.reset_mid_body, {"ENV-1"}),
    "invalid-utf8": (hostile.invalid_utf8, {"ENV-1"}),
    "gzip-bomb": (hostile.gzip_bomb, {"ENV-1"}),
    "redirect-loop": (hostile.redirect_loop, {"ENV-1"}),
    "redirect-away": (hostile.redirect_away, {"ENV-1"}),
}
QR_BEHAVIOURS: dict[str, hostile.Behaviour] = {name: behaviour for name, (behaviour, _) in LOGIN_BEHAVIOURS.items()}


@dataclass
class Scenario:
    run: SuiteRun
    first_request: float | None
    witness_requests: list[hostile.Request]


def _suite_args(base_url: str, *extra: str, selection: str = SUITE) -> list[str]:
    # --assert=plain: the suite's tests never assert, and without it pytest rewrites every
    # schemathesis and hypothesis module at each start when bytecode is not cached (1.5 s of CPU).
    return ["--base-url", base_url, "--auth-token", TOKEN, "--rate-limit", "0", "--examples", "5",
            "--request-timeout", f"{TIMEOUT_S:g}", "--assert=plain", *extra, selection]


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[Scenario]]]:
    """Every scenario, started at once on a small pool; a test waits for its own."""
    certs = tmp_path_factory.mktemp("tls")
    cert, key = hostile.self_signed_certificate(certs)
    tls = hostile.server_tls_context(cert, key)
    with ExitStack() as stack, ThreadPoolExecutor(SIDE_BY_SIDE) as pool:
        witness = stack.enter_context(hostile.HostileServer(hostile.not_found, host="127.0.0.2"))

        def serve(behaviour: hostile.Behaviour, **kwargs: object) -> hostile.HostileServer:
            server = stack.enter_context(hostile.HostileServer(behaviour, **kwargs))
            server.links["witness"] = witness.url
            return server

        def scenario(server_of_record: hostile.HostileServer | None, args: list[str]) -> Callable[[], Scenario]:
            def run() -> Scenario:
                reports = tmp_path_factory.mktemp("reports")
                result = run_suite(args, kill_after_s=90, reports_dir=reports)
                first = server_of_record.first_request if server_of_record else None
                return Scenario(result, first, list(witness.requests))
            return run

        jobs: dict[str, Callable[[], Scenario]] = {}
        for name, (behaviour, _) in LOGIN_BEHAVIOURS.items():
            server = serve(behaviour)
            jobs[f"login-{name}"] = scenario(server, _suite_args(server.url))
        for name, behaviour in QR_BEHAVIOURS.items():
            qr = serve(behaviour)
            login = serve(hostile.login_pointing_at(f"{qr.url}/qr/w-1.png"))
            jobs[f"qr-{name}"] = scenario(qr, _suite_args(login.url, selection=QR_TEST))
        qr_tls = serve(hostile.not_found, tls=tls)
        login = serve(hostile.login_pointing_at(f"{qr_tls.url}/qr/w-1.png"))
        jobs["qr-self-signed-tls"] = scenario(None, _suite_args(login.url, selection=QR_TEST))
        reference = stack.enter_context(hostile.TlsReferenceServer(TOKEN, cert, key))
        jobs["tls-refused"] = scenario(None, _suite_args(reference.url))
        jobs["tls-insecure"] = scenario(None, _suite_args(reference.url, "--insecure", "--success-budget", "0"))
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        yield futures
        for future in futures.values():
            future.result()


def _common_bounds(scenario: Scenario) -> None:
    run = scenario.run
    assert "Traceback" not in run.output, run.tail()
    assert run.maxrss_mb < MAX_RSS_MB, f"peak RSS {run.maxrss_mb:.0f} MB"
    if scenario.first_request is not None:
        after_first_request = run.exited - scenario.first_request
        assert after_first_request <= TIMEOUT_S + SLACK_S, f"ran {after_first_request:.1f} s after its first request"
    assert TOKEN not in run.output
    for request in scenario.witness_requests:
        assert TOKEN not in " ".join(request.headers.values()), "the token reached another host"


@pytest.mark.parametrize("name", list(LOGIN_BEHAVIOURS))
def test_hostile_login_endpoint_fails_a_requirement(name: str, scenarios: dict[str, Future[Scenario]]) -> None:
    scenario = scenarios[f"login-{name}"].result()
    run = scenario.run
    _common_bounds(scenario)
    assert run.returncode == 1, run.tail()
    must_fail = LOGIN_BEHAVIOURS[name][1]
    assert must_fail <= run.fails, f"failed: {sorted(run.fails)}\n{run.tail()}"


def test_post_never_follows_a_redirect_to_another_host(scenarios: dict[str, Future[Scenario]]) -> None:
    scenario = scenarios["login-redirect-away"].result()
    assert [r for r in scenario.witness_requests if r.method == "POST"] == []


@pytest.mark.parametrize("name", [*QR_BEHAVIOURS, "self-signed-tls"])
def test_hostile_qr_host_leaves_data3_unproven(name: str, scenarios: dict[str, Future[Scenario]]) -> None:
    scenario = scenarios[f"qr-{name}"].result()
    run = scenario.run
    _common_bounds(scenario)
    assert run.verdicts.get("DATA-3") in ("warn", "not verified"), run.tail()
    assert run.returncode == 0, run.tail()


def test_self_signed_certificate_is_refused_by_default(scenarios: dict[str, Future[Scenario]]) -> None:
    scenario = scenarios["tls-refused"].result()
    _common_bounds(scenario)
    assert scenario.run.returncode == 4, scenario.run.tail()
    assert "cannot reach https://127.0.0.1" in scenario.run.output
    assert "--insecure" in scenario.run.output


def test_self_signed_certificate_is_accepted_with_insecure(scenarios: dict[str, Future[Scenario]]) -> None:
    scenario = scenarios["tls-insecure"].result()
    _common_bounds(scenario)
    assert scenario.run.returncode == 0, scenario.run.tail()
    assert scenario.run.verdicts["AUTH-3"] == "pass"
    assert scenario.run.verdicts["DATA-3"] == "pass"


def test_gzip_bomb_inflates_no_further_than_the_size_cap() -> None:
    """The decoder hands out bounded pieces, also for nested encodings."""
    from ipadlogin_conformance.decoding import PIECE, decoded

    pieces = decoded([hostile.BOMB[i : i + 65536] for i in range(0, 1 << 20, 65536)], "gzip")
    seen = 0
    for piece in pieces:
        assert len(piece) <= PIECE
        seen += len(piece)
        if seen > 4 << 20:
            break
    assert seen > 4 << 20
