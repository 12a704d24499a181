"""Options: every one documented, every wrong one a single line and exit status 4."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from paths import ROOT, SUITE

from ipadlogin_conformance import cli
from ipadlogin_conformance.cli import SUITE_PACKAGE
from ipadlogin_conformance.core.settings import BASE_URL_ENVS, EMBEDDED_TARGET, OPTIONS, SettingsError, resolve
from ipadlogin_conformance.runner import invocation
from tools.subprocess_run import clean_environment


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
        (["--examples", "0"], "--examples='0': must be a whole number, 1 or more"),
        (["--request-timeout", "soon"], "--request-timeout='soon'"),
        (["--base-url", "ftp://example.com"], "must be an absolute http:// or https:// URL"),
        (["--base-url", "http://127.0.0.1:1"], "a target needs a token"),
        (["--ca-bundle", "/nonexistent.pem"], "no such file"),
        (["--examples", "lots"], "--examples='lots': must be a whole number, 1 or more"),
        (["--request-timeout", "inf"], "--request-timeout='inf': must be a number of seconds"),
        (["--rate-limit=nan"], "--rate-limit='nan': must be a number of requests per second"),
        (["--success-budget=-inf"], "--success-budget='-inf': must be a whole number, or 0 for no cap"),
        (["--base-url", "http://127.0.0.1:99999"], "--base-url='http://127.0.0.1:99999': must be an absolute http"),
        (
            ["--base-url=http://127.0.0.1:0", "--auth-token=a-long-enough-token"],
            "--base-url='http://127.0.0.1:0': must be an absolute http",
        ),
    ],
)
def test_a_wrong_option_is_one_line_and_exit_4(args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(SUITE), *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 4
    assert message in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_an_unreachable_target_is_one_line_and_exit_4(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    result = (
        subprocess.run(  # its own reports dir: the checkout's may be another run's (this one's, under tasks.py test)
            [
                sys.executable,
                "-m",
                "pytest",
                str(SUITE),
                "--base-url",
                url,
                "--auth-token",
                "a-real-length-token",
                f"--reports-dir={tmp_path / 'reports'}",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
    )
    assert result.returncode == 4
    assert result.stderr.strip() == f"ERROR: cannot reach {url}: Connection refused"


def test_the_environment_is_read_when_no_option_is_given() -> None:
    settings = resolve(
        {},
        {
            "IPADLOGIN_BASE_URL": "http://h:1/",
            "IPADLOGIN_TOKEN": "a-real-length-token",
            "IPADLOGIN_PROFILE": "lenient",
            "IPADLOGIN_RATE_LIMIT": "0",
        },
    )
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


# --- every bad value says what the option wants -------------------------------------------


@pytest.mark.parametrize(
    ("dest", "raw", "wanted"),
    [
        ("ipadlogin_examples", "lots", "must be a whole number, 1 or more"),
        ("ipadlogin_examples", "2.5", "must be a whole number, 1 or more"),
        ("ipadlogin_request_timeout", "nan", "must be a number of seconds, greater than 0 and at most 86400"),
        ("ipadlogin_request_timeout", "-inf", "must be a number of seconds, greater than 0 and at most 86400"),
        ("ipadlogin_request_timeout", "1e10", "must be a number of seconds, greater than 0 and at most 86400"),
        ("ipadlogin_latency_budget", "inf", "must be a number greater than 0"),
        ("ipadlogin_rate_limit", "nan", "must be a number of requests per second, 0.01 or more, or 0 for no cap"),
        ("ipadlogin_rate_limit", "inf", "must be a number of requests per second, 0.01 or more, or 0 for no cap"),
        ("ipadlogin_rate_limit", "1e-300", "must be a number of requests per second, 0.01 or more, or 0 for no cap"),
        ("ipadlogin_success_budget", "inf", "must be a whole number, or 0 for no cap"),
        ("ipadlogin_success_budget", "2.5", "must be a whole number, or 0 for no cap"),
    ],
)
def test_a_bad_value_names_the_option_and_what_it_wants(dest: str, raw: str, wanted: str) -> None:
    name = "--" + dest.removeprefix("ipadlogin_").replace("_", "-")
    with pytest.raises(SettingsError) as caught:
        resolve({dest: raw}, {})
    assert str(caught.value) == f"{name}={raw!r}: {wanted}"


def test_an_environment_value_is_judged_like_the_option() -> None:
    with pytest.raises(SettingsError, match=r"^IPADLOGIN_RATE_LIMIT='nan': must be a number of requests per second"):
        resolve({}, {"IPADLOGIN_RATE_LIMIT": "nan"})


def test_the_values_that_mean_no_cap_and_real_numbers_still_parse() -> None:
    settings = resolve(
        {"ipadlogin_rate_limit": "unlimited", "ipadlogin_success_budget": "0", "ipadlogin_request_timeout": "0.5"}, {}
    )
    assert (settings.rate_limit, settings.success_budget, settings.request_timeout_s) == (None, None, 0.5)
    assert resolve({"ipadlogin_rate_limit": "0.5", "ipadlogin_success_budget": "3"}, {}).rate_limit == 0.5


@pytest.mark.parametrize("port", ["0", "65536", "99999", "http"])
def test_an_impossible_port_is_refused(port: str) -> None:
    with pytest.raises(SettingsError, match="a port from 1 to 65535"):
        resolve({"base_url": f"http://127.0.0.1:{port}", "ipadlogin_auth_token": "a-long-enough-token"}, {})
    assert (
        resolve({"base_url": "http://127.0.0.1:65535", "ipadlogin_auth_token": "a-long-enough-token"}, {}).base_url
        == "http://127.0.0.1:65535"
    )


def test_a_file_that_is_no_ca_bundle_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(SettingsError, match="not a readable CA bundle"):
        resolve({"ipadlogin_ca_bundle": str(junk)}, {})


@pytest.mark.parametrize(
    "args",
    [
        ["--examples", "lots"],
        ["--request-timeout=inf"],
        ["--rate-limit", "nan"],
        ["--base-url", "http://127.0.0.1:99999", "--auth-token", "a-long-enough-token"],
    ],
)
def test_the_console_tool_refuses_the_same_values_in_one_line(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [*(option.env for option in OPTIONS), *BASE_URL_ENVS]:
        monkeypatch.delenv(name, raising=False)
    assert cli.main(["run", *args]) == 4
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: {args[0].split('=')[0]}=") and "must be" in err and "invalid literal" not in err


def test_pytest_help_shows_what_each_value_is_and_its_real_environment_variable(tmp_path: Path) -> None:
    """From outside the checkout: the entry point declares the options, with honest metavars."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_environment({}),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    help_text = " ".join(result.stdout.split())  # argparse wraps lines
    for option in OPTIONS:
        shown = f"--{option.name}" if option.is_flag else f"--{option.name}={option.metavar}"
        assert shown in help_text and f"(environment: {option.env})" in help_text, option.name
        if option.dest.upper() != option.env:  # e.g. IPADLOGIN_AUTH_TOKEN, which is no environment variable
            assert not re.search(rf"\b{option.dest.upper()}\b", help_text), option.name
    assert all(option.metavar not in ("VALUE", option.dest.upper()) for option in OPTIONS if not option.is_flag)


