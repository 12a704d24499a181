"""Prove the suite: run it against every fault and variation of the reference server's catalog.

A conformance suite is only as good as the defects it catches and the correct
servers it leaves alone. Each :class:`Scenario` is one reference server (a
catalog entry, or a setup such as a wrong token) and the exact verdicts a
faithful suite must reach: the requirement IDs that fail, those that warn,
(when stated) those left "not verified", and the harness problem the run must
diagnose (none but for a wrong token); a run that fails nothing must also be
complete. :func:`run_scenario` starts the
server on a free port, runs the packaged suite against it in a subprocess
(:mod:`.subprocess_run`) and reads the verdicts from ``summary.json``;
:func:`problems` says how the verdicts differ from the expectation. The
project's self-test (``tests/test_faults.py``) and the score command
(``tools/fault_score.py``) both use this module, so the README's score is
the self-test's own result.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ipadlogin_conformance.contract.catalog import load_catalog
from ipadlogin_conformance.contract.spec import seed_example_wcid
from ipadlogin_conformance.server import CATALOG, start_reference_server
from tools.subprocess_run import SuiteRun, run_suite

Kind = Literal["fault", "variation", "setup"]

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = ROOT / "src" / "ipadlogin_conformance"
SUITE_PACKAGE = "ipadlogin_conformance.suite"
PLUGIN = "ipadlogin_conformance.runner.plugin"
PROPERTY_TESTS = "test_properties"
"""The module of the generated cases (schemathesis), for -k."""
SUITE_TOKEN = "selftest-token-8d2f61"
OTHER_TOKEN = "selftest-other-token-41c7"
"""The token a "wrong token" server accepts: never the one the suite sends."""


@dataclass(frozen=True)
class RunSettings:
    """How the suite runs against each scenario: small, seeded and fast, the same every time.

    The tight request timeout and latency budget keep hanging and slow
    faults cheap; the correct server answers in a few milliseconds, far
    below both, even with several runs sharing two cores.
    """

    seed: int = 20240601
    examples: int = 25
    request_timeout_s: float = 2.0
    latency_budget_ms: float = 250.0
    kill_after_s: float = 180.0
    """A run that takes longer is killed and reported, never waited for."""
    generated: bool = True
    """False: deselect the property tests, to show the hand-written cases alone catch every fault."""

    def suite_args(self) -> list[str]:
        return [
            "--hypothesis-seed", str(self.seed),
            "--examples", str(self.examples),
            "--request-timeout", f"{self.request_timeout_s:g}",
            "--latency-budget", f"{self.latency_budget_ms:g}",
            "--rate-limit", "0",
            "--success-budget", "0",
            # The reference server accepts every well-formed wcId: the page's example is a known account.
            "--known-wcid", seed_example_wcid(),
            *([] if self.generated else ["-k", f"not {PROPERTY_TESTS}"]),
        ]  # fmt: skip


@dataclass(frozen=True)
class Scenario:
    """A server to run the suite against, and the verdicts the suite must reach."""

    name: str
    kind: Kind
    description: str
    fails: frozenset[str]
    warns: frozenset[str] = frozenset()
    not_verified: frozenset[str] | None = None
    """None: not part of the expectation (a catalog entry); else exactly these."""
    diagnosis: str | None = None
    """The harness problem the run must name (see diagnosis.py); None: it must name none."""
    faults: tuple[str, ...] = ()
    server_token: str = SUITE_TOKEN
    suite_args: tuple[str, ...] = ()

    @property
    def expected_exit(self) -> int:
        return 1 if self.fails else 0

    @property
    def checks_warnings_as_errors(self) -> bool:
        """A run with warnings and no failure is run again with --warnings-as-errors: it must then fail."""
        return bool(self.warns) and not self.fails


def catalog_scenarios() -> list[Scenario]:
    """One scenario per fault and variation of the reference server's catalog, with its expectations."""
    return [
        Scenario(f.name, f.kind, f.description, frozenset(f.breaks), frozenset(f.warns),
                 None if f.not_verified is None else frozenset(f.not_verified), faults=(f.name,))
        for f in CATALOG.values()
    ]  # fmt: skip


