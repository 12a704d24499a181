"""tools.same_summary: the before/after check of a change that must not change behaviour."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from tools.same_summary import main

SUMMARY = {
    "target": {"base_url": "http://127.0.0.1:40001", "label": "embedded (http://127.0.0.1:40001)"},
    "started": "2026-12-02T17:45:59Z",
    "duration_s": 4.3,
    "latency_ms": {"p50": 1.6, "histogram": [{"count": 20}]},
    "requirements": [{"id": "ENV-1", "verdict": "pass", "counts": {"pass": 40}}],
}


def _files(tmp_path: Path, after: dict) -> list[str]:
    paths = [tmp_path / "before.json", tmp_path / "after.json"]
    for path, summary in zip(paths, (SUMMARY, after)):
        path.write_text(json.dumps(summary), "utf-8")
    return [str(path) for path in paths]


def test_time_port_and_latency_are_set_aside(tmp_path: Path) -> None:
    after = copy.deepcopy(SUMMARY)
    after.update(started="2026-12-02T18:00:00Z", duration_s=9.9, latency_ms={"p50": 3.0})
    after["target"] = {"base_url": "http://127.0.0.1:51234", "label": "embedded (http://127.0.0.1:51234)"}
    assert main(_files(tmp_path, after)) == 0


def test_any_other_difference_is_told(tmp_path: Path, capsys) -> None:
    after = copy.deepcopy(SUMMARY)
    after["requirements"][0]["counts"] = {"pass": 39, "fail": 1}
    assert main(_files(tmp_path, after)) == 1
    assert ".requirements[0].counts.fail: only in after" in capsys.readouterr().out
