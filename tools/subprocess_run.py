"""Run the conformance suite in a subprocess and read what it decided.

One runner for every place that runs the suite as a user would and reads the
outcome: the fault self-test and score command (:mod:`.selftest`) and the
project's hostile-target and parallel-run tests. :func:`run_suite` starts
``python -m pytest``, kills it after a deadline (a hang is a failure, not a
wait) and returns a :class:`SuiteRun`: the exit code, the terminal output,
the times, the verdicts from ``summary.json`` and the child's peak RSS. The
RSS is the child's own (:class:`PeakRss`), so runs side by side do not mix
their figures up and a large test runner does not inflate them.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ipadlogin_conformance.reports import SUMMARY_JSON

OUTPUT_TAIL = 3000
"""Characters of a run's terminal output that explain a surprise."""


@dataclass(frozen=True)
class SuiteRun:
    """One run of the suite in a subprocess, as it ended."""

    returncode: int
    output: str
    """The terminal output, stdout and stderr interleaved."""
    started: float
    """time.monotonic() at the start and at the end of the child."""
    exited: float
    maxrss_mb: float
    summary: dict[str, Any] | None = None
    """summary.json, when the run wrote one (and was not killed)."""
    killed: bool = False
    """Killed at the deadline."""

    @property
    def wall_s(self) -> float:
        return self.exited - self.started

    @property
    def verdicts(self) -> dict[str, str]:
        """Requirement ID → verdict ({} without a summary.json)."""
        return {item["id"]: item["verdict"] for item in self.summary["requirements"]} if self.summary else {}

    def with_verdict(self, verdict: str) -> frozenset[str]:
        return frozenset(rid for rid, value in self.verdicts.items() if value == verdict)

    @property
    def fails(self) -> frozenset[str]:
        return self.with_verdict("fail")

    @property
    def warns(self) -> frozenset[str]:
        return self.with_verdict("warn")

    @property
    def not_verified(self) -> frozenset[str]:
        return self.with_verdict("not verified")

    @property
    def diagnosis(self) -> str | None:
        """The harness problem summary.json names (its ``problem``), or None."""
        found = self.summary.get("diagnosis") if self.summary else None
        return found["problem"] if found else None

    @property
    def requests(self) -> int | None:
        """Requests the run sent, from summary.json."""
        return int(self.summary["budget"]["requests"]) if self.summary else None

    def tail(self, chars: int = OUTPUT_TAIL) -> str:
        """The end of the output, after a line saying the run was killed when it was."""
        return (f"killed after {self.wall_s:.1f} s\n" if self.killed else "") + self.output[-chars:]


def run_suite(
    args: Sequence[str],
    *,
    kill_after_s: float = 120.0,
    reports_dir: Path | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    while_running: Callable[[int], None] | None = None,
) -> SuiteRun:
    """``python -m pytest -q -p no:cacheprovider --reports-dir DIR <args>``, killed after ``kill_after_s``.

    ``reports_dir``: None writes the reports to a temporary directory, removed
    once summary.json is read. ``cwd``: None runs in the reports directory, so
    a run leaves nothing behind. ``env`` is added to :func:`clean_environment`. ``while_running`` is called with the
    child's pid in a thread of its own as soon as the child started (a test
    that signals the run, or starts another one beside it).
    """
    child_env = clean_environment(env or {})
    with ExitStack() as stack:
        if reports_dir is None:
            reports_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ipadlogin-run-")))
        reports = reports_dir.resolve()
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--reports-dir", str(reports), *args]
        out = stack.enter_context(tempfile.TemporaryFile())
        started = time.monotonic()
        process = subprocess.Popen(
            command, cwd=cwd or reports, env=child_env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
        peak = PeakRss(process.pid)
        beside = threading.Thread(target=while_running, args=(process.pid,), daemon=True) if while_running else None
        if beside is not None:
            beside.start()
        exited, usage, killed = _wait(process, kill_after_s)
        peak.stop()
        if beside is not None:
            beside.join()
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
        summary_path = reports / SUMMARY_JSON
        summary = json.loads(summary_path.read_text("utf-8")) if summary_path.is_file() and not killed else None
    return SuiteRun(process.returncode, output, started, exited, (peak.kb or usage.ru_maxrss) / 1024, summary, killed)


def clean_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without IPADLOGIN_*, PYTEST_* and VERIFY_BASE_URL (a developer's own
    settings never leak into a child run), plus ``extra``."""
    own = {
        k: v for k, v in os.environ.items() if not k.startswith(("IPADLOGIN_", "PYTEST_")) and k != "VERIFY_BASE_URL"
    }
    return {**own, **extra}


class PeakRss:
    """The child's own peak resident memory, read from /proc while it runs.

    ``wait4``'s ru_maxrss is not the child's own: at exec, Linux folds the
    high-water mark of the memory the child started with (the parent's, shared
    through vfork) into it, so every child of a 300 MB test runner reports
    300 MB. VmHWM is the high-water mark of the child's own memory after exec.
    """

    INTERVAL_S = 0.02

    def __init__(self, pid: int) -> None:
        self.kb = 0
        """The highest VmHWM seen; 0 where /proc cannot tell (then ru_maxrss stands)."""
        self._path = Path(f"/proc/{pid}/status")
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._done.wait(self.INTERVAL_S):
            self._read()

    def _read(self) -> None:
        try:
            for line in self._path.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.kb = max(self.kb, int(line.split()[1]))
        except (OSError, ValueError, IndexError):
            pass

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def _wait(process: subprocess.Popen[bytes], kill_after_s: float) -> tuple[float, resource.struct_rusage, bool]:
    """Wait for the child, killing it at the deadline: (time it exited, its resource usage, killed).

    The child is reaped only after the watchdog can no longer fire, so the
    watchdog never signals a process that reused its pid.
    """
    lock, ended, fired = threading.Lock(), threading.Event(), threading.Event()

    def kill() -> None:
        with lock:
            if not ended.is_set():
                fired.set()
                os.kill(process.pid, signal.SIGKILL)

    watchdog = threading.Timer(kill_after_s, kill)
    watchdog.start()
    try:
        os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped yet
        exited = time.monotonic()
        with lock:
            ended.set()
    finally:
        watchdog.cancel()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return exited, usage, fired.is_set() and process.returncode == -signal.SIGKILL
