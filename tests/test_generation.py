"""The schemathesis adapter: which generated cases reach the suite.

The coverage phase sends request-shape probes (valid JSON under another
Content-Type, undeclared methods) that judge nothing here (REQ-10 and METH-1
have their own tests); the adapter filters them out through schemathesis's
public hook and its own test for those probes. The generated test module
below records what the filter saw and what reached the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from schemathesis.generation.meta import REQUEST_SHAPE_PROBES

RECORDING_TEST = """
import json, os
from schemathesis.generation.meta import coverage_scenario
from ipadlogin_conformance.suite import generation

seen = []
keep = generation._not_a_request_shape_probe

def recording(ctx, case):
    kept = keep(ctx, case)
    seen.append({"scenario": coverage_scenario(case), "kept": kept})
    return kept

generation._not_a_request_shape_probe = recording
schema = generation.load_schema(examples=1, run_seed=1)
arrived = []

@schema.parametrize()
def test_record(case):
    arrived.append(coverage_scenario(case))

def teardown_module():
    with open(os.environ["RECORD"], "w") as out:
        json.dump({"seen": seen, "arrived": arrived}, out)
"""


def test_request_shape_probes_are_filtered_out_and_the_rest_arrives(tmp_path: Path) -> None:
    (tmp_path / "test_recording.py").write_text(RECORDING_TEST, "utf-8")
    record = tmp_path / "record.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_recording.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "RECORD": str(record)},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    data = json.loads(record.read_text("utf-8"))
    probes = {value.value for value in REQUEST_SHAPE_PROBES}
    refused = [entry["scenario"] for entry in data["seen"] if not entry["kept"]]
    assert refused and set(refused) <= probes  # the coverage phase did send probes, and only those were refused
    assert data["arrived"] and not probes & set(filter(None, data["arrived"]))
    assert any(data["arrived"])  # coverage-phase cases that are not probes still arrive
