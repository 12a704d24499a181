"""The CI examples cannot rot: their shell steps are examples/ci-steps.sh, and they run here.

Both YAML files carry the script verbatim; the script runs with the shell each
CI uses, against a reference server. The GitHub job installs what the steps
install by default, the README's release tag of the repository (here a local
copy of the working tree with that tag: the real repository cannot be reached
from this machine); the GitLab job installs the wheel through IPADLOGIN_PACKAGE.
What the YAML publishes (JUnit, the HTML report, ...) must then exist.
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from wheel_support import ROOT, Installed, bare, git_release, installed

from ipadlogin_conformance import __version__
from ipadlogin_conformance.server import start_reference_server

EXAMPLES = ROOT / "examples"
STEPS = (EXAMPLES / "ci-steps.sh").read_text("utf-8").split("\n", 1)[1]  # without the #! line
TOKEN = "ci-example-token-41aa"
REPOSITORY = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["urls"]["Repository"]
TAG = f"v{__version__}"
RELEASE = f"git+{REPOSITORY}@{TAG}"
"""What the README and the steps install: the repository's release tag of this version."""
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


def github() -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / "github-actions.yml").read_text("utf-8"))


def gitlab() -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text("utf-8"))


def github_steps() -> list[dict[str, Any]]:
    return github()["jobs"]["conformance"]["steps"]


def github_run_step() -> dict[str, Any]:
    return next(step for step in github_steps() if "run" in step)


def github_action(name: str) -> dict[str, Any]:
    return next(step for step in github_steps() if step.get("uses", "").startswith(f"{name}@"))


def github_job_env() -> dict[str, str]:
    return github()["jobs"]["conformance"]["env"]


def github_published() -> list[str]:
    upload = github_action("actions/upload-artifact")
    assert upload["if"] == "always()"  # reports of a failing run are the ones that matter
    return upload["with"]["path"].splitlines()


def gitlab_published() -> list[str]:
    artifacts = gitlab()["ipadlogin-conformance"]["artifacts"]
    assert artifacts["when"] == "always"
    assert artifacts["reports"]["junit"] in artifacts["paths"]
    return artifacts["paths"]


def in_reports_dir(paths: list[str], reference: str, reports_dir: str) -> list[str]:
    """The published paths, each under the reports dir the job sets (and given as its variable)."""
    assert all(path.startswith(f"{reference}/") for path in paths), paths
    return [path.replace(reference, reports_dir, 1) for path in paths]


def test_both_files_carry_the_steps_verbatim() -> None:
    assert github_run_step()["run"] == STEPS
    assert gitlab()["ipadlogin-conformance"]["script"] == [STEPS]


def test_the_target_comes_from_ci_secrets() -> None:
    assert github_run_step()["env"] == {
        "IPADLOGIN_BASE_URL": "${{ secrets.IPADLOGIN_BASE_URL }}",
        "IPADLOGIN_TOKEN": "${{ secrets.IPADLOGIN_TOKEN }}",
    }
    # GitLab passes the project's masked CI/CD variables; the job sets only where reports go.
    assert gitlab()["ipadlogin-conformance"]["variables"] == {"IPADLOGIN_REPORTS_DIR": "reports"}
    assert github_job_env() == {"IPADLOGIN_REPORTS_DIR": "reports"}
    assert "--auth-token" not in STEPS  # the token stays in the environment, out of `ps`


def test_the_readme_and_the_steps_install_the_release_tag_of_the_repository() -> None:
    """One URL (pyproject.toml's Repository), one tag (this version's): a fork or a release changes them there."""
    assert f'pip install "{RELEASE}"' in (ROOT / "README.md").read_text("utf-8")
    assert f'"${{IPADLOGIN_PACKAGE:-{RELEASE}}}"' in STEPS
    for path in [ROOT / "README.md", *EXAMPLES.iterdir()]:
        text = path.read_text("utf-8")
        for url in re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", text):
            assert url == REPOSITORY, f"{path.name} names {url}, not the Repository of pyproject.toml"
        for tag in re.findall(r"git\+https://\S+?@(v[\w.]+)", text):
            assert tag == TAG, f"{path.name} installs {tag}, not this version's tag {TAG}"


