"""The CI examples cannot rot: their shell steps are examples/ci-steps.sh, and they run here.

Both YAML files carry the script verbatim; the script runs with the shell each
CI uses, against a reference server, with the wheel as the package it
installs. What the YAML publishes (JUnit, the HTML report, ...) must then exist.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from ipadlogin_conformance.server import start_reference_server
from wheel_support import ROOT, Installed, installed

EXAMPLES = ROOT / "examples"
STEPS = (EXAMPLES / "ci-steps.sh").read_text("utf-8").split("\n", 1)[1]  # without the #! line
TOKEN = "ci-example-token-41aa"


def github() -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / "github-actions.yml").read_text("utf-8"))


def gitlab() -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text("utf-8"))


def github_run_step() -> dict[str, Any]:
    return next(step for step in github()["jobs"]["conformance"]["steps"] if "run" in step)


def github_published() -> list[str]:
    upload = next(step for step in github()["jobs"]["conformance"]["steps"] if step.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()"  # reports of a failing run are the ones that matter
    return upload["with"]["path"].split()


def gitlab_published() -> list[str]:
    artifacts = gitlab()["ipadlogin-conformance"]["artifacts"]
    assert artifacts["when"] == "always"
    assert artifacts["reports"]["junit"] in artifacts["paths"]
    return artifacts["paths"]


def test_both_files_carry_the_steps_verbatim() -> None:
    assert github_run_step()["run"] == STEPS
    assert gitlab()["ipadlogin-conformance"]["script"] == [STEPS]


def test_the_target_comes_from_ci_secrets() -> None:
    assert github_run_step()["env"] == {
        "IPADLOGIN_BASE_URL": "${{ secrets.IPADLOGIN_BASE_URL }}",
        "IPADLOGIN_TOKEN": "${{ secrets.IPADLOGIN_TOKEN }}",
    }
    assert "variables" not in gitlab()["ipadlogin-conformance"]  # GitLab passes the project's masked CI/CD variables
    assert "--auth-token" not in STEPS  # the token stays in the environment, out of `ps`


@pytest.fixture(scope="module")
def tool(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    return installed(tmp_path_factory.getbasetemp())


def run_steps(tool: Installed, workdir: Path, shell: list[str], base_url: str | None, **env: str) -> subprocess.CompletedProcess[str]:
    settings = {"IPADLOGIN_TOKEN": TOKEN, "IPADLOGIN_PACKAGE": str(tool.wheel), "IPADLOGIN_EXAMPLES": "20",
                "IPADLOGIN_RATE_LIMIT": "0", "IPADLOGIN_SUCCESS_BUDGET": "0"}
    if base_url is not None:
        settings["IPADLOGIN_BASE_URL"] = base_url
    return subprocess.run([*shell, "-c", STEPS], cwd=workdir, env=tool.env(**settings, **env),
                          capture_output=True, text=True, timeout=600)


def test_the_github_job_passes_a_correct_server(tool: Installed, tmp_path: Path) -> None:
    job_summary = tmp_path / "step-summary.md"
    with start_reference_server(token=TOKEN) as server:
        done = run_steps(tool, tmp_path, ["bash", "--noprofile", "--norc", "-eo", "pipefail"], server.url,
                         GITHUB_STEP_SUMMARY=str(job_summary))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.startswith("ipadlogin-conformance ")  # --version first, then the run
    for path in github_published():
        assert (tmp_path / path).is_file(), path
    assert job_summary.read_text("utf-8").strip() == (tmp_path / "reports" / "summary.md").read_text("utf-8").strip()


def test_the_gitlab_job_fails_a_faulty_server_and_still_publishes(tool: Installed, tmp_path: Path) -> None:
    with start_reference_server(token=TOKEN, faults=["no-wid"]) as server:
        done = run_steps(tool, tmp_path, ["sh", "-e"], server.url, GITLAB_CI="true")
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    for path in gitlab_published():
        assert (tmp_path / path).is_file(), path
    summary = (tmp_path / "reports" / "summary.md").read_text("utf-8")
    assert "DATA-1" in summary and done.stdout.rstrip().endswith(summary.rstrip())  # the job log shows it


def test_a_missing_target_secret_stops_the_job(tool: Installed, tmp_path: Path) -> None:
    """Without IPADLOGIN_BASE_URL the tool would test its embedded server and pass: the steps refuse."""
    done = run_steps(tool, tmp_path, ["sh", "-e"], None)
    assert done.returncode != 0
    assert "IPADLOGIN_BASE_URL" in done.stderr
    assert not (tmp_path / "reports").exists()
