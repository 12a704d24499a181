"""The wheel works on its own: built, installed into a fresh venv, run outside the source tree.

The spec is a link in the source tree (src/ipadlogin_conformance/contract/openapi.yaml
-> ../../openapi.yaml); the artifacts must carry the file itself.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from wheel_support import ROOT, Installed, built, installed

from ipadlogin_conformance import __version__

PACKAGE_DATA = (
    "contract/openapi.yaml",
    "contract/requirements.yaml",
    "suite/cases.yaml",
    "reports/summary.schema.json",
    "reports/templates/report.html.j2",
    "reports/templates/report.css",
    "compare/compare.schema.json",
    "compare/compare.html.j2",
    "py.typed",
)
REPORTS = ("junit.xml", "summary.json", "report.html", "summary.md", "exchanges.har")
TOKEN = "wheel-test-token-7c2b"


@pytest.fixture(scope="module")
def tool(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    return installed(tmp_path_factory.getbasetemp())


def test_the_wheel_carries_the_package_data_as_real_files() -> None:
    with zipfile.ZipFile(built().wheel) as wheel:
        for name in PACKAGE_DATA:
            info = wheel.getinfo(f"ipadlogin_conformance/{name}")
            assert (info.external_attr >> 16) & 0o170000 != 0o120000, f"{name} is a symbolic link"
            assert wheel.read(info) == (ROOT / "src" / "ipadlogin_conformance" / name).read_bytes(), name
        assert wheel.read("ipadlogin_conformance/contract/openapi.yaml") == (ROOT / "openapi.yaml").read_bytes()
        assert "ipadlogin_conformance/cli.py" in wheel.namelist()
        entry_points = wheel.read(next(n for n in wheel.namelist() if n.endswith("entry_points.txt"))).decode()
        assert "ipadlogin-conformance = ipadlogin_conformance.cli:main" in entry_points


def test_the_metadata_says_what_a_package_index_shows() -> None:
    with zipfile.ZipFile(built().wheel) as wheel:
        names = wheel.namelist()
        metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        license_file = next(n for n in names if n.endswith(".dist-info/licenses/LICENSE"))
        assert wheel.read(license_file) == (ROOT / "LICENSE").read_bytes()
    headers = [line.split(": ", 1) for line in metadata.split("\n\n", 1)[0].splitlines() if ": " in line]
    fields: dict[str, list[str]] = {}
    for key, value in headers:
        fields.setdefault(key, []).append(value)
    assert fields["Version"] == [__version__]  # single-sourced from __init__.py
    assert fields["License-Expression"] == ["MIT"] and fields["License-File"] == ["LICENSE"]
    assert "Typing :: Typed" in fields["Classifier"] and "Framework :: Pytest" in fields["Classifier"]
    assert any(url.startswith("Repository, https://") for url in fields["Project-URL"])
    assert fields["Description-Content-Type"] == ["text/markdown"]
    extras = set(fields["Provides-Extra"])
    assert {"parallel", "test", "release"} <= extras
    assert any(req.startswith("pytest-xdist") and "extra == 'parallel'" in req for req in fields["Requires-Dist"])
    runtime = [req.split(";")[0] for req in fields["Requires-Dist"] if "extra ==" not in req]
    assert any(req.startswith("uvicorn") and "[" not in req for req in runtime)  # not uvicorn[standard]


def test_the_artifacts_pass_twine_check() -> None:
    """What an index would refuse (bad metadata, a README it cannot render) fails here first."""
    dist = built()
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(dist.wheel), str(dist.sdist)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_sdist_carries_the_spec_itself_and_no_links() -> None:
    with tarfile.open(built().sdist) as sdist:
        members = {member.name.split("/", 1)[1]: member for member in sdist.getmembers() if "/" in member.name}
        assert not [name for name, member in members.items() if member.issym() or member.islnk()]
        spec = sdist.extractfile(members["openapi.yaml"])
        assert spec is not None and spec.read() == (ROOT / "openapi.yaml").read_bytes()
        for name in PACKAGE_DATA[1:]:
            assert f"src/ipadlogin_conformance/{name}" in members, name
        assert "hatch_build.py" in members  # a wheel built from the sdist gets the spec from there


def test_the_installed_tool_runs_outside_the_source_tree(tool: Installed, tmp_path: Path) -> None:
    where = subprocess.run(
        [str(tool.bin / "python"), "-c", "import ipadlogin_conformance as p; print(p.__file__)"],
        cwd=tmp_path,
        env=tool.env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert Path(where.strip()).is_relative_to(tool.venv)
    version = subprocess.run(
        [tool.tool, "--version"], cwd=tmp_path, env=tool.env(), capture_output=True, text=True, check=True
    )
    assert re.match(
        rf"ipadlogin-conformance {re.escape(__version__)} · spec \(openapi.yaml\) \S+ sha256 \w+ · catalog version \d+",
        version.stdout,
    )
    as_module = subprocess.run(
        [str(tool.bin / "python"), "-m", "ipadlogin_conformance", "--version"],
        cwd=tmp_path,
        env=tool.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert as_module.stdout == version.stdout
    done = subprocess.run(
        [tool.tool, "run", "--examples", "20"],
        cwd=tmp_path,
        env=tool.env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for name in REPORTS:
        assert (tmp_path / "reports" / name).is_file(), name
    assert json.loads((tmp_path / "reports" / "summary.json").read_text("utf-8"))["verdict"] == "pass"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"], (
        "the tool leaves nothing but its reports (no .hypothesis/)"
    )
    # Hypothesis's caches (its Unicode tables: 150 MB of memory to compute) wait in the user's cache for the next run.
    assert any((tool.cache / "ipadlogin-conformance" / "hypothesis").iterdir())


def test_the_installed_tool_has_only_the_server_stack_it_uses(tool: Installed) -> None:
    """uvicorn with its fast loop and parser, without the rest of uvicorn[standard]; no pytest-xdist unless asked for."""
    probe = "import importlib.util as u, sys; print(' '.join(n for n in sys.argv[1:] if u.find_spec(n)))"
    names = ["uvicorn", "uvloop", "httptools", "watchfiles", "websockets", "dotenv", "xdist"]
    found = subprocess.run(
        [str(tool.bin / "python"), "-c", probe, *names], env=tool.env(), capture_output=True, text=True, check=True
    )
    assert found.stdout.split() == ["uvicorn", "uvloop", "httptools"]


def test_parallel_runs_without_the_extra_say_which_extra(tool: Installed, tmp_path: Path) -> None:
    done = subprocess.run(
        [tool.tool, "run", "--", "-n", "2"], cwd=tmp_path, env=tool.env(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 4
    assert done.stderr.strip().splitlines() == [
        'error: -n needs pytest-xdist, which is not installed: pip install "ipadlogin-conformance[parallel]"'
    ]
    help_text = subprocess.run(
        [tool.tool, "run", "--help"], env=tool.env(), capture_output=True, text=True, check=True
    ).stdout
    assert "-n 2" in help_text and 'pip install "ipadlogin-conformance[parallel]"' in help_text


def test_the_installed_serve_with_a_fault_fails_that_requirement(tool: Installed, tmp_path: Path) -> None:
    env = tool.env(IPADLOGIN_TOKEN=TOKEN)
    server = subprocess.Popen(
        [tool.tool, "serve", "--port", "0", "--fault", "code-int", "--no-access-log"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = re.search(r"ready at (\S+)", server.stdout.readline()).group(1)  # type: ignore[union-attr]
        done = subprocess.run(
            [tool.tool, "run", "--base-url", url, "--examples", "20", "--rate-limit", "0", "--success-budget", "0"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text("utf-8"))
    assert "ENV-3" in summary["blocking"]
    assert {row["id"]: row["verdict"] for row in summary["requirements"]}["ENV-3"] == "fail"
    replayed = subprocess.run(
        [tool.tool, "replay", "reports/exchanges.har", "--reports-dir", "replayed"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert replayed.returncode == 1 and "every verdict as recorded" in replayed.stdout
    assert TOKEN not in (tmp_path / "reports" / "exchanges.har").read_text("utf-8")
