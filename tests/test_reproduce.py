"""Every curl line sends the recorded request byte for byte, and resend sends it without a shell.

Each curl line runs in bash against a capture server (tests/capture_server.py)
that keeps the request as it arrived; what arrived must be what the request
says: method, target, every header (an empty value included, no Content-Type
curl made up), the body bytes. The run-wide proof (every line a run printed,
compared with its cassette) is in tests/test_terminal.py.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from capture_server import Captured, capture_server
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipadlogin_conformance.core.exchange import Exchange, ReceivedResponse, SentRequest
from ipadlogin_conformance.core.label import Judgement, Label
from ipadlogin_conformance.core.redaction import PLACEHOLDER
from ipadlogin_conformance.core.reproduce import (
    INLINE_BODY_LIMIT,
    Reproduction,
    curl_line,
    curl_parts,
    request_id,
    resend_line,
)
from ipadlogin_conformance.reports.cassette import from_entry, to_entry

CURL = shutil.which("curl")
BASH = shutil.which("bash")
needs_curl = pytest.mark.skipif(
    CURL is None or BASH is None,
    reason="curl and bash are needed to run the curl lines (Debian: apt-get install -y curl)",
)
TOKEN = "tok-Zq8RwX '$HOME\"-91c4"
"""A token the shell would mangle if the curl line quoted it wrongly."""
CURL_OWN = {"host", "user-agent", "accept", "content-length"}
"""Headers curl sets itself: client identity and framing, not part of what the suite recorded."""
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
URL = "http://target.test:8080/iPadLogin"
JSON = (("Content-Type", "application/json"),)

REQUESTS = {
    "token": SentRequest("POST", URL, (*JSON, ("Authorization", PLACEHOLDER)), b'{"type":2}'),
    "empty-token": SentRequest("POST", URL, (*JSON, ("Authorization", "")), b'{"type":2}'),
    "no-content-type": SentRequest("POST", URL, (("Authorization", PLACEHOLDER),), b'{"type":2}'),
    "lowercase-names": SentRequest(
        "POST", URL, (("content-type", "application/json"), ("authorization", PLACEHOLDER)), b'{"type":2}'
    ),
    "token-inside-a-value": SentRequest("POST", URL, (*JSON, ("Authorization", f"Bearer {PLACEHOLDER}")), b"{}"),
    "invalid-utf8": SentRequest("POST", URL, JSON, b'{"type":2,"wcId":"\xff\xfe"}'),
    "nul": SentRequest("POST", URL, JSON, b"\x00"),
    "control-and-shell": SentRequest("POST", URL, JSON, b"@/etc/passwd it's 100% \\ $HOME `id` !x \r\n\t\x1b[31m\x7f"),
    "bidi-and-unicode": SentRequest("POST", URL, JSON, '{"wcId":"微信\u202eevil\u200b😀"}'.encode()),
    "lone-surrogate": SentRequest("POST", URL, JSON, '{"wcId":"\ud800"}'.encode("utf-8", "surrogatepass")),
    "empty-body": SentRequest("POST", URL, JSON, b""),
    "long-body": SentRequest("POST", URL, JSON, b'{"type":2,"wcId":"' + b"a" * 4096 + b'"}'),
    "long-binary-body": SentRequest("POST", URL, JSON, bytes(range(256)) * 8),
    "other-method": SentRequest("BREW", URL, JSON, b'{"type":2}'),
    "get": SentRequest("GET", URL),
    "delete": SentRequest("DELETE", URL),
    "brackets-in-url": SentRequest("GET", "http://target.test:8080/q/[x]{y}.png?a=1&b=%20"),
}


def run_curl(line: str, port: int, cwd: Path) -> None:
    """The line as a user's bash runs it, its connection sent to the capture server (the Host header stays)."""
    done = subprocess.run(
        [BASH, "-c", f"{line} --max-time 20 --connect-to ::127.0.0.1:{port}"],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "IPADLOGIN_TOKEN": TOKEN},
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, (line, done.stderr)


