"""The target the user named is the target tested: every source of the base URL, their precedence,
disagreement and credentials refused, and every output naming the target and where it came from.

Sources, first given wins the label: --base-url, IPADLOGIN_BASE_URL, PYTEST_BASE_URL, pytest-base-url's
ini key ``base_url``; two that name different URLs stop the run. pytest-base-url's verification GET
never fires (the suite sends only POST /iPadLogin and GET qrCodeUrl).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from paths import SUITE

from ipadlogin_conformance import cli
from ipadlogin_conformance.cli import SUITE_PACKAGE
from ipadlogin_conformance.core.settings import BASE_URL_ENVS, EMBEDDED_TARGET, SettingsError, resolve
from ipadlogin_conformance.server import start_reference_server
from tools.subprocess_run import clean_environment

SUITE_CASES = SUITE / "test_cases.py"
TOKEN = "base-url-test-token-0123456789"
SECRET = "pa55-w0rd-never-shown"
INI = ("base_url in /project/pytest.ini", "http://ini.test:1")


def _pytest(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


# --- precedence, agreement, credentials (the one resolver pytest and the console tool share) -----


@pytest.mark.parametrize(
    ("option", "environ", "ini", "source"),
    [
        (None, {}, INI, INI[0]),
        (None, {"PYTEST_BASE_URL": "http://ini.test:1/"}, INI, "PYTEST_BASE_URL"),
        (
            None,
            {"IPADLOGIN_BASE_URL": "http://ini.test:1", "PYTEST_BASE_URL": "http://ini.test:1"},
            INI,
            "IPADLOGIN_BASE_URL",
        ),
        (
            "http://ini.test:1/",
            {"IPADLOGIN_BASE_URL": "http://ini.test:1", "PYTEST_BASE_URL": "http://ini.test:1"},
            INI,
            "--base-url",
        ),
        (
            "http://ini.test:1",
            {"IPADLOGIN_BASE_URL": "", "PYTEST_BASE_URL": "  "},
            None,
            "--base-url",
        ),  # empty: not given
    ],
)
def test_the_first_source_given_names_the_target(
    option: str | None, environ: dict[str, str], ini: tuple[str, str] | None, source: str
) -> None:
    settings = resolve({"base_url": option, "ipadlogin_auth_token": "a-long-enough-token"}, environ, ini)
    assert (settings.base_url, settings.target_source) == ("http://ini.test:1", source)


def test_no_source_is_the_embedded_server() -> None:
    settings = resolve({}, {}, None)
    assert settings.embedded and settings.target_source == EMBEDDED_TARGET


@pytest.mark.parametrize(
    ("option", "environ", "ini", "first", "second"),
    [
        ("http://a.test", {}, INI, "--base-url (http://a.test)", f"{INI[0]} ({INI[1]})"),
        (None, {"IPADLOGIN_BASE_URL": "http://a.test"}, INI, "IPADLOGIN_BASE_URL (http://a.test)", INI[0]),
        (None, {"PYTEST_BASE_URL": "http://a.test"}, INI, "PYTEST_BASE_URL (http://a.test)", INI[0]),
        (
            None,
            {"IPADLOGIN_BASE_URL": "http://a.test", "PYTEST_BASE_URL": "https://a.test"},
            None,
            "IPADLOGIN_BASE_URL",
            "PYTEST_BASE_URL (https://a.test)",
        ),
        ("http://a.test:8080", {"PYTEST_BASE_URL": "http://a.test:8081"}, None, "--base-url", "PYTEST_BASE_URL"),
    ],
)
def test_two_sources_that_disagree_are_refused(
    option: str | None, environ: dict[str, str], ini: tuple[str, str] | None, first: str, second: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        resolve({"base_url": option, "ipadlogin_auth_token": "a-long-enough-token"}, environ, ini)
    message = str(caught.value)
    assert first in message and second in message and "name different targets" in message
    assert message.index(first) < message.index(second)


@pytest.mark.parametrize(
    ("option", "environ", "ini", "source"),
    [
        (f"http://user:{SECRET}@a.test", {}, None, "--base-url"),
        (f"http://{SECRET}@a.test:1", {}, None, "--base-url"),
        (None, {"IPADLOGIN_BASE_URL": f"https://u:{SECRET}@a.test"}, None, "IPADLOGIN_BASE_URL"),
        (None, {"PYTEST_BASE_URL": f"http://u:{SECRET}@[::1"}, None, "PYTEST_BASE_URL"),  # broken, and still not echoed
        (None, {}, ("base_url in /p/pytest.ini", f"http://u:{SECRET}@a.test:99999"), "base_url in /p/pytest.ini"),
    ],
)
def test_a_base_url_with_credentials_is_refused_without_echoing_them(
    option: str | None, environ: dict[str, str], ini: tuple[str, str] | None, source: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        resolve({"base_url": option, "ipadlogin_auth_token": "a-long-enough-token"}, environ, ini)
    message = str(caught.value)
    assert message.startswith(source) and SECRET not in message and "\n" not in message


# --- the console tool ------------------------------------------------------------------------------


@pytest.fixture
def no_target_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*BASE_URL_ENVS, "IPADLOGIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def test_the_console_tool_refuses_disagreeing_sources_and_credentials_in_one_line(
    no_target_environment: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PYTEST_BASE_URL", "http://127.0.0.1:1")
    assert cli.main(["run", "--base-url", "http://127.0.0.1:2", "--auth-token", "a-long-enough-token"]) == 4
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: --base-url (http://127.0.0.1:2) and PYTEST_BASE_URL (http://127.0.0.1:1) name different targets: "
        "give one, or the same URL in both"
    ]
    monkeypatch.setenv("IPADLOGIN_BASE_URL", f"http://user:{SECRET}@127.0.0.1:1")
    assert cli.main(["run", "--auth-token", "a-long-enough-token"]) == 4
    out, err = capsys.readouterr()
    assert (
        out == ""
        and len(err.strip().splitlines()) == 1
        and err.startswith("error: IPADLOGIN_BASE_URL: ")
        and SECRET not in err
    )


# --- pytest: the ini key, the verification GET, credentials never sent ------------------------------


@pytest.fixture
def logged_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A correct reference server whose access log shows every request it got (method and path)."""
    log = tmp_path / "access.log"
    with start_reference_server(token=TOKEN, log=log) as server:
        yield server.url, log