def test_github_shows_the_junit_results_and_pins_every_action() -> None:
    report = github_action("mikepenz/action-junit-report")
    assert report["if"] == "always()"
    assert report["with"]["report_paths"] == "${{ env.IPADLOGIN_REPORTS_DIR }}/junit.xml"
    assert github()["permissions"]["checks"] == "write"  # the check run that holds the test view
    text = (EXAMPLES / "github-actions.yml").read_text("utf-8")
    for step in github_steps():
        if "uses" in step:
            assert PINNED.match(step["uses"]), f"{step['uses']} is not pinned to a commit"
            sha = step["uses"].split("@")[1]
            assert re.search(rf"@{sha}  # v\d+\.\d+\.\d+$", text, re.MULTILINE), (
                f"{step['uses']}: no release named beside the commit"
            )


@pytest.fixture(scope="module")
def tool(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    return installed(tmp_path_factory.getbasetemp())


def run_steps(
    tool: Installed, workdir: Path, shell: list[str], base_url: str | None, steps: str = STEPS, **env: str
) -> subprocess.CompletedProcess[str]:
    settings = {
        "IPADLOGIN_TOKEN": TOKEN,
        "IPADLOGIN_EXAMPLES": "20",
        "IPADLOGIN_RATE_LIMIT": "0",
        "IPADLOGIN_SUCCESS_BUDGET": "0",
    }
    if base_url is not None:
        settings["IPADLOGIN_BASE_URL"] = base_url
    return subprocess.run(
        [*shell, "-c", steps], cwd=workdir, env=tool.env(**settings, **env), capture_output=True, text=True, timeout=900
    )


def test_the_github_job_installs_the_release_tag_and_passes_a_correct_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The steps' default install line, from a fresh venv, with the repository's URL pointing at a local copy."""
    base = tmp_path_factory.mktemp("github")
    repository = git_release(base, TAG)
    job = bare(base / "venv")
    workdir = base / "work"
    workdir.mkdir()
    job_summary = base / "step-summary.md"
    steps = STEPS.replace(f"git+{REPOSITORY}@", f"git+{repository.as_uri()}@")
    assert steps != STEPS
    with start_reference_server(token=TOKEN) as server:
        done = run_steps(
            job,
            workdir,
            ["bash", "--noprofile", "--norc", "-eo", "pipefail"],
            server.url,
            steps,
            GITHUB_STEP_SUMMARY=str(job_summary),
            **github_job_env(),
        )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.startswith(f"ipadlogin-conformance {__version__} ")  # --version first, then the run
    origin = json.loads(
        next(
            (job.venv / "lib").glob("python*/site-packages/ipadlogin_conformance-*.dist-info/direct_url.json")
        ).read_text()
    )
    assert origin["url"] == repository.as_uri() and origin["vcs_info"]["requested_revision"] == TAG
    for path in in_reports_dir(
        github_published(), "${{ env.IPADLOGIN_REPORTS_DIR }}", github_job_env()["IPADLOGIN_REPORTS_DIR"]
    ):
        assert (workdir / path).is_file(), path
    assert job_summary.read_text("utf-8").strip() == (workdir / "reports" / "summary.md").read_text("utf-8").strip()


def test_the_gitlab_job_fails_a_faulty_server_and_still_publishes(tool: Installed, tmp_path: Path) -> None:
    variables = gitlab()["ipadlogin-conformance"]["variables"]
    with start_reference_server(token=TOKEN, faults=["no-wid"]) as server:
        done = run_steps(
            tool, tmp_path, ["sh", "-e"], server.url, GITLAB_CI="true", IPADLOGIN_PACKAGE=str(tool.wheel), **variables
        )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    for path in in_reports_dir(gitlab_published(), "$IPADLOGIN_REPORTS_DIR", variables["IPADLOGIN_REPORTS_DIR"]):
        assert (tmp_path / path).is_file(), path
    summary = (tmp_path / "reports" / "summary.md").read_text("utf-8")
    assert "DATA-1" in summary and done.stdout.rstrip().endswith(summary.rstrip())  # the job log shows it


def test_a_missing_target_secret_stops_the_job(tool: Installed, tmp_path: Path) -> None:
    """Without IPADLOGIN_BASE_URL the tool would test its embedded server and pass: the steps refuse."""
    done = run_steps(tool, tmp_path, ["sh", "-e"], None, IPADLOGIN_PACKAGE=str(tool.wheel))
    assert done.returncode != 0
    assert "IPADLOGIN_BASE_URL" in done.stderr
    assert not (tmp_path / "reports").exists()
