"""The side-by-side benchmark: every figure and ratio measured in one run, on this machine.

    .venv/bin/python -m bench.run [--examples 500] [--seconds 5] [--skip-slow] [--runs 3] [--skip-live] [--skip-faults]

Loopback only; every load loop is bounded in count and time. Needs the
``bench`` extra (psutil) and, for the server section, ``wrk``; Prism
(``npm i -g @stoplight/prism-cli``) is measured when it is installed.
Figures go to stdout; ``--json FILE`` also writes them as data.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psutil

from ipadlogin_conformance.checks import Policy, created_a_login, judge_login
from ipadlogin_conformance.client.target import Target, TargetConfig
from ipadlogin_conformance.suite.cases import load_cases, send

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "openapi.yaml"
SUITE = "src/ipadlogin_conformance/suite"
PROPERTIES = f"{SUITE}/test_properties.py"
TOKEN = "ipadlogin-dev-token"  # the reference server's public development token
CHECKS = "not_a_server_error,content_type_conformance,response_schema_conformance,outcome_fits_request_class"
SEED = 20240601
BODY = b'{"type":2}'
HEADERS = {"Authorization": TOKEN, "Content-Type": "application/json"}


# --- processes ------------------------------------------------------------------------------


@contextmanager
def bench_server(app: str, *faults: str) -> Iterator[str]:
    """``python -m bench.servers APP`` (or the reference server with faults); yields its URL."""
    if faults:
        from ipadlogin_conformance.server import start_reference_server

        with start_reference_server(token=TOKEN, faults=faults) as server:
            yield server.url
        return
    # stderr dropped: schemathesis's coverage phase sends requests uvicorn calls invalid, and says so.
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.servers", app],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=_env(),
    )
    try:
        line = process.stdout.readline().decode()  # type: ignore[union-attr]
        match = re.search(r"ready at (\S+)", line)
        if not match:
            raise RuntimeError(f"bench server {app} did not start: {line!r}")
        yield match.group(1)
    finally:
        process.stdin.close()  # type: ignore[union-attr]
        process.wait(10)


@contextmanager
def prism(port: int) -> Iterator[str | None]:
    """Prism's mock of the same spec, static examples, logging errors only; None when not installed."""
    binary = shutil.which("prism")
    if binary is None:
        yield None
        return
    process = subprocess.Popen(
        [binary, "mock", str(SPEC), "-h", "127.0.0.1", "-p", str(port), "-v", "error"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IPADLOGIN_", "PYTEST_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.update(extra)
    return env


@dataclass
class Timed:
    wall_s: float
    peak_rss_mb: float
    """Peak of the summed RSS of the process and all its descendants (sampled every 20 ms)."""
    returncode: int
    output: str


def timed(command: list[str], env: dict[str, str] | None = None, limit_s: float = 600) -> Timed:
    """Run a command to its exit, sampling the RSS of its whole process tree."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env or _env())
        peak = 0
        root = psutil.Process(process.pid)
        while process.poll() is None:
            if time.perf_counter() - started > limit_s:
                process.kill()
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(_rss(p) for p in tree))
            except psutil.Error:
                pass
            time.sleep(0.02)
        wall = time.perf_counter() - started
        out.seek(0)
        return Timed(wall, peak / 2**20, process.returncode, out.read().decode("utf-8", "replace"))


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.Error:
        return 0


# --- measurements ---------------------------------------------------------------------------


def httpx_ceiling(url: str, count: int, limit_s: float) -> float:
    """Sequential httpx.Client: POST the valid body, parse the JSON; requests per second."""
    with httpx.Client() as client:
        for _ in range(50):  # warm the connection and the server
            client.post(url + "/iPadLogin", content=BODY, headers=HEADERS).json()
        started = time.perf_counter()
        sent = 0
        while sent < count and time.perf_counter() - started < limit_s:
            client.post(url + "/iPadLogin", content=BODY, headers=HEADERS).json()
            sent += 1
        return sent / (time.perf_counter() - started)


def checks_loop(url: str, rounds: int, limit_s: float) -> float:
    """The deterministic cases sent and judged as the suite does, without pytest around each one.

    Beside the pytest figure it shows what the checks cost and what pytest's
    per-test protocol (setup, reports, teardown) adds.
    """
    cases = load_cases()
    policy = Policy()
    with Target(TargetConfig(url, TOKEN), succeeded=created_a_login) as target:
        for case in cases:  # warm up
            send(case, target)
        started = time.perf_counter()
        sent = 0
        for _ in range(rounds):
            for case in cases:
                judge_login(send(case, target), case.expect, case.requirements, policy)
            sent += len(cases)
            if time.perf_counter() - started > limit_s:
                break
        return sent / (time.perf_counter() - started)


@dataclass
class SuitePart:
    requests: int
    span_s: float

    @property
    def rate(self) -> float:
        return self.requests / self.span_s if self.span_s else 0.0


@dataclass
class SuiteRun:
    timed: Timed
    properties: SuitePart
    deterministic: SuitePart
    requests: int | None


def pytest_command(reports: str | Path, *args: str, base_url: str | None = None, selection: str = SUITE) -> list[str]:
    """``python -m pytest -q`` on the suite (or ``selection``), its reports in ``reports``; the embedded server
    unless ``base_url`` is given."""
    target = ["--base-url", base_url, "--auth-token", TOKEN] if base_url else []
    return [sys.executable, "-m", "pytest", "-q", *target, "--reports-dir", str(reports), *args, selection]


def run_suite(*args: str, examples: int, selection: str = SUITE) -> SuiteRun:
    """The suite on the embedded server, with the probe telling when each test ran and what it sent."""
    with tempfile.TemporaryDirectory() as scratch:
        probe = Path(scratch) / "probe.jsonl"
        command = pytest_command(
            Path(scratch) / "reports",
            *("-p", "bench.probe", "--examples", str(examples), "--hypothesis-seed", str(SEED)),
            *args,
            selection=selection,
        )
        result = timed(command, _env(IPADLOGIN_BENCH_PROBE=str(probe)))
        if result.returncode != 0:
            raise RuntimeError(f"suite run failed ({result.returncode}):\n{result.output[-3000:]}")
        lines = [json.loads(line) for line in probe.read_text().splitlines()] if probe.exists() else []
        summary = Path(scratch) / "reports" / "summary.json"
        requests = json.loads(summary.read_text())["budget"]["requests"] if summary.exists() else None
    properties = [line for line in lines if "test_properties" in line["test"]]
    deterministic = [line for line in lines if "/test_cases.py" in line["test"] or "/test_methods.py" in line["test"]]
    return SuiteRun(result, _part(properties), _part(deterministic), requests)


def _part(lines: list[dict[str, Any]]) -> SuitePart:
    if not lines:
        return SuitePart(0, 0.0)
    return SuitePart(
        sum(line["requests"] for line in lines),
        max(line["stop"] for line in lines) - min(line["start"] for line in lines),
    )


def schemathesis_cli(url: str, examples: int) -> tuple[SuitePart, Timed]:
    """schemathesis's own CLI on the counted reference server, configured as the suite configures it."""
    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "schemathesis.toml"
        # What generation.load_schema sets: no method probes in the coverage phase.
        config.write_text("[phases.coverage]\nunexpected-methods = []\n")
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(config),
            "run",
            str(SPEC),
            "--url",
            url,
            "-H",
            f"Authorization: {TOKEN}",
            "--checks",
            CHECKS,
            "--phases",
            "examples,coverage,fuzzing",
            "--mode",
            "all",
            "--max-examples",
            str(examples),
            "--seed",
            str(SEED),
            "--no-shrink",
            "--generation-database",
            "none",
            "--suppress-health-check",
            "all",
            "--continue-on-failure",
        ]
        httpx.delete(url + "/__bench__")
        result = timed(command, _env(SCHEMATHESIS_HOOKS="ipadlogin_conformance.suite.generation"))
        stats = httpx.get(url + "/__bench__").json()
    if stats["requests"] == 0:
        raise RuntimeError(f"schemathesis sent nothing:\n{result.output[-3000:]}")
    return SuitePart(stats["requests"], stats["last"] - stats["first"]), result


def console_and_pytest(examples: int) -> dict[str, dict[str, Timed]]:
    """The same conformance run through the console tool and through pytest, side by side.

    Both on the embedded server with the same examples and seed, each with a Hypothesis
    storage of its own: first empty (a fresh machine or CI job), then as the first run
    left it (every later run: the tool keeps it in the user's cache directory, a clone in
    .hypothesis/). Hypothesis derives its Unicode tables into that storage on first use.
    """
    tool = str(Path(sys.executable).with_name("ipadlogin-conformance"))
    runs: dict[str, dict[str, Timed]] = {"cold": {}, "warm": {}}
    with tempfile.TemporaryDirectory() as scratch:
        common = [
            "--examples",
            str(examples),
            "--hypothesis-seed",
            str(SEED),
            "--reports-dir",
            str(Path(scratch) / "reports"),
        ]
        paths = {
            "console": ([tool, "run", *common], _env(XDG_CACHE_HOME=str(Path(scratch) / "cache"))),
            "pytest": (
                [sys.executable, "-m", "pytest", "-q", *common, SUITE],
                _env(HYPOTHESIS_STORAGE_DIRECTORY=str(Path(scratch) / "hypothesis")),
            ),
        }
        for state in runs:
            for name, (command, env) in paths.items():
                result = timed(command, env)
                if result.returncode != 0:
                    raise RuntimeError(f"{name} run failed ({result.returncode}):\n{result.output[-3000:]}")
                runs[state][name] = result
    return runs


@dataclass
class WrkResult:
    rate: float
    p50_ms: float
    p99_ms: float


def wrk(url: str, seconds: int) -> WrkResult | None:
    if shutil.which("wrk") is None:
        return None
    command = [
        "wrk",
        "-t1",
        "-c16",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(ROOT / "bench" / "post.lua"),
        url + "/iPadLogin",
    ]
    subprocess.run(
        [*command[:3], "-d1s", *command[4:]], capture_output=True, env=_env(IPADLOGIN_TOKEN=TOKEN)
    )  # warm-up
    output = subprocess.run(
        command, capture_output=True, text=True, env=_env(IPADLOGIN_TOKEN=TOKEN), timeout=seconds + 30
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    latency = {pct: _ms(value) for pct, value in re.findall(r"^\s+(50|99)%\s+(\S+)", output, re.MULTILINE)}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non2xx:
        print(f"  note: {non2xx.group(1)} non-2xx answers from {url}")
    return WrkResult(rate, latency["50"], latency["99"])


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def slow_target(workers: int, rate_limit: float) -> tuple[float, int]:
    """test_cases.py against the `slow` fault (300 ms a call) under a rate cap: wall time and requests."""
    with bench_server("reference", "slow") as url, tempfile.TemporaryDirectory() as scratch:
        command = pytest_command(
            scratch,
            *("--rate-limit", f"{rate_limit:g}", "--success-budget", "0"),
            *(["-n", str(workers)] if workers > 1 else []),
            base_url=url,
            selection=f"{SUITE}/test_cases.py",
        )
        result = timed(command)
        summary = Path(scratch) / "summary.json"
        requests = json.loads(summary.read_text())["budget"]["requests"] if summary.exists() else -1
    return result.wall_s, requests


@dataclass
class Medians:
    wall_s: float
    requests: int
    rss_mb: float
    walls: list[float]
    plan: str
    """The plan the run showed at its start (its estimate, beside the requests it sent)."""


def medians(command: list[str], reports: Path, runs: int) -> Medians:
    """``runs`` runs of one command: the median wall time, requests (summary.json) and peak RSS."""
    results: list[tuple[float, int, float]] = []
    plan = ""
    for _ in range(runs):
        result = timed(command)
        shown = re.search(r"plan (~\d+ requests)", result.output)
        plan = shown.group(1) if shown else "no plan shown"
        summary = reports / "summary.json"
        if not summary.exists():
            raise RuntimeError(f"run wrote no summary ({result.returncode}):\n{result.output[-3000:]}")
        results.append((result.wall_s, json.loads(summary.read_text())["budget"]["requests"], result.peak_rss_mb))
    walls = sorted(r[0] for r in results)
    return Medians(
        statistics.median(walls),
        int(statistics.median(r[1] for r in results)),
        statistics.median(r[2] for r in results),
        walls,
        plan,
    )


def live_defaults(runs: int) -> dict[str, Medians]:
    """The whole suite with a live target's defaults against a server answering in 300 ms (the ``slow`` fault):
    as shipped (5 req/s), uncapped, and one at a time uncapped; then the embedded default run."""
    found: dict[str, Medians] = {}
    with bench_server("reference", "slow") as url, tempfile.TemporaryDirectory() as scratch:
        reports = Path(scratch)
        found["capped"] = medians(pytest_command(reports, base_url=url), reports, runs)
        found["uncapped"] = medians(pytest_command(reports, "--rate-limit", "0", base_url=url), reports, runs)
        found["sequential"] = medians(
            pytest_command(reports, "--rate-limit", "0", "--concurrency", "1", base_url=url), reports, runs
        )
    with tempfile.TemporaryDirectory() as scratch:
        found["embedded"] = medians(pytest_command(scratch), Path(scratch), runs)
    return found


def live_fault_score() -> str:
    """The fault self-test with the live --examples default (requests in flight, alike cases sent once): its score line."""
    from ipadlogin_conformance.core.settings import LIVE_TARGET_EXAMPLES

    result = timed([sys.executable, "scripts/fault_score.py", "--examples", str(LIVE_TARGET_EXAMPLES)], limit_s=1800)
    score = re.search(r"\*\*Faults caught exactly: .*", result.output)
    return score.group(0).replace("**", "") if score else f"no score (exit {result.returncode})"


# --- the report -----------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or "cpu"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    memory = psutil.virtual_memory().total / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def load() -> str:
    """The load average: other work on the machine skews every absolute figure (ratios less)."""
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def target(ok: bool) -> str:
    return "met" if ok else "MISSED"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=500, help="generated cases (suite and CLI alike)")
    parser.add_argument("--seconds", type=int, default=5, help="duration of each wrk measurement")
    parser.add_argument("--skip-slow", action="store_true", help="skip the 300 ms target (about 30 s)")
    parser.add_argument(
        "--runs", type=int, default=3, help="runs of each live-defaults figure, of which the median counts"
    )
    parser.add_argument("--skip-live", action="store_true", help="skip the live defaults (about 4 min at 3 runs)")
    parser.add_argument(
        "--skip-faults", action="store_true", help="skip the fault score with the live defaults (minutes)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    figures: dict[str, Any] = {"date": date.today().isoformat(), "machine": machine(), "examples": args.examples}
    say = print
    say(f"ipadlogin-conformance benchmark · {figures['date']} · {figures['machine']}")
    versions = {
        name: _version(name) for name in ("pytest", "hypothesis", "schemathesis", "httpx", "starlette", "uvicorn")
    }
    say("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    say(f"at start: {load()}")

    say("\n[4] servers under wrk -t1 -c16 (POST /iPadLogin, valid body and token)")
    servers: dict[str, WrkResult | None] = {}
    with bench_server("reference") as url:
        servers["reference"] = wrk(url, args.seconds)
    with bench_server("hello") as url:
        servers["hello"] = wrk(url, args.seconds)
    with prism(_free_port()) as url:
        servers["prism"] = wrk(url, args.seconds) if url else None
    for name, label in (
        ("reference", "reference server"),
        ("hello", "hello-world Starlette/uvicorn"),
        ("prism", "Prism mock -v error (static examples)"),
    ):
        result = servers[name]
        say(
            f"  {label:<40} "
            + (
                f"{result.rate:>9,.0f} req/s  p50 {result.p50_ms:.2f} ms  p99 {result.p99_ms:.2f} ms"
                if result
                else "not measured"
            )
        )
    ref, hello, prism_result = servers["reference"], servers["hello"], servers["prism"]
    if ref and hello:
        ratio = ref.rate / hello.rate
        say(f"  reference / hello-world = {ratio:.2f}  (target >= 0.5: {target(ratio >= 0.5)})")
        figures["server_vs_hello"] = ratio
    if ref and prism_result:
        ratio = ref.rate / prism_result.rate
        say(f"  reference / Prism       = {ratio:.2f}  (target >= 4: {target(ratio >= 4)})")
        figures["server_vs_prism"] = ratio
    figures["servers"] = {k: v.__dict__ if v else None for k, v in servers.items()}

    say("\n[1] client ceiling: sequential httpx.Client, POST + .json()")
    with bench_server("counted") as url:
        ceiling = httpx_ceiling(url, count=5000, limit_s=10)
        say(f"  {ceiling:,.0f} req/s")
        checks_rate = checks_loop(url, rounds=40, limit_s=10)
        say(
            f"  the deterministic cases sent and judged in a loop (no pytest): {checks_rate:,.0f} req/s = "
            f"{checks_rate / ceiling:.2f} of the ceiling (target >= 0.6: {target(checks_rate / ceiling >= 0.6)})"
        )
        figures["checks_loop"] = checks_rate
        say(f"\n[3] schemathesis CLI, {args.examples} examples, checks {CHECKS}")
        cli, cli_timed = schemathesis_cli(url, args.examples)
    say(
        f"  {cli.requests} requests in {cli.span_s:.2f} s of traffic -> {cli.rate:,.0f} checked req/s (end to end {cli_timed.wall_s:.2f} s)"
    )
    figures.update(
        ceiling=ceiling,
        cli={"requests": cli.requests, "span_s": cli.span_s, "rate": cli.rate, "wall_s": cli_timed.wall_s},
    )

    say(f"\n[2] the suite's property tests, {args.examples} examples (embedded server)")
    serial = run_suite(examples=args.examples)
    parallel = run_suite("-n", "2", examples=args.examples)
    for label, run in (("1 worker", serial), ("-n 2", parallel)):
        part = run.properties
        say(
            f"  {label:<9} {part.requests} requests in {part.span_s:.2f} s -> {part.rate:,.0f} checked req/s "
            f"= {part.rate / ceiling:.2f} of the ceiling, {part.rate / cli.rate:.2f}x the CLI"
        )
    one, two = serial.properties.rate / cli.rate, parallel.properties.rate / cli.rate
    say(
        f"  suite / CLI: {one:.2f} on one worker (target >= 1: {target(one >= 1)}), {two:.2f} with -n 2 (target >= 1.6: {target(two >= 1.6)})"
    )
    det = serial.deterministic
    say(
        f"  deterministic cases as pytest tests: {det.requests} requests in {det.span_s:.3f} s -> {det.rate:,.0f} req/s = "
        f"{det.rate / ceiling:.2f} of the ceiling (one pytest test per request; the checks alone: see [1])"
    )
    figures["suite"] = {
        "serial": _part_dict(serial.properties),
        "parallel": _part_dict(parallel.properties),
        "deterministic": _part_dict(det),
        "vs_cli_serial": one,
        "vs_cli_parallel": two,
    }

    say("\n[5] the whole default run: pytest src/ipadlogin_conformance/suite (embedded server, reports written)")
    for label, run in (("1 worker", serial), ("-n 2", parallel)):
        say(
            f"  {label:<9} {run.timed.wall_s:.2f} s wall, {run.requests} requests, peak RSS {run.timed.peak_rss_mb:.0f} MB (process tree)"
        )
    say(f"  targets: <= 15 s {target(serial.timed.wall_s <= 15)}, <= 300 MB {target(serial.timed.peak_rss_mb <= 300)}")
    figures["whole"] = {
        "serial": {"wall_s": serial.timed.wall_s, "rss_mb": serial.timed.peak_rss_mb, "requests": serial.requests},
        "parallel": {
            "wall_s": parallel.timed.wall_s,
            "rss_mb": parallel.timed.peak_rss_mb,
            "requests": parallel.requests,
        },
    }

    say(f"\n[6] peak memory of the same run ({args.examples} examples, embedded server): console tool vs pytest")
    memory = console_and_pytest(args.examples)
    for state, label in (("cold", "empty Hypothesis storage"), ("warm", "storage of the run before")):
        console, plain = memory[state]["console"], memory[state]["pytest"]
        ratio = console.peak_rss_mb / plain.peak_rss_mb
        say(
            f"  {label:<26} ipadlogin-conformance run {console.peak_rss_mb:4.0f} MB ({console.wall_s:.2f} s), "
            f"pytest {plain.peak_rss_mb:4.0f} MB ({plain.wall_s:.2f} s): {ratio:.2f}x (target <= 1.2: {target(ratio <= 1.2)})"
        )
    figures["memory"] = {
        state: {name: {"rss_mb": run.peak_rss_mb, "wall_s": run.wall_s} for name, run in paths.items()}
        for state, paths in memory.items()
    }

    small_n, large_n = 500, 2000
    say(f"\n[linear] the property tests alone: {small_n} vs {large_n} examples")
    small = run_suite(examples=small_n, selection=PROPERTIES)
    large = run_suite(examples=large_n, selection=PROPERTIES)
    ratio = large.properties.span_s / small.properties.span_s
    wall_ratio = large.timed.wall_s / small.timed.wall_s
    say(
        f"  {small_n}: {small.properties.span_s:.2f} s ({small.properties.requests} requests); "
        f"{large_n}: {large.properties.span_s:.2f} s ({large.properties.requests} requests)"
    )
    say(
        f"  ratio {ratio:.2f}x for the property part, {wall_ratio:.2f}x end to end (target <= 4.4: {target(ratio <= 4.4)})"
    )
    figures["linear"] = {
        "small_s": small.properties.span_s,
        "large_s": large.properties.span_s,
        "ratio": ratio,
        "wall_ratio": wall_ratio,
    }

    if not args.skip_slow:
        say("\n[C] 300 ms target (fault slow), test_cases.py, --rate-limit 5")
        slow = {workers: slow_target(workers, 5.0) for workers in (1, 2)}
        for workers, (wall, requests) in slow.items():
            say(
                f"  {workers} worker(s): {wall:.1f} s wall, {requests} requests, {requests / wall:.2f} req/s over the whole run"
            )
        figures["slow"] = {str(k): {"wall_s": v[0], "requests": v[1]} for k, v in slow.items()}
    live_sections(args, figures, say)
    say(f"\nat end: {load()}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


def live_sections(args: argparse.Namespace, figures: dict[str, Any], say: Any = print) -> None:
    """[L] and [F]: the live defaults against a 300 ms server, and the fault score with them
    (also alone: python -c 'import bench.run as b; b.live_sections(b.parse([]), {})')."""
    if not args.skip_live:
        say(
            f"\n[L] live defaults, the whole suite against a server answering in 300 ms (fault slow); medians of {args.runs} runs"
        )
        live = live_defaults(args.runs)
        limits = {"capped": 45.0, "uncapped": 20.0, "embedded": 7.0}
        labels = {
            "capped": "live defaults (5 req/s, 8 in flight)",
            "uncapped": "the same, --rate-limit 0",
            "sequential": "the same, one at a time (--concurrency 1)",
            "embedded": "embedded default (no options)",
        }
        for name, run in live.items():
            limit = limits.get(name)
            verdict = (
                f" = {run.wall_s / limit:.2f} of the target <= {limit:g} s: {target(run.wall_s <= limit)}"
                if limit
                else ""
            )
            say(
                f"  {labels[name]:<44} {run.wall_s:6.1f} s, {run.requests} requests (plan {run.plan}), {run.rss_mb:.0f} MB{verdict}  "
                f"(runs: {', '.join(f'{w:.1f}' for w in run.walls)})"
            )
        say(
            f"  in flight / one at a time, uncapped: {live['uncapped'].wall_s / live['sequential'].wall_s:.2f}x the time; "
            f"embedded peak RSS <= 150 MB: {target(live['embedded'].rss_mb <= 150)}"
        )
        figures["live"] = {name: run.__dict__ for name, run in live.items()}
    if not args.skip_faults:
        say("\n[F] the fault self-test with the live --examples default")
        figures["live_fault_score"] = live_fault_score()
        say(f"  {figures['live_fault_score']}")


def _part_dict(part: SuitePart) -> dict[str, float]:
    return {"requests": part.requests, "span_s": part.span_s, "rate": part.rate}


def _version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "-"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
