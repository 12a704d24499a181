"""The suite as the project's own tests run it: from the project root, on the source tree's suite.

The runner itself is the package's (:mod:`tools.subprocess_run`),
the one the fault self-test uses; what is the tests' own is where they run it
from, so the project's pytest configuration applies as in a developer's run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from paths import ROOT
from paths import SUITE as SUITE_DIR

from tools import subprocess_run
from tools.subprocess_run import SuiteRun

SUITE = str(SUITE_DIR.relative_to(ROOT))
"""The suite's tests, relative to :data:`ROOT`."""

__all__ = ["ROOT", "SUITE", "MIXED_FAULTS", "SuiteRun", "live_args", "run_suite"]

MIXED_FAULTS = ("wcid-500", "undocumented-failure-code", "type-string-accepted")
"""A server that breaks MUSTs (ENV-8, REQ-9) in some request classes and keeps the rest: what a split or
concurrent run must judge exactly as a serial one."""


def live_args(url: str, token: str, examples: int, seed: int, *extra: str) -> list[str]:
    """The arguments of a run against the server at ``url`` (a local one: no rate cap), generated cases seeded."""
    return [
        *("--base-url", url, "--auth-token", token, "--rate-limit", "0"),
        *("--examples", str(examples), "--hypothesis-seed", str(seed), "--assert=plain"),
        *extra,
        SUITE,
    ]


def run_suite(
    args: Sequence[str],
    *,
    kill_after_s: float = 120.0,
    reports_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    while_running: Callable[[int], None] | None = None,
) -> SuiteRun:
    """``python -m pytest <args>`` from the project root (see :func:`tools.subprocess_run.run_suite`)."""
    return subprocess_run.run_suite(
        args, kill_after_s=kill_after_s, reports_dir=reports_dir, cwd=ROOT, env=env, while_running=while_running
    )
