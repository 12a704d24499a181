"""The console tool: its commands, its one-line usage errors and the `run` it hands to pytest.

Quick commands run in-process; `run` starts pytest, so it runs in a subprocess
(a pytest run inside this one would share the plugin's module state).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ipadlogin_conformance import __version__, cli
from ipadlogin_conformance.contract.catalog import load_catalog
from ipadlogin_conformance.contract.spec import spec_version
from ipadlogin_conformance.core.settings import OPTIONS
from ipadlogin_conformance.server import CATALOG, DEFAULT_DEV_TOKEN, ServerConfig
from ipadlogin_conformance.server.__main__ import token_note

TOOL = [sys.executable, "-m", "ipadlogin_conformance.cli"]


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        status = cli.main(argv)
    except SystemExit as exit_:  # argparse's --help and --version
        status = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def test_version_names_suite_spec_and_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_main(["--version"], capsys)
    assert status == 0
    assert f"ipadlogin-conformance {__version__}" in out
    assert f"spec (openapi.yaml) {spec_version()}" in out
    assert f"catalog version {load_catalog().version} ({len(load_catalog())} requirements)" in out


@pytest.mark.parametrize("fmt", ["table", "json", "markdown"])
def test_requirements_lists_the_whole_catalog(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_main(["requirements", "--format", fmt], capsys)
    assert status == 0
    ids = [r.id for r in load_catalog()]
    if fmt == "json":
        document = json.loads(out)
        assert document["version"] == load_catalog().version
        assert [row["id"] for row in document["requirements"]] == ids
        assert all(row["level"] in ("MUST", "SHOULD") and row["statement"] for row in document["requirements"])
    else:
        rows = [
            line
            for line in out.splitlines()
            if any(line.startswith(p) for p in (f"| {i} |" for i in ids)) or line.split(" ")[0] in ids
        ]
        assert len(rows) == len(ids)


def test_run_help_lists_the_suite_options_not_pytests(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_main(["run", "--help"], capsys)
    assert status == 0
    for option in [*(f"--{o.name}" for o in OPTIONS), "--base-url", "--hypothesis-seed"]:
        assert option in out
    for env in (o.env for o in OPTIONS):
        assert env in out
    assert "--capture" not in out and "--junitxml" not in out  # pytest's own options stay out


def test_run_options_become_the_plugins_options() -> None:
    """Every option of the table reaches pytest under the plugin's name, flags as flags."""
    argv: list[str] = []
    for option in OPTIONS:
        argv += [f"--{option.name}"] if option.is_flag else [f"--{option.name}", "7"]
    args = cli._run_parser().parse_args([*argv, "--base-url", "http://x.test", "--hypothesis-seed", "3"])
    joined = [f"--{option.name}" if option.is_flag else f"--{option.name}=7" for option in OPTIONS]
    assert cli.pytest_arguments(args) == [*joined, "--base-url=http://x.test", "--hypothesis-seed=3"]


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--no-such-option"],
        ["run", "--examples", "0"],
        ["run", "--profile", "loose"],
        ["run", "--base-url", "ftp://x.test", "--auth-token", "a-long-enough-token"],
        ["run", "--base-url", "http://x.test"],  # no token
        ["requirements", "--format", "xml"],
        ["serve", "--fault", "no-such-fault"],
        ["replay", "no-such-file.har"],
        ["no-such-command"],
        [],
    ],
)
def test_usage_errors_are_one_line_and_exit_4(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IPADLOGIN_TOKEN", raising=False)
    monkeypatch.delenv("IPADLOGIN_BASE_URL", raising=False)
    status, out, err = run_main(argv, capsys)
    assert status == 4
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err


def test_an_unreachable_url_is_one_line_and_exit_4(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = subprocess.run(
        [*TOOL, "run", "--base-url", f"http://127.0.0.1:{port}", "--auth-token", "a-real-length-token"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 4
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [f"error: cannot reach http://127.0.0.1:{port}: Connection refused"]
    assert not list(tmp_path.iterdir())  # nothing written


def test_serve_delegates_to_the_reference_server(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_main(["serve", "--list-faults"], capsys)
    assert status == 0
    assert [line.split()[0] for line in out.splitlines()] == list(CATALOG)


def test_run_shows_progress_per_test_and_the_table(tmp_path: Path) -> None:
    """Against the embedded server, from a directory that is not a checkout; pytest options after --."""
    done = subprocess.run(
        [*TOOL, "run", "--examples", "5", "--reports-dir", "out", "--", "-k", "auth or methods"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    progress = [line for line in lines if line.startswith("[")]
    assert (
        progress[0].startswith("[ 1/")
        and "pass" in progress[0]
        and "test_cases.py::test_case[auth-missing]  AUTH-1" in progress[0]
    )
    assert any("test_methods.py::test_other_method_refused[BREW]  METH-1" in line for line in progress)
    assert not any(set(line) <= set(".") and line for line in lines)  # no rows of pytest dots
    table = lines.index(next(line for line in lines if "iPadLogin conformance" in line))
    rows = {line.split()[0]: line.split()[2] for line in lines[table + 3 : table + 3 + len(load_catalog())]}
    assert rows["AUTH-1"] == "pass" and rows["METH-1"] == "pass" and rows["DATA-3"] == "not"  # "not run": filtered out
    assert (tmp_path / "out" / "exchanges.har").is_file() and (tmp_path / "out" / "junit.xml").is_file()


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["run", "--help"],
        ["serve", "--help"],
        ["requirements", "--help"],
        ["replay", "--help"],
        ["resend", "--help"],
        ["compare", "--help"],
    ],
)
def test_help_is_plain_text(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_main(argv, capsys)
    assert status == 0 and out.startswith("usage: ")
    assert not re.search(r"``|`|:(func|mod|class|data):|\*\*", out), out


def test_serve_names_the_development_token_and_never_a_configured_one() -> None:
    assert f"Authorization: {DEFAULT_DEV_TOKEN}" in token_note(ServerConfig())
    secret = "a-configured-token-8c1e"
    assert secret not in token_note(ServerConfig(tokens=(secret,))) and "not shown" in token_note(
        ServerConfig(tokens=(secret,))
    )
    assert DEFAULT_DEV_TOKEN in (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")


def test_serve_prints_the_token_it_accepts() -> None:
    env = {key: value for key, value in os.environ.items() if key != "IPADLOGIN_TOKEN"}
    server = subprocess.Popen(
        [*TOOL, "serve", "--port", "0", "--stop-on-stdin-eof", "--no-access-log"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready = server.stdout.readline()
    finally:
        server.stdin.close()
        server.wait(30)
    assert "ready at http://127.0.0.1:" in ready
    assert f"accepting the public development token: Authorization: {DEFAULT_DEV_TOKEN}" in server.stderr.read()
    server.stdout.close()
    server.stderr.close()


def test_every_exit_status_is_told_in_run_help_and_the_readme(capsys: pytest.CaptureFixture[str]) -> None:
    from ipadlogin_conformance.reports.run import EXIT_MEANINGS

    status, out, _ = run_main(["run", "--help"], capsys)
    assert status == 0
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    assert sorted(EXIT_MEANINGS) == [0, 1, 2, 3, 4, 5]
    for code, meaning in EXIT_MEANINGS.items():
        assert f"  {code}  {meaning}" in out
        assert f"\n| {code} | " in readme, f"README: no row for exit status {code}"
