"""What a run leaves behind, in the reports dir: for CI, for QA and for a vendor to publish.

- ``junit.xml``: pytest's own writer (the plugin points ``--junitxml`` here by
  default); each test case carries its requirement IDs and levels as properties.
- ``summary.json``: the machine-readable verdict (:mod:`.summary`, schema in
  ``summary.schema.json``); the two other files are rendered from it.
- ``report.html``: one self-contained page (:mod:`.html`).
- ``summary.md``: a few lines for a CI job page (:mod:`.markdown`), also
  appended to ``$GITHUB_STEP_SUMMARY`` when set.

Only the controller writes them (an xdist worker never does), at the end of
the session, including after a Ctrl-C, a SIGTERM or a crash; such a report is
marked incomplete. A run holds the reports dir's lock (:func:`lock_reports_dir`)
from its start: a second run into the same dir stops at once instead of
mixing its files with the first's. The evidence is redacted as the summary is
built (:mod:`.summary`); every file is passed through the same redactor once
more before it is written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from ..core.redaction import Redactor
from ..core.reproduce import Reproduction
from ..core.settings import Settings
from ..results.records import RunResults, TestRecord
from .html import render_html
from .markdown import append_step_summary, render_markdown
from .run import RunInfo, RunProgress, run_of_records
from .summary import build_summary, summary_schema, to_json

try:
    import fcntl
except ImportError:  # Windows: no lock (see ReportsLock)
    fcntl = None  # type: ignore[assignment]

JUNIT_XML = "junit.xml"
SUMMARY_JSON = "summary.json"
REPORT_HTML = "report.html"
SUMMARY_MD = "summary.md"
LOCK_NAME = ".ipadlogin-run.lock"

__all__ = [
    "JUNIT_XML",
    "REPORT_HTML",
    "SUMMARY_JSON",
    "SUMMARY_MD",
    "ReportsDirError",
    "ReportsLock",
    "RunInfo",
    "RunProgress",
    "build_summary",
    "lock_reports_dir",
    "prepare_reports_dir",
    "summary_schema",
    "write_reports",
]


class ReportsDirError(Exception):
    """The reports dir cannot be written: told as one line before any test runs."""


def prepare_reports_dir(directory: Path) -> Path:
    """Create the reports dir and prove it is writable, so a run never ends without its reports."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise ReportsDirError(
            f"reports dir {str(directory)!r} is not writable: {reason} (set --reports-dir or IPADLOGIN_REPORTS_DIR)"
        ) from None
    return directory


class ReportsLock:
    """An exclusive lock on a reports dir, held by the run writing there (POSIX flock; none on Windows)."""

    def __init__(self, fd: int | None) -> None:
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file releases the lock
            self._fd = None


def lock_reports_dir(directory: Path) -> ReportsLock:
    """Take the reports dir for this run, or tell in one line which run has it.

    The lock dies with the process, so a killed run leaves no stale lock behind.
    """
    if fcntl is None:
        return ReportsLock(None)
    fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 20, 0).decode("ascii", "replace").strip() or "?"
        os.close(fd)
        raise ReportsDirError(
            f"reports dir {str(directory)!r} is in use by another run (pid {holder}); "
            "wait for it to end or give another --reports-dir"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return ReportsLock(fd)


def write_reports(
    results: RunResults,
    settings: Settings,
    records: Iterable[TestRecord] = (),
    *,
    run: RunInfo | None = None,
    directory: Path | None = None,
    environ: Mapping[str, str] = os.environ,
    cassette: Path | None = None,
) -> list[Path]:
    """Write summary.json, report.html and summary.md (junit.xml is pytest's); return their paths.

    ``run`` says how a live run went (the plugin's :class:`RunProgress`); a
    replay gives its ``records`` instead, which tell the tests and the target.
    ``cassette``: the run's exchanges.har, which the reports' resend one-liners name.
    """
    if run is None:
        run = run_of_records(records, bool(results.blocking(settings.warnings_as_errors)))
    directory = prepare_reports_dir(directory or settings.reports_dir)
    scrub = _scrubber(settings.token)
    summary = build_summary(results, settings, run, Reproduction.in_reports(directory, cassette))
    outputs = {
        SUMMARY_JSON: scrub(to_json(summary)),
        REPORT_HTML: scrub(render_html(summary)),
        SUMMARY_MD: scrub(render_markdown(summary)),
    }
    written = []
    for name, text in outputs.items():
        path = directory / name
        _write_atomically(path, text)
        written.append(path)
    append_step_summary(outputs[SUMMARY_MD], environ)
    return written


def _scrubber(token: str | None) -> Callable[[str], str]:
    """A last pass over each file, behind the redaction of every exchange at its source."""
    return Redactor(token).text


def _write_atomically(path: Path, text: str) -> None:
    """A reader (a CI step, a browser) never sees half a file, even if the run is killed while writing."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8", errors="backslashreplace")
    os.replace(temporary, path)
