#!/usr/bin/env python3
"""Do two runs' summary.json say the same? For a change that must not change behaviour (a refactoring).

    python -m tools.same_summary BEFORE/summary.json AFTER/summary.json

Two runs with the same seed differ only in what no code decides: when they ran, the embedded
server's free port and the measured latencies. Those are set aside; every other difference is
printed as a path and both values, and the exit status is 1.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

RUN_BOUND = frozenset({"started", "finished", "duration_s", "latency_ms"})
"""Top-level keys that differ between any two runs."""
PORT = re.compile(r"(127\.0\.0\.1|localhost):\d+")


def without_run_bound(summary: dict[str, Any]) -> dict[str, Any]:
    return _ports_out({key: value for key, value in summary.items() if key not in RUN_BOUND})


def _ports_out(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _ports_out(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_ports_out(item) for item in value]
    return PORT.sub(r"\1:PORT", value) if isinstance(value, str) else value


def differences(before: Any, after: Any, path: str = "") -> list[str]:
    """Each place where the two differ, as ``path: before != after``."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [line for key in sorted(before.keys() | after.keys()) for line in _at(before, after, key, path)]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [line for i, pair in enumerate(zip(before, after)) for line in differences(*pair, f"{path}[{i}]")]
    return [] if before == after else [f"{path or '.'}: {json.dumps(before)[:200]} != {json.dumps(after)[:200]}"]


def _at(before: dict[str, Any], after: dict[str, Any], key: str, path: str) -> list[str]:
    missing = object()
    one, other = before.get(key, missing), after.get(key, missing)
    if one is missing or other is missing:
        return [f"{path}.{key}: only in {'after' if one is missing else 'before'}"]
    return differences(one, other, f"{path}.{key}")


def main(argv: list[str] | None = None) -> int:
    paths = sys.argv[1:] if argv is None else argv
    if len(paths) != 2:
        print("usage: " + __doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    before, after = (without_run_bound(json.loads(Path(path).read_text("utf-8"))) for path in paths)
    found = differences(before, after)
    for line in found:
        print(line)
    print(f"{len(found)} difference(s) besides time, port and latency")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
