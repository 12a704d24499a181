"""A pytest plugin for the benchmark: when each test's call ran and how many requests it sent.

Loaded with ``-p bench.probe``; appends one JSON line per test to the file named
by ``IPADLOGIN_BENCH_PROBE``. It runs on the controller, which also sees the
reports of xdist workers, so a parallel run is measured the same way.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

_calls: dict[str, tuple[float, float]] = {}
_on_worker = False


@pytest.hookimpl(tryfirst=True)  # before the plugin moves the record to the cassette and drops it
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = os.environ.get("IPADLOGIN_BENCH_PROBE")
    if not path or _on_worker:  # the controller writes; a worker's own reports would count twice
        return
    if report.when == "call":
        _calls[report.nodeid] = (report.start, report.stop)
    elif report.when == "teardown" and report.nodeid in _calls:
        record: dict[str, Any] = getattr(report, "ipadlogin_record", None) or {}
        start, stop = _calls.pop(report.nodeid)
        line = {"test": report.nodeid, "start": start, "stop": stop, "requests": record.get("requests", 0)}
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")


def pytest_configure(config: pytest.Config) -> None:
    global _on_worker
    _on_worker = hasattr(config, "workerinput")
