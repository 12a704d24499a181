"""The reference server's own tests, over real loopback against subprocesses.

One test per requirement class of CONTRACT.md on the correct server, the
bad-input list, and for every fault and variation of the catalog: its
behaviour shows on the wire, the correct server does not show it, and it
leaves untouched the answers it is not about.
"""

from __future__ import annotations

import ast
import io
import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from paths import SERVER as SERVER_DIR

from ipadlogin_conformance.server import CATALOG, DEFAULT_DEV_TOKEN, RunningServer, ServerConfig, start_reference_server

TOKEN = "test-token-3f9c2a"
AUTH = {"Authorization": TOKEN}
FAILURE_CODES = {"1001", "10001"}


# --- fixtures and helpers ------------------------------------------------------------


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server") / "access.log"


@pytest.fixture(scope="module")
def server(log_path: Path) -> Iterator[RunningServer]:
    with start_reference_server(token=TOKEN, log=log_path) as running:
        yield running


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as c:
        yield c


@pytest.fixture(scope="module")
def fault_servers() -> Iterator[dict[str, RunningServer]]:
    """One server per catalog entry, started and stopped concurrently (each ~0.15 s)."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        started = dict(zip(CATALOG, pool.map(lambda n: start_reference_server(token=TOKEN, faults=[n]), CATALOG)))
    try:
        yield started
    finally:
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(RunningServer.stop, started.values()))


def login(
    c: httpx.Client,
    url: str,
    body: Any = None,
    *,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float | None = None,
) -> httpx.Response:
    """POST /iPadLogin with the valid token unless ``headers`` says otherwise."""
    hdrs = dict(AUTH if headers is None else headers)
    if content is None:
        content = json.dumps({"type": 2} if body is None else body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    kw: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    return c.post(f"{url}/iPadLogin", content=content, headers=hdrs, **kw)


def envelope(r: httpx.Response) -> dict[str, Any]:
    """ENV-1/2/3/4: a JSON object with code (digit string), message (string), data."""
    assert r.headers["content-type"].split(";")[0].strip() == "application/json", r.headers
    env = r.json()
    assert isinstance(env, dict) and {"code", "message", "data"} <= env.keys(), env
    assert isinstance(env["code"], str) and env["code"].isdigit(), env
    assert isinstance(env["message"], str), env
    return env


def assert_success(r: httpx.Response, url: str) -> dict[str, Any]:
    """ENV-5, ENV-8, DATA-1/2: HTTP 200, code "1000", wId, absolute http(s) QR URL."""
    assert r.status_code == 200, r.text
    env = envelope(r)
    assert env["code"] == "1000" and env["message"] == "登录成功", env
    data = env["data"]
    assert isinstance(data, dict) and isinstance(data["wId"], str) and data["wId"], env
    assert data["qrCodeUrl"] == f"{url}/qr/{data['wId']}.png", env
    return data


def assert_failure(r: httpx.Response, code: str | None = None, status: int = 200) -> dict[str, Any]:
    """ENV-5/6/7/8: a documented failure code, data null, HTTP 200 (the API's style)."""
    assert r.status_code == status, r.text
    env = envelope(r)
    assert env["code"] in FAILURE_CODES and env["data"] is None and env["message"], env
    if code is not None:
        assert env["code"] == code, env
    return env


def decode_qr(png: bytes) -> list[str]:
    import zxingcpp
    from PIL import Image

    return [b.text for b in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


# --- envelope and success payload (ENV-*, DATA-*) -------------------------------------


def test_success_envelope_and_payload(server: RunningServer, client: httpx.Client) -> None:
    first = assert_success(login(client, server.url), server.url)
    second = assert_success(login(client, server.url), server.url)
    assert first["wId"] != second["wId"], "every login returns a new wId"


def test_qr_url_follows_the_request_host(server: RunningServer, client: httpx.Client) -> None:
    port = server.url.rsplit(":", 1)[1]
    r = login(client, server.url, headers={**AUTH, "Host": f"example.test:{port}"})
    assert assert_success(r, f"http://example.test:{port}")


def test_qr_image_decodes_as_login_qr(server: RunningServer, client: httpx.Client) -> None:
    data = assert_success(login(client, server.url), server.url)
    r = client.get(data["qrCodeUrl"])
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert decode_qr(r.content) == [f"https://login.weixin.qq.com/l/{data['wId']}"]


@pytest.mark.parametrize("path", ["/qr/not%20a%20wid.png", "/qr/abc.gif", "/qr/" + "a" * 65 + ".png", "/qr/"])
def test_qr_malformed_wid_is_404_envelope(server: RunningServer, client: httpx.Client, path: str) -> None:
    assert_failure(client.get(server.url + path), status=404)


# --- authorization (AUTH-*) -----------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "wrong"},
        {"Authorization": f"Bearer {TOKEN}"},
        {"Authorization": TOKEN + "x"},
        {"Authorization": TOKEN.upper()},
    ],
    ids=["missing", "empty", "unknown", "bearer-prefix", "longer", "case"],
)
def test_auth_failures(server: RunningServer, client: httpx.Client, headers: dict[str, str]) -> None:
    assert_failure(login(client, server.url, headers=headers), code="1001")