SETUPS: tuple[Scenario, ...] = (
    Scenario("correct-strict", "setup", "the correct server, strict profile", frozenset(), not_verified=frozenset()),
    Scenario("correct-lenient", "setup", "the correct server, lenient profile", frozenset(),
             not_verified=frozenset(), suite_args=("--profile", "lenient")),
    Scenario("wrong-token", "setup", "the correct server, started with another token than the suite sends",
             frozenset({"AUTH-3", "REQ-1", "REQ-2", "REQ-3", "REQ-7", "REQ-10"}),
             not_verified=frozenset({"DATA-3"}), diagnosis="token-refused", server_token=OTHER_TOKEN),
    Scenario("code-int-lenient", "setup", "fault code-int, lenient profile: the table's erratum, warned",
             frozenset(), frozenset({"ENV-3"}), not_verified=frozenset(), faults=("code-int",),
             suite_args=("--profile", "lenient")),
    Scenario("msg-key-lenient", "setup", "fault msg-key, lenient profile: the table's erratum, warned",
             frozenset(), frozenset({"ENV-2"}), not_verified=frozenset(), faults=("msg-key",),
             suite_args=("--profile", "lenient")),
)  # fmt: skip


def all_scenarios() -> list[Scenario]:
    """The catalog, then the setups: the rows of the score table, in order."""
    return [*catalog_scenarios(), *SETUPS]


# --- running ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Observed:
    """What the suite decided about a scenario: its run, and the exit with --warnings-as-errors when run."""

    run: SuiteRun
    strict_exit: int | None = None


def run_scenario(scenario: Scenario, settings: RunSettings = RunSettings()) -> Observed:
    """Start the scenario's server on a free port, run the suite against it, read its verdicts.

    The run with --warnings-as-errors, when there is one, goes side by side
    with the first (the server is stateless): a slow fault then costs its delay once.
    """
    with start_reference_server(token=scenario.server_token, faults=scenario.faults) as server:
        args = [*settings.suite_args(), *scenario.suite_args, "--base-url", server.url]
        with ThreadPoolExecutor(max_workers=1) as beside:
            strict = None
            if scenario.checks_warnings_as_errors:
                strict = beside.submit(run_packaged_suite, [*args, "--warnings-as-errors"], settings.kill_after_s)
            run = run_packaged_suite(args, settings.kill_after_s)
            strict_exit = None if strict is None else strict.result().returncode
    return Observed(run, strict_exit)


def run_packaged_suite(args: Sequence[str], kill_after_s: float) -> SuiteRun:
    """The packaged suite as the console tool runs it, in a scratch directory, with :data:`SUITE_TOKEN`.

    The token travels in the environment (never on a command line). No
    configuration file or conftest.py from around applies (``-c`` the null
    device, the package as rootdir). ``--assert=plain``: the suite's tests
    never assert (the plugin fails them), and rewriting schemathesis's
    modules on every start would double the run's time.
    """
    return run_suite(
        ["--assert=plain", "-p", PLUGIN, "-c", os.devnull, "--rootdir", str(PACKAGE_DIR),
         "--confcutdir", str(PACKAGE_DIR), *args, "--pyargs", SUITE_PACKAGE],
        kill_after_s=kill_after_s,
        env={"IPADLOGIN_TOKEN": SUITE_TOKEN},
    )  # fmt: skip


class Runs:
    """Scenario runs, started on demand and each run once.

    ``prefetch``: the first request starts every scenario, ``jobs`` at a
    time (the self-test in one process, the score command). Without it each
    scenario runs when asked for, so pytest-xdist workers share the catalog
    instead of each running all of it.
    """

    def __init__(self, scenarios: Iterable[Scenario], settings: RunSettings = RunSettings(),
                 jobs: int | None = None, *, prefetch: bool = True) -> None:  # fmt: skip
        # Two runs (with --warnings-as-errors) first: the longest jobs start early, the pool ends together.
        self.scenarios = sorted(scenarios, key=lambda s: not s.checks_warnings_as_errors)
        self.settings = settings
        self.prefetch = prefetch
        self.pool = ThreadPoolExecutor(max_workers=jobs or default_jobs())
        self.futures: dict[str, Future[Observed]] = {}
        self.lock = threading.Lock()

    def result(self, name: str) -> Observed:
        with self.lock:
            wanted = self.scenarios if self.prefetch else [s for s in self.scenarios if s.name == name]
            for scenario in wanted:
                if scenario.name not in self.futures:
                    self.futures[scenario.name] = self.pool.submit(run_scenario, scenario, self.settings)
        return self.futures[name].result()

    def all(self) -> dict[str, Observed]:
        return {scenario.name: self.result(scenario.name) for scenario in self.scenarios}

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