def assert_sent_as_recorded(captured: Captured, request: SentRequest, token: str = TOKEN) -> None:
    parts = urlsplit(request.url)
    assert captured.method == request.method
    assert captured.target == (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    assert dict((name.lower(), value) for name, value in captured.headers)["host"] == parts.netloc.encode()
    sent = [(name, value) for name, value in captured.headers if name.lower() not in CURL_OWN]
    assert sent == [(name, value.replace(PLACEHOLDER, token).encode()) for name, value in request.headers]
    assert captured.body == (request.body or b"")


@needs_curl
@pytest.mark.parametrize("with_files", [True, False], ids=["reports-dir", "no-reports-dir"])
@pytest.mark.parametrize("name", list(REQUESTS))
def test_the_curl_line_sends_exactly_the_recorded_request(name: str, with_files: bool, tmp_path: Path) -> None:
    request = REQUESTS[name]
    where = Reproduction.in_reports(tmp_path / "reports") if with_files else Reproduction()
    line = curl_line(request, where)
    assert not CONTROL.search(line), line
    with capture_server() as (port, captured):
        run_curl(line, port, tmp_path)
    assert len(captured) == 1
    assert_sent_as_recorded(captured[0], request)


def test_long_and_binary_bodies_go_to_a_file_beside_the_reports(tmp_path: Path) -> None:
    where = Reproduction.in_reports(tmp_path / "reports")
    for name in ("long-body", "long-binary-body", "nul"):
        body = REQUESTS[name].body
        line = curl_line(REQUESTS[name], where)
        file = re.search(r"--data-binary @(\S+)", line)
        assert (
            file is not None
            and Path(file.group(1)).read_bytes() == body
            and Path(file.group(1)).parent == tmp_path / "reports" / "bodies"
        )
    short = curl_line(REQUESTS["invalid-utf8"], where)
    assert '--data-raw $\'{"type":2,"wcId":"\\xff\\xfe"}\'' in short and len(short) < 2 * INLINE_BODY_LIMIT
    assert "-H 'Authorization;'" in curl_line(REQUESTS["empty-token"], where)
    assert "-H 'Content-Type:'" in curl_line(REQUESTS["no-content-type"], where)
    assert '-H "Authorization: $IPADLOGIN_TOKEN"' in curl_line(REQUESTS["token"], where)


def test_curl_parts_are_the_line_cut_between_options() -> None:
    parts = curl_parts(REQUESTS["token"])
    assert " ".join(parts) == curl_line(REQUESTS["token"])
    assert parts[0] == "curl -sS" and all(part.startswith(("-H ", "--data-raw ", "http")) for part in parts[1:])


@needs_curl
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(max_size=300),
    header=st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30),
)
def test_any_body_and_header_value_survive_the_shell(body: bytes, header: str, tmp_path: Path) -> None:
    request = SentRequest("POST", URL, (("X-Value", header), ("Authorization", PLACEHOLDER)), body)
    line = curl_line(request, Reproduction.in_reports(tmp_path / "reports"))
    assert not CONTROL.search(line)
    with capture_server() as (port, captured):
        run_curl(line, port, tmp_path)
    expected = SentRequest("POST", URL, (("X-Value", header.strip(" ")), ("Authorization", PLACEHOLDER)), body)
    assert_sent_as_recorded(captured[0], expected)  # a header value's outer spaces are not part of it (RFC 9110)


def test_a_request_keeps_its_id_through_the_cassette() -> None:
    for request in REQUESTS.values():
        exchange = Exchange(
            request, ReceivedResponse(200, JSON, b"{}", 1.0), elapsed_ms=1.0, label=Label(Judgement.LOGIN)
        )
        assert request_id(from_entry(to_entry(exchange, "t::x", None, [])).request) == request_id(request)
    assert len({request_id(request) for request in REQUESTS.values()}) == len(REQUESTS)


def test_the_resend_line_names_the_cassette_and_the_request() -> None:
    request = REQUESTS["token"]
    assert resend_line(request, Reproduction()) is None
    line = resend_line(request, Reproduction.in_reports(Path("my reports"), Path("my reports") / "exchanges.har"))
    assert line == f"ipadlogin-conformance resend 'my reports/exchanges.har' {request_id(request)}"