def test_auth_valid_token_succeeds(server: RunningServer, client: httpx.Client) -> None:
    assert_success(login(client, server.url, headers=AUTH), server.url)


# --- request body (REQ-*) -------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"type": 2},
        {"type": 2.0},
        {"type": 2, "wcId": ""},
        {"type": 2, "proxy": 3},
        {"type": 2, "deviceType": "ipad"},
        {"type": 2, "wcId": "", "proxy": 3, "proxyIp": "", "proxyUser": "", "proxyPassword": ""},
        {"wcId": "wxid_wl9qchkanp9u22", "type": 2},
    ],
    ids=["first-login", "type-2.0", "wcid-empty", "proxy", "device-type", "later-revision", "re-login"],
)
def test_valid_bodies_succeed(server: RunningServer, client: httpx.Client, body: dict[str, Any]) -> None:
    """REQ-1, REQ-2, REQ-3, REQ-7 (a plausible wcId is a known account here)."""
    assert_success(login(client, server.url, body), server.url)


def test_type_as_json_exponent_is_the_number_2(server: RunningServer, client: httpx.Client) -> None:
    assert_success(login(client, server.url, content=b'{"type": 2e0}'), server.url)
    assert_success(login(client, server.url, content=b'{"type": 20E-1}'), server.url)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"wcId": ""},
        {"type": None},
        {"type": "abc"},
        {"type": True},
        {"type": False},
        {"type": {}},
        {"type": []},
        {"type": [2]},
        {"type": ""},
    ],
    ids=["empty-object", "no-type", "null", "str", "true", "false", "object", "array", "array-2", "empty-str"],
)
def test_missing_or_non_numeric_type_fails(server: RunningServer, client: httpx.Client, body: dict[str, Any]) -> None:
    """REQ-4 (either outcome conforms; this server follows the page, which marks type required), REQ-5."""
    assert_failure(login(client, server.url, body), code="10001")


def test_null_type_is_refused_as_missing(server: RunningServer, client: httpx.Client) -> None:
    """REQ-4 judges null like a missing type, and so does the server: one reason, one message."""
    assert _env(login(client, server.url, {"type": None})) == _env(login(client, server.url, {}))


@pytest.mark.parametrize(
    "body",
    [
        {"type": "2"},
        {"type": " 2 "},
        {"type": 3},
        {"type": 1},
        {"type": 0},
        {"type": -2},
        {"type": 2.5},
        {"type": 2, "wcId": 123},
        {"type": 2, "wcId": None},
        {"type": 2, "wcId": True},
        {"type": 2, "wcId": ["x"]},
    ],
    ids=[
        "type-str-2",
        "type-str-spaces",
        "type-3",
        "type-1",
        "type-0",
        "type-neg",
        "type-2.5",
        "wcid-number",
        "wcid-null",
        "wcid-bool",
        "wcid-array",
    ],
)
def test_coercible_values_fail(server: RunningServer, client: httpx.Client, body: dict[str, Any]) -> None:
    """REQ-6 (the strict reading: no coercion)."""
    assert_failure(login(client, server.url, body), code="10001")


def test_type_huge_number_fails(server: RunningServer, client: httpx.Client) -> None:
    assert_failure(login(client, server.url, content=b'{"type": 2' + b"0" * 5000 + b"}"), code="10001")
    assert_failure(login(client, server.url, content=b'{"type": 1e400}'), code="10001")


