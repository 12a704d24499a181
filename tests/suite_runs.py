"""Run the conformance suite in a subprocess and read what it decided, for the project's own tests.

The verdicts come from ``summary.json`` in the run's reports directory when
the reports are written, else from the terminal table. The child's peak RSS
comes from ``os.wait4`` (that child and anything it waited for), so tests
running side by side do not mix their figures up.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SUITE = "src/ipadlogin_conformance/suite"
_ROW = re.compile(r"^([A-Z]+-\d+)\s+(MUST|SHOULD)\s+(pass|fail|warn|not verified|not run)\b", re.MULTILINE)
_REQUESTS = re.compile(r"^requests (\d+) ", re.MULTILINE)


@dataclass
class SuiteRun:
    returncode: int
    output: str
    started: float
    """time.monotonic() at the start and the end of the child."""
    exited: float
    maxrss_mb: float
    summary: dict[str, Any] | None = None
    verdicts: dict[str, str] = field(default_factory=dict)

    @property
    def wall_s(self) -> float:
        return self.exited - self.started

    def failed(self) -> set[str]:
        return {rid for rid, verdict in self.verdicts.items() if verdict == "fail"}

    def requests(self) -> int | None:
        if self.summary is not None:
            return int(self.summary["budget"]["requests"])
        match = _REQUESTS.search(self.output)
        return int(match.group(1)) if match else None


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the suite's own variables (a developer's settings must not leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IPADLOGIN_", "PYTEST_"))}
    env.update(extra)
    return env


def run_suite(args: list[str], *, kill_after_s: float = 120.0, reports_dir: Path | None = None) -> SuiteRun:
    """``python -m pytest <args>`` from the project root; killed after ``kill_after_s`` (a hang is a failure, not a wait)."""
    reports = reports_dir or Path(tempfile.mkdtemp(prefix="ipadlogin-run-"))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--reports-dir", str(reports), *args]
    with tempfile.TemporaryFile() as out:
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=clean_env())
        watchdog = threading.Timer(kill_after_s, process.kill)
        watchdog.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            watchdog.cancel()
        exited = time.monotonic()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    run = SuiteRun(process.returncode, output, started, exited, usage.ru_maxrss / 1024)
    summary_path = reports / "summary.json"
    if summary_path.is_file():
        run.summary = json.loads(summary_path.read_text("utf-8"))
        run.verdicts = {item["id"]: item["verdict"] for item in run.summary["requirements"]}
    else:
        run.verdicts = {rid: verdict for rid, _, verdict in _ROW.findall(output)}
    return run