def test_the_ini_base_url_is_the_target_tested_and_every_output_says_so(
    logged_server: tuple[str, Path], tmp_path: Path
) -> None:
    """The ini key alone names the target; with pytest-base-url's verification asked for, no GET of the base URL."""
    url, log = logged_server
    ini = tmp_path / "pytest.ini"
    ini.write_text(f"[pytest]\nbase_url = {url}\n")
    reports = tmp_path / "reports"
    result = _pytest(
        "-c",
        str(ini),
        str(SUITE_CASES),
        "-k",
        "auth-missing",
        "--reports-dir",
        str(reports),
        "--verify-base-url",
        cwd=tmp_path,
        env=clean_environment({"IPADLOGIN_TOKEN": TOKEN, "VERIFY_BASE_URL": "true"}),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    source = f"base_url in {ini}"
    assert f"ipadlogin-conformance: target {url} (from {source}) · profile strict" in result.stdout  # the header
    assert (
        f"target {url} (from {source}) · profile strict" in result.stdout.split("iPadLogin conformance")[-1]
    )  # the table
    assert "--verify-base-url (VERIFY_BASE_URL) is ignored" in result.stdout
    summary = json.loads((reports / "summary.json").read_text("utf-8"))
    assert summary["target"] == {"embedded": False, "base_url": url, "urls": [url], "label": url, "source": source}
    assert summary["budget"]["requests"] == 1
    assert f"{url}</span> · from {source}" in (reports / "report.html").read_text("utf-8")
    assert f"Target {url} (from base\\_url in /" in (reports / "summary.md").read_text("utf-8")  # Markdown-escaped
    requests = [
        line.split()[1:3] for line in log.read_text().splitlines() if line[:1].isdigit()
    ]  # request lines start with their time
    assert requests == [["POST", "/iPadLogin"]], "the suite's one request, and no verification GET"


def test_an_ini_base_url_that_disagrees_with_the_option_stops_the_run(tmp_path: Path) -> None:
    """The ini file of the working directory (found by pytest, no -c) against --base-url: nothing runs."""
    url = "http://127.0.0.1:2"
    (tmp_path / "pytest.ini").write_text("[pytest]\nbase_url = http://127.0.0.1:1\n")
    result = _pytest(
        "--pyargs", SUITE_PACKAGE, "--base-url", url, "--auth-token", TOKEN, cwd=tmp_path, env=clean_environment({})
    )
    assert result.returncode == 4
    assert result.stderr.strip().splitlines() == [
        f"ERROR: --base-url ({url}) and base_url in {tmp_path / 'pytest.ini'} (http://127.0.0.1:1) name different targets: "
        "give one, or the same URL in both"
    ]


@pytest.mark.parametrize(
    ("given", "source"),
    [
        (["PYTEST_BASE_URL"], "PYTEST_BASE_URL"),
        (["PYTEST_BASE_URL", "--base-url"], "--base-url"),
        (["-o"], "-o base_url"),
    ],
    ids=["env", "env-and-option", "ini-override"],
)
def test_each_pytest_source_is_named_as_given(given: list[str], source: str, tmp_path: Path) -> None:
    """pytest-base-url makes $PYTEST_BASE_URL the option's default: it counts as typed only where --base-url was typed."""
    with socket.create_server(("127.0.0.1", 0)) as listener:  # reachable: the run gets as far as its header
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        args = [
            *(["--base-url", url] if "--base-url" in given else []),
            *(["-o", f"base_url={url}"] if "-o" in given else []),
        ]
        env = {"IPADLOGIN_TOKEN": TOKEN, **({"PYTEST_BASE_URL": url} if "PYTEST_BASE_URL" in given else {})}
        result = _pytest(str(SUITE_CASES), "--collect-only", "-q", *args, cwd=tmp_path, env=clean_environment(env))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert f"ipadlogin-conformance: target {url} (from {source})" in result.stdout


@pytest.mark.parametrize("where", ["option", "ini"])
def test_a_base_url_with_credentials_is_never_sent_printed_or_stored(where: str, tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        url = f"http://user:{SECRET}@127.0.0.1:{listener.getsockname()[1]}"
        args = ["--base-url", url] if where == "option" else ["-c", str(tmp_path / "pytest.ini")]
        (tmp_path / "pytest.ini").write_text(f"[pytest]\nbase_url = {url}\n")
        result = _pytest(
            str(SUITE_CASES),
            *args,
            "--reports-dir",
            str(tmp_path / "reports"),
            cwd=tmp_path,
            env=clean_environment({"IPADLOGIN_TOKEN": TOKEN}),
        )
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected: not even the reachability probe
    assert result.returncode == 4
    assert len(result.stderr.strip().splitlines()) == 1 and "user:password@host) is refused" in result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert not (tmp_path / "reports").exists()