# --- options that work wherever they stand -------------------------------------------------
#
# pytest finds its rootdir before it loads plugins, so an existing path given as `--opt value`
# once made it root the session there, without the project's ini and conftest.py.


@pytest.fixture
def ca_bundle(tmp_path: Path) -> Path:
    """A real PEM bundle outside the checkout (the run is against plain http: it is parsed, not used)."""
    import certifi

    path = tmp_path / "ca" / "bundle.pem"
    path.parent.mkdir()
    shutil.copyfile(certifi.where(), path)
    return path


def _as_typed(form: str, options: dict[str, str]) -> list[str]:
    if form == "space":
        return [item for name, value in options.items() for item in (name, value)]
    return [f"{name}={value}" for name, value in options.items()]


def _assert_one_test_ran_into(reports: Path, result: subprocess.CompletedProcess[str]) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "unrecognized arguments" not in output and "Traceback" not in output
    summary = json.loads((reports / "summary.json").read_text("utf-8"))
    assert summary["tests"]["run"] == 1 and summary["budget"]["requests"] == 1
    assert summary["target"]["source"] == EMBEDDED_TARGET
    assert not (reports / ".pytest_cache").exists()  # the session was not rooted in the reports dir


@pytest.mark.parametrize(
    ("cwd", "form"), [("src", "space"), ("src", "equals"), ("src", "PYTEST_ADDOPTS"), (".", "space")]
)
def test_path_options_work_in_both_forms_from_the_checkout(
    cwd: str, form: str, tmp_path: Path, ca_bundle: Path
) -> None:
    """No test path given (the README's form): from the root, testpaths apply; from src/, what lies below."""
    reports = tmp_path / "reports"
    reports.mkdir()  # an existing directory is what pytest took for a test path
    in_addopts = form == "PYTEST_ADDOPTS"  # space-separated there, as pytest reads them before the rootdir too
    options = _as_typed(
        "space" if in_addopts else form,
        {"--reports-dir": str(reports), "--ca-bundle": str(ca_bundle), "--examples": "1"},
    )
    env = clean_environment({"PYTEST_ADDOPTS": shlex.join(options)}) if in_addopts else clean_environment({})
    parallel = ["-n", "2"] if cwd == "src" and form == "space" else []  # xdist workers get the joined options
    command = [
        sys.executable,
        "-m",
        "pytest",
        *([] if in_addopts else options),
        "-k",
        "test_case and auth-missing",
        *parallel,
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT / cwd, env=env, timeout=300)
    _assert_one_test_ran_into(reports, result)
    assert (
        f"rootdir: {ROOT}\nconfigfile: pyproject.toml\n" in result.stdout
    )  # not the option's directory, nor without the ini
    classnames = {case.get("classname") for case in ET.parse(reports / "junit.xml").getroot().iter("testcase")}
    assert classnames == {"src.ipadlogin_conformance.suite.test_cases"}
    assert not list(tmp_path.rglob(".pytest_cache"))  # the ini's -p no:cacheprovider held