def default_jobs() -> int:
    """One more run than CPUs: a run waits part of its time (its server, a slow fault)."""
    return (os.cpu_count() or 1) + 1


# --- judging ------------------------------------------------------------------------------


def problems(scenario: Scenario, observed: Observed) -> list[str]:
    """How the suite's verdicts differ from the scenario's expectation ([] when exactly as expected)."""
    run = observed.run
    if not run.verdicts:
        return [f"no summary.json (exit {run.returncode}):\n{run.tail()}"]
    found = []
    if run.returncode != scenario.expected_exit:
        found.append(f"exit {run.returncode}, expected {scenario.expected_exit}")
    if scenario.checks_warnings_as_errors and observed.strict_exit != 1:
        found.append(f"exit {observed.strict_exit} with --warnings-as-errors, expected 1")
    for verdict, expected, got in _compared(scenario, observed):
        if expected != got:
            found.append(f"{verdict}: missing {_ids(expected - got) or '-'}, unexpected {_ids(got - expected) or '-'}")
    if not scenario.fails and not run.summary["complete"]:
        found.append(f"incomplete: {'; '.join(run.summary['incomplete_reasons'])}")
    if run.diagnosis != scenario.diagnosis:
        found.append(f"diagnosis {run.diagnosis or 'none'}, expected {scenario.diagnosis or 'none'}")
    return found


def _compared(scenario: Scenario, observed: Observed) -> list[tuple[str, frozenset[str], frozenset[str]]]:
    """(verdict, expected IDs, observed IDs) for each verdict the scenario states."""
    run = observed.run
    pairs = [("fail", scenario.fails, run.fails), ("warn", scenario.warns, run.warns)]
    if scenario.not_verified is not None:
        pairs.append(("not verified", scenario.not_verified, run.not_verified))
    return pairs


def _ids(ids: Iterable[str]) -> str:
    """IDs in the catalog's order, comma-separated."""
    order = {rid: i for i, rid in enumerate(load_catalog().requirements)}
    return ", ".join(sorted(ids, key=lambda rid: order.get(rid, len(order))))


# --- the score table ----------------------------------------------------------------------

README = ROOT / "README.md"
START, END = "<!-- fault-score:start -->", "<!-- fault-score:end -->"
_HEADER = "| entry | kind | what it does | expected | observed | result |\n|---|---|---|---|---|---|"
EXPECTED_COLUMNS = 4
"""The first four columns come from the catalog alone; observed and result from a run."""


def expected_text(scenario: Scenario) -> str:
    """The verdicts and exit status a faithful suite reaches, as the table's "expected" cell."""
    text = f"{_verdicts_text(scenario.fails, scenario.warns, scenario.not_verified, scenario.diagnosis)} → exit {scenario.expected_exit}"
    return text + (" (1 with --warnings-as-errors)" if scenario.checks_warnings_as_errors else "")


def observed_text(scenario: Scenario, observed: Observed) -> str:
    """What the run decided, in the form of :func:`expected_text`."""
    run = observed.run
    if not run.verdicts:
        return f"no summary.json, exit {run.returncode}"
    stated = run.not_verified if scenario.not_verified is not None else None
    text = f"{_verdicts_text(run.fails, run.warns, stated, run.diagnosis)} → exit {run.returncode}"
    return text + (f" ({observed.strict_exit} with --warnings-as-errors)" if observed.strict_exit is not None else "")


def _verdicts_text(
    fails: frozenset[str], warns: frozenset[str], not_verified: frozenset[str] | None, diagnosis: str | None
) -> str:
    stated = (("fail", fails), ("warn", warns), ("not verified", not_verified or frozenset()))
    text = "; ".join(f"{label} {_ids(ids)}" for label, ids in stated if ids) or "all pass"
    return text + (f"; diagnosis {diagnosis}" if diagnosis else "")


def result_text(scenario: Scenario, observed: Observed) -> str:
    """A fault is caught, a variation passes, a setup is as expected: exactly, or not at all."""
    exact = not problems(scenario, observed)
    if scenario.kind == "fault":
        return "caught" if exact else "**not caught exactly**"
    if scenario.kind == "variation":
        return "passes" if exact else "**false alarm**"
    return "as expected" if exact else "**differs**"


def expected_rows(scenarios: Iterable[Scenario]) -> list[tuple[str, ...]]:
    """(entry, kind, what it does, expected) per scenario: the part of the table the catalog alone decides."""
    return [(f"`{s.name}`", s.kind, s.description.replace("|", "\\|"), expected_text(s)) for s in scenarios]