@pytest.mark.parametrize(
    "wcid",
    [
        "x" * 4096,
        "wxid_微信用户",
        "é" * 10,
        "wx\x00id",
        "wx\nid",
        "\t",
        "a\u202eb",
        "😀" * 100,
        "wxid abc",
        "a" * 65,
        "../../etc/passwd",
        "' OR 1=1 --",
    ],
    ids=["4k", "cjk", "accents", "nul", "newline", "tab", "bidi", "emoji", "space", "65-chars", "path", "sql"],
)
def test_odd_wcid_gets_an_envelope(server: RunningServer, client: httpx.Client, wcid: str) -> None:
    """REQ-7, REQ-9: an unknown wcId is a failure envelope, never a 5xx."""
    assert_failure(login(client, server.url, {"type": 2, "wcId": wcid}), code="1001")


def test_lone_surrogate_wcid_gets_an_envelope(server: RunningServer, client: httpx.Client) -> None:
    assert_failure(login(client, server.url, content=b'{"type": 2, "wcId": "\\ud800x"}'), code="1001")


BAD_INPUTS: dict[str, bytes] = {
    "empty": b"",
    "whitespace": b"  \n",
    "truncated": b'{"type": 2',
    "trailing-comma": b'{"type": 2,}',
    "single-quotes": b"{'type': 2}",
    "trailing-garbage": b'{"type": 2} x',
    "two-objects": b'{"type": 2}{"type": 2}',
    "array": b'[{"type": 2}]',
    "number": b"2",
    "string": b'"type"',
    "null": b"null",
    "true": b"true",
    "nan": b'{"type": NaN}',
    "infinity": b'{"type": Infinity}',
    "invalid-utf8": b'{"type": 2, "wcId": "\xff\xfe"}',
    "utf8-bom": b'\xef\xbb\xbf{"type": 2}',
    "utf16": '{"type": 2}'.encode("utf-16"),
    "deep-nesting": b"[" * 50_000 + b"]" * 50_000,
    "form-encoded": b"type=2&wcId=",
    "over-64KiB": b'{"type": 2, "pad": "' + b"x" * (64 * 1024) + b'"}',
}


@pytest.mark.parametrize("content", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_gets_failure_envelope(server: RunningServer, client: httpx.Client, content: bytes) -> None:
    """REQ-8: malformed, empty, non-object, non-UTF-8 or oversized bodies."""
    assert_failure(
        login(client, server.url, content=content, headers={**AUTH, "Content-Type": "application/json"}), code="10001"
    )


def test_auth_is_judged_before_the_body(server: RunningServer, client: httpx.Client) -> None:
    assert_failure(login(client, server.url, content=b"{", headers={}), code="1001")


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        "APPLICATION/JSON",
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
    ],
)
def test_content_type_does_not_change_the_outcome(
    server: RunningServer, client: httpx.Client, content_type: str | None
) -> None:
    """REQ-10: the body is read as JSON whatever the request Content-Type says."""
    headers = dict(AUTH) if content_type is None else {**AUTH, "Content-Type": content_type}
    r = client.post(f"{server.url}/iPadLogin", content=b'{"type": 2}', headers=headers)
    assert_success(r, server.url)


# --- time and method (TIME-*, METH-1), unknown paths -----------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "PROPFIND"])
def test_other_methods_are_405(server: RunningServer, client: httpx.Client, method: str) -> None:
    r = client.request(method, f"{server.url}/iPadLogin", headers=AUTH, content=b'{"type": 2}')
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    if method != "HEAD":
        assert_failure(r, status=405)


@pytest.mark.parametrize("path", ["/", "/ipadlogin", "/iPadLogin/", "/iPadLogin/x", "/%00", "/qr"])
def test_unknown_paths_are_404_envelopes(server: RunningServer, client: httpx.Client, path: str) -> None:
    assert_failure(client.post(server.url + path, headers=AUTH, json={"type": 2}), status=404)


# --- operations: log, CLI, config, isolation ---------------------------------------------


def test_access_log_has_one_line_per_request_without_the_token(
    server: RunningServer, client: httpx.Client, log_path: Path
) -> None:
    marker = f"/nope-{uuid.uuid4().hex}"
    client.get(server.url + marker, headers=AUTH)
    login(client, server.url, headers={"Authorization": "wrong"})
    deadline = time.monotonic() + 2
    while marker not in log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.02)
    text = log_path.read_text()
    assert TOKEN not in text and "wrong" not in text
    assert re.search(rf"GET {marker} 404 code=1001 auth=- \d+\.\dms$", text, re.M), text[-500:]
    assert re.search(r"POST /iPadLogin 200 code=1001 auth=invalid \d+\.\dms$", text, re.M)
    assert re.search(r"POST /iPadLogin 200 code=1000 auth=valid \d+\.\dms$", text, re.M)