@pytest.mark.parametrize("form", ["space", "equals"])
def test_path_options_work_in_both_forms_outside_the_checkout(form: str, tmp_path: Path, ca_bundle: Path) -> None:
    """No conftest.py out here: the options come from the installed plugin (pytest11 entry point)."""
    reports = tmp_path / "reports"
    reports.mkdir()
    options = _as_typed(form, {"--reports-dir": str(reports), "--ca-bundle": str(ca_bundle)})
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--pyargs",
        SUITE_PACKAGE,
        *options,
        "-k",
        "test_case and auth-missing",
    ]
    _assert_one_test_ran_into(
        reports,
        subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=clean_environment({}), timeout=300),
    )


def test_path_options_work_in_both_forms_in_the_console_tool(tmp_path: Path, ca_bundle: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    command = [
        sys.executable,
        "-m",
        "ipadlogin_conformance.cli",
        "run",
        "--reports-dir",
        str(reports),
        f"--ca-bundle={ca_bundle}",
        "--examples=1",
        "--",
        "-k",
        "test_case and auth-missing",
    ]
    _assert_one_test_ran_into(
        reports,
        subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=clean_environment({}), timeout=300),
    )


def test_the_plugin_is_inert_when_the_suite_is_not_collected(tmp_path: Path) -> None:
    """Installed for every pytest run, it must not touch another project's: no server, no reports, no checks."""
    (tmp_path / "test_other.py").write_text("def test_other(base_url):\n    assert base_url == 'http://127.0.0.1:1'\n")
    env = clean_environment(
        {
            "PYTEST_BASE_URL": "http://127.0.0.1:1",
            "IPADLOGIN_EXAMPLES": "lots",
            "IPADLOGIN_REPORTS_DIR": str(tmp_path / "reports"),
        }
    )
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_other.py", "--examples=3"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "1 passed" in result.stdout
    assert (
        "ipadlogin-conformance:" not in result.stdout and "iPadLogin conformance" not in result.stdout
    )  # no header, no table
    assert sorted(path.name for path in tmp_path.iterdir() if path.name != "__pycache__") == ["test_other.py"]


def test_only_a_suite_option_whose_value_is_an_existing_path_is_rewritten(tmp_path: Path) -> None:
    args = ["-k", str(tmp_path), "--reports-dir", str(tmp_path), "--examples", "3", "--", "--ca-bundle", str(tmp_path)]
    assert invocation.joined(args) == [
        "-k",
        str(tmp_path),
        f"--reports-dir={tmp_path}",
        "--examples=3",
        "--",
        "--ca-bundle",
        str(tmp_path),
    ]
    assert invocation.mistaken_for_paths(args)
    assert not invocation.mistaken_for_paths(["--reports-dir", str(tmp_path / "new"), "-k", str(tmp_path)])
    assert not invocation.mistaken_for_paths(["--", "--reports-dir", str(tmp_path)])