def render_table(scenarios: Sequence[Scenario], observed: Mapping[str, Observed], settings: RunSettings) -> str:
    """The score as Markdown: one row per scenario, then the totals."""
    rows = [
        f"| {' | '.join(expected)} | {observed_text(s, observed[s.name])} | {result_text(s, observed[s.name])} |"
        for s, expected in zip(scenarios, expected_rows(scenarios))
    ]
    return "\n".join([
        f"Generated by `python -m tools.fault_score --update-readme` (seed {settings.seed}, "
        f"{settings.examples} examples); do not edit by hand.",
        "",
        _HEADER,
        *rows,
        "",
        totals(scenarios, observed),
    ])  # fmt: skip


def totals(scenarios: Sequence[Scenario], observed: Mapping[str, Observed]) -> str:
    """The score: faults caught exactly, false alarms on variations, setups as expected."""

    def count(kind: str) -> tuple[int, int]:
        chosen = [s for s in scenarios if s.kind == kind]
        return sum(not problems(s, observed[s.name]) for s in chosen), len(chosen)

    (caught, faults), (passing, variations), (fine, setups) = count("fault"), count("variation"), count("setup")
    return (
        f"**Faults caught exactly: {caught} / {faults}** · false alarms: {variations - passing} / {variations} "
        f"variations · other setups as expected: {fine} / {setups}"
    )


def readme_block(text: str) -> str:
    """The text between the fault-score markers of the README."""
    try:
        return text[text.index(START) + len(START) : text.index(END)]
    except ValueError:
        raise ValueError(f"the README has no {START} ... {END} block") from None


def readme_expected_rows(text: str) -> list[tuple[str, ...]]:
    """The :func:`expected_rows` part of each table row in the README's fault-score block."""
    cells = [line.strip("| ").split(" | ") for line in readme_block(text).splitlines() if line.startswith("| `")]
    return [tuple(row[:EXPECTED_COLUMNS]) for row in cells]


def update_readme(path: Path, table: str) -> None:
    """Replace the README's fault-score block with ``table``."""
    text = path.read_text("utf-8")
    block = readme_block(text)
    path.write_text(text.replace(START + block + END, f"{START}\n{table}\n{END}", 1), "utf-8")


# --- the score command -----------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the catalog, print the score table; exit 1 when a scenario is not exactly as expected."""
    parser = argparse.ArgumentParser(prog="fault_score.py", description=main.__doc__)
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this entry or setup (repeatable)")
    parser.add_argument("--jobs", type=int, default=default_jobs(), help="runs side by side (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=RunSettings.seed, help="Hypothesis seed (default: %(default)s)")
    parser.add_argument(
        "--examples", type=int, default=RunSettings.examples, help="generated cases (default: %(default)s)"
    )
    parser.add_argument(
        "--cases-only", action="store_true", help="deselect the property test: the hand-written cases alone"
    )
    parser.add_argument("--update-readme", action="store_true", help=f"write the table into {README.name}")
    args = parser.parse_args(argv)
    scenarios = all_scenarios()
    if args.only:
        unknown = set(args.only) - {s.name for s in scenarios}
        if unknown or args.update_readme:
            parser.error(
                f"unknown: {', '.join(sorted(unknown))}" if unknown else "--update-readme needs the whole catalog"
            )
        scenarios = [s for s in scenarios if s.name in args.only]
    if args.update_readme and (
        args.cases_only or args.seed != RunSettings.seed or args.examples != RunSettings.examples
    ):
        parser.error("--update-readme writes the table of the default settings only")
    settings = RunSettings(seed=args.seed, examples=args.examples, generated=not args.cases_only)
    started = time.monotonic()
    runs = Runs(scenarios, settings, args.jobs)
    try:
        observed = runs.all()
    finally:
        runs.close()
    table = render_table(scenarios, observed, settings)
    print(table)
    print(f"\n{len(scenarios)} scenarios in {time.monotonic() - started:.0f} s ({args.jobs} side by side)")
    for scenario in scenarios:
        for problem in problems(scenario, observed[scenario.name]):
            print(f"{scenario.name}: {problem}", file=sys.stderr)
    if args.update_readme:
        update_readme(README, table)
        print(f"updated {README}")
    return 0 if all(not problems(s, observed[s.name]) for s in scenarios) else 1


if __name__ == "__main__":
    sys.exit(main())