def test_token_is_not_on_the_command_line(server: RunningServer) -> None:
    assert TOKEN not in " ".join(map(str, server.process.args))


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "ipadlogin_conformance.server", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=20)


@pytest.mark.parametrize(
    "args", [["--fault", "nope"], ["--port", "x"], ["--port", "70000"], ["--token", ""], ["--bogus"]]
)
def test_cli_bad_option_is_a_one_line_error(args: list[str]) -> None:
    done = run_cli(*args)
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert done.returncode == 2 and len(errors) == 1, done.stderr


def test_cli_lists_every_fault() -> None:
    done = run_cli("--list-faults")
    assert done.returncode == 0
    assert [line.split()[0] for line in done.stdout.splitlines()] == list(CATALOG)


def test_config_rejects_empty_tokens_and_unknown_faults() -> None:
    for bad in [dict(tokens=("",)), dict(tokens=()), dict(tokens=(" t",)), dict(faults=("nope",))]:
        with pytest.raises(ValueError):
            ServerConfig(**bad)  # type: ignore[arg-type]
    assert ServerConfig.from_env(environ={}).tokens == (DEFAULT_DEV_TOKEN,)
    assert ServerConfig.from_env(environ={"IPADLOGIN_TOKEN": "t"}).tokens == ("t",)
    assert ServerConfig.from_env(["a"], environ={"IPADLOGIN_TOKEN": "t"}).tokens == ("a",)
    with pytest.raises(ValueError):
        start_reference_server(faults=["nope"])


def test_stop_is_idempotent() -> None:
    running = start_reference_server(token=TOKEN)
    running.stop()
    assert running.process.poll() is not None
    running.stop()


def test_server_imports_only_its_own_subpackage() -> None:
    """The checks judge the server: neither may hide the other's mistakes."""
    for path in SERVER_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                assert node.level == 1, f"{path.name} imports outside the server package"
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            assert not [n for n in names if n.startswith("ipadlogin_conformance")], f"{path.name}: {names}"


# --- faults and variations --------------------------------------------------------------

Probe = Callable[[httpx.Client, str], bool]


def _env(r: httpx.Response) -> Any:
    try:
        return r.json()
    except ValueError:
        return None


def _success_data(c: httpx.Client, url: str) -> Any:
    env = _env(login(c, url))
    return env.get("data") if isinstance(env, dict) else None


def _qr(c: httpx.Client, url: str) -> httpx.Response:
    return c.get(_success_data(c, url)["qrCodeUrl"])


def _code(c: httpx.Client, url: str, body: Any = None, **kw: Any) -> Any:
    env = _env(login(c, url, body, **kw))
    return env.get("code") if isinstance(env, dict) else None


def _min_latency(c: httpx.Client, url: str) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        login(c, url)
        times.append(time.perf_counter() - start)
    return min(times)


def _hangs(c: httpx.Client, url: str) -> bool:
    try:
        login(c, url, {"type": 2, "wcId": "wxid_wl9qchkanp9u22"}, timeout=0.5)
    except httpx.TimeoutException:
        return True
    return False


def _qr_refused_on_own_host(c: httpx.Client, url: str) -> bool:
    qr_url = httpx.URL(_success_data(c, url)["qrCodeUrl"])
    if qr_url.host != httpx.URL(url).host or qr_url.port == httpx.URL(url).port:
        return False
    try:
        c.get(qr_url)
    except httpx.ConnectError:
        return True
    return False


def _is_uuid4(wid: str) -> bool:
    try:
        return uuid.UUID(wid).version == 4 and str(uuid.UUID(wid)) == wid
    except ValueError:
        return False


NO_AUTH: dict[str, str] = {}

