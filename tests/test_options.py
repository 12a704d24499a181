"""Options: every one documented, every wrong one a single line and exit status 4."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ipadlogin_conformance.settings import OPTIONS, SettingsError, resolve

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "src" / "ipadlogin_conformance" / "suite"


def test_the_readme_documents_every_option() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    for option in OPTIONS:
        assert f"`--{option.name}`" in readme and f"`{option.env}`" in readme, option.name


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "loose"], "--profile='loose': must be one of strict, lenient"),
        (["--examples", "0"], "--examples='0': must be 1 or more"),
        (["--request-timeout", "soon"], "--request-timeout='soon'"),
        (["--base-url", "ftp://example.com"], "must be an absolute http:// or https:// URL"),
        (["--base-url", "http://127.0.0.1:1"], "a target needs a token"),
        (["--ca-bundle", "/nonexistent.pem"], "no such file"),
    ],
)
def test_a_wrong_option_is_one_line_and_exit_4(args: list[str], message: str) -> None:
    result = subprocess.run([sys.executable, "-m", "pytest", str(SUITE), *args], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 4
    assert message in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_an_unreachable_target_is_one_line_and_exit_4() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(SUITE), "--base-url", url, "--auth-token", "a-real-length-token"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert result.returncode == 4
    assert result.stderr.strip() == f"ERROR: cannot reach {url}: Connection refused"


def test_the_environment_is_read_when_no_option_is_given() -> None:
    settings = resolve({}, {"IPADLOGIN_BASE_URL": "http://h:1/", "IPADLOGIN_TOKEN": "a-real-length-token", "IPADLOGIN_PROFILE": "lenient", "IPADLOGIN_RATE_LIMIT": "0"})
    assert (settings.base_url, settings.profile.value, settings.rate_limit) == ("http://h:1", "lenient", None)
    assert settings.success_budget == 25, "a live target keeps its default success budget"
    assert resolve({"ipadlogin_profile": "strict"}, {"IPADLOGIN_PROFILE": "lenient"}).profile.value == "strict"


def test_the_embedded_server_has_no_caps_and_a_target_has_safe_ones() -> None:
    embedded = resolve({}, {})
    target = resolve({"base_url": "https://staging.example.com", "ipadlogin_auth_token": "a-real-length-token"}, {})
    assert (embedded.rate_limit, embedded.success_budget) == (None, None)
    assert (target.rate_limit, target.success_budget) == (5.0, 25)
    with pytest.raises(SettingsError):
        resolve({"hypothesis_seed": "x"}, {})