#: name → a cheap probe that is True exactly when the entry's behaviour shows on the wire.
PROBES: dict[str, Probe] = {
    "validation-422": lambda c, u: (r := login(c, u, content=b"{")).status_code == 422 and "detail" in r.json(),
    "html-error-page": lambda c, u: login(c, u, content=b"{").headers["content-type"].startswith("text/html"),
    "code-int": lambda c, u: _code(c, u) == 1000 and isinstance(_code(c, u), int),
    "msg-key": lambda c, u: "msg" in (e := _env(login(c, u))) and "message" not in e,
    "pascal-keys": lambda c, u: {"Code", "Message", "Data"} <= _env(login(c, u)).keys(),
    "data-json-string": lambda c, u: isinstance(_success_data(c, u), str),
    "text-html-content-type": lambda c, u: login(c, u).headers["content-type"].startswith("text/html"),
    "trailing-garbage": lambda c, u: _env(login(c, u)) is None,
    "truncated-json-failures": lambda c, u: _env(login(c, u, headers=NO_AUTH)) is None,
    "success-201": lambda c, u: login(c, u).status_code == 201,
    "message-null": lambda c, u: (e := _env(login(c, u)))["message"] is None and e["code"] == "1000",
    "failure-code-1000": lambda c, u: _code(c, u, {"type": 2, "wcId": "no such id!"}) == "1000",
    "failure-success-data": lambda c, u: "wId" in (_env(login(c, u, headers=NO_AUTH))["data"] or {}),
    "failure-data-empty-object": lambda c, u: _env(login(c, u, headers=NO_AUTH))["data"] == {},
    "undocumented-failure-code": lambda c, u: _code(c, u, headers=NO_AUTH) == "4001",
    "no-wid": lambda c, u: "wId" not in _success_data(c, u),
    "empty-wid": lambda c, u: _success_data(c, u)["wId"] == "",
    "no-qr-url": lambda c, u: "qrCodeUrl" not in _success_data(c, u),
    "relative-qr-url": lambda c, u: _success_data(c, u)["qrCodeUrl"].startswith("/"),
    "ftp-qr-url": lambda c, u: _success_data(c, u)["qrCodeUrl"].startswith("ftp://"),
    "data-uri-qr-url": lambda c, u: _success_data(c, u)["qrCodeUrl"].startswith("data:image/png;base64,"),
    "qr-404": lambda c, u: _qr(c, u).status_code == 404,
    "qr-html": lambda c, u: _qr(c, u).headers["content-type"].startswith("text/html"),
    "qr-not-a-qr": lambda c, u: (r := _qr(c, u)).headers["content-type"] == "image/png" and not decode_qr(r.content),
    "qr-port-closed": lambda c, u: _qr_refused_on_own_host(c, u),
    "auth-missing-accepted": lambda c, u: _code(c, u, headers=NO_AUTH) == "1000",
    "any-token-accepted": lambda c, u: _code(c, u, headers={"Authorization": "wrong"}) == "1000",
    "empty-token-accepted": lambda c, u: _code(c, u, headers={"Authorization": ""}) == "1000",
    "type-missing-500": lambda c, u: all(login(c, u, b).status_code == 500 for b in ({"wcId": ""}, {"type": None})),
    "type-wrong-type-accepted": lambda c, u: (
        all(_code(c, u, {"type": t}) == "1000" for t in ("abc", True, [])) and _code(c, u, {"type": None}) != "1000"
    ),
    "type-float-refused": lambda c, u: (
        _code(c, u, content=b'{"type": 2.0}', headers={**AUTH, "Content-Type": "application/json"}) != "1000"
    ),
    "type-string-accepted": lambda c, u: _code(c, u, {"type": "2"}) == "1000",
    "type-other-int-accepted": lambda c, u: _code(c, u, {"type": 3}) == "1000",
    "wcid-number-coerced": lambda c, u: _code(c, u, {"type": 2, "wcId": 12345}) == "1000",
    "malformed-json-500": lambda c, u: login(c, u, content=b"{").status_code == 500,
    "wcid-500": lambda c, u: login(c, u, {"type": 2, "wcId": "微信" * 3}).status_code == 500,
    "wcid-empty-rejected": lambda c, u: _code(c, u, {"type": 2, "wcId": ""}) != "1000",
    "extra-fields-rejected": lambda c, u: _code(c, u, {"type": 2, "proxy": 3}) != "1000",
    "proxy-required": lambda c, u: _code(c, u, {"type": 2}) != "1000",
    "charset-rejected": lambda c, u: (
        _code(c, u, headers={**AUTH, "Content-Type": "application/json; charset=utf-8"}) != "1000"
    ),
    "known-wcid-rejected": lambda c, u: _code(c, u, {"type": 2, "wcId": "wxid_wl9qchkanp9u22"}) == "1001",
    "relogin-hang": _hangs,
    "slow": lambda c, u: _min_latency(c, u) >= 0.3,
    "get-500": lambda c, u: c.get(f"{u}/iPadLogin").status_code == 500,
    "extra-fields": lambda c, u: "requestId" in _env(login(c, u)) and "expiresIn" in _success_data(c, u),
    "failure-code-10001": lambda c, u: _code(c, u, headers=NO_AUTH) == "10001",
    "pretty-json": lambda c, u: (
        (r := login(c, u)).headers["content-type"] == "application/json;charset=UTF-8"
        and r.text.startswith('{\n  "message"')
    ),
    "english-messages": lambda c, u: _env(login(c, u))["message"] == "login successful",
    "wid-uuid": lambda c, u: _is_uuid4(_success_data(c, u)["wId"]),
    "wid-hex": lambda c, u: re.fullmatch("[0-9a-f]{32}", _success_data(c, u)["wId"]) is not None,
    "qr-url-query": lambda c, u: "?t=" in (q := _success_data(c, u)["qrCodeUrl"]) and c.get(q).status_code == 200,
    "latency-20ms": lambda c, u: _min_latency(c, u) >= 0.02,
    "auth-401": lambda c, u: (r := login(c, u, headers=NO_AUTH)).status_code == 401 and _env(r)["code"] == "1001",
    "connection-close": lambda c, u: login(c, u).headers.get("connection") == "close",
    "type-missing-accepted": lambda c, u: _code(c, u, {"wcId": ""}) == "1000" and _code(c, u, {"type": None}) == "1000",
    "qr-foreign-host": lambda c, u: httpx.URL(_success_data(c, u)["qrCodeUrl"]).host.endswith(".invalid"),
}

#: Entries that deliberately change the answer to a valid first login ({"type": 2}, valid token).
CHANGES_VALID_LOGIN = {
    "code-int",
    "msg-key",
    "pascal-keys",
    "data-json-string",
    "text-html-content-type",
    "trailing-garbage",
    "success-201",
    "message-null",
    "no-wid",
    "empty-wid",
    "no-qr-url",
    "relative-qr-url",
    "ftp-qr-url",
    "data-uri-qr-url",
    "qr-404",
    "qr-port-closed",
    "proxy-required",
    "extra-fields",
    "pretty-json",
    "english-messages",
    "qr-url-query",
    "qr-foreign-host",
}
#: Entries that deliberately change the answer to a request without Authorization.
CHANGES_AUTH_FAILURE = {
    "code-int",
    "msg-key",
    "pascal-keys",
    "text-html-content-type",
    "trailing-garbage",
    "truncated-json-failures",
    "failure-success-data",
    "failure-data-empty-object",
    "undocumented-failure-code",
    "auth-missing-accepted",
    "extra-fields",
    "failure-code-10001",
    "pretty-json",
    "english-messages",
    "auth-401",
}


def test_every_catalog_entry_has_a_probe_and_valid_ids() -> None:
    assert PROBES.keys() == CATALOG.keys()
    ids = re.compile(r"(ENV|DATA|AUTH|REQ|TIME|METH)-\d+")
    for fault in CATALOG.values():
        # A fault breaks a MUST (breaks) or only SHOULDs (warns); a variation breaks nothing.
        assert bool(fault.breaks or fault.warns) if fault.kind == "fault" else not fault.breaks, fault.name
        assert all(ids.fullmatch(i) for i in fault.breaks + fault.warns + (fault.not_verified or ())), fault.name
        assert fault.description and (fault.judge or fault.shape or fault.finish), fault.name


@pytest.mark.parametrize("name", CATALOG)
def test_fault_shows_on_the_wire(fault_servers: dict[str, RunningServer], client: httpx.Client, name: str) -> None:
    assert PROBES[name](client, fault_servers[name].url), f"{name}: behaviour not visible"


@pytest.mark.parametrize("name", CATALOG)
def test_correct_server_does_not_show_the_fault(server: RunningServer, client: httpx.Client, name: str) -> None:
    assert not PROBES[name](client, server.url), f"correct server shows {name}"


@pytest.mark.parametrize("name", CATALOG)
def test_fault_is_narrow(fault_servers: dict[str, RunningServer], client: httpx.Client, name: str) -> None:
    """Answers an entry is not about stay exactly the correct ones."""
    url = fault_servers[name].url
    if name not in CHANGES_VALID_LOGIN:
        assert_success(login(client, url), url)
    if name not in CHANGES_AUTH_FAILURE:
        assert_failure(login(client, url, headers=NO_AUTH), code="1001")
