"""The catalog of faults and allowed variations, as data.

A *fault* makes the server break one requirement of CONTRACT.md in one
realistic way and leaves every other answer correct, so a conformance suite
run against it must fail exactly the IDs in ``breaks`` and warn exactly about
those in ``warns`` (a SHOULD, or the SHOULD clause of a MUST). A fault that
breaks only SHOULDs has empty ``breaks``. A *variation* is a legal deviation a
correct suite must accept: no ``breaks``, and ``warns`` for the SHOULD it bends.
An entry that states ``not_verified`` also fixes the requirements the suite can
only report as not verified (say, a QR host it cannot reach).
The self-test (``tools.selftest``) proves both sets exactly.

Behaviour is small hooks on an :class:`~.exchange.Call`, one per phase:

- ``judge``  — the correct server has listed its reasons to refuse
  (``ex.problems``), nothing is decided yet: drop or add reasons, add delay;
- ``shape``  — the envelope dict is built: rewrite its fields;
- ``finish`` — the body is serialised: rewrite status, headers, bytes.

Adding a fault is one :class:`Fault` entry; its hook is usually a one-line
composition of the builders below.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from .call import PROBLEMS, Call, Hook, Route
from .qr import blank_png, qr_png

Kind = Literal["fault", "variation"]
Phase = Literal["judge", "shape", "finish"]
When = Callable[[Call], bool]
Change = Callable[[Call], None]
DataChange = Callable[[Call, dict[str, Any]], None]


@dataclass(frozen=True)
class Fault:
    """One catalog entry: what it breaks, and its hooks."""

    name: str
    kind: Kind
    breaks: tuple[str, ...]  # requirement IDs a faithful suite fails (empty for a variation)
    description: str
    judge: Hook | None = None
    shape: Hook | None = None
    finish: Hook | None = None
    warns: tuple[str, ...] = ()  # requirement IDs a faithful suite warns about
    not_verified: tuple[str, ...] | None = None  # when stated: exactly the IDs left "not verified"


AUTH_TAGS = frozenset({"auth-missing", "auth-empty", "auth-unknown"})
NOT_JSON_TAGS = frozenset({"body-malformed", "body-not-utf8"})
#: What a schema-validating framework rejects before the handler runs (REQ-4/5/8).
BAD_BODY_TAGS = NOT_JSON_TAGS | {"body-too-large", "body-not-object", "type-missing", "type-not-numeric"}
TEXT = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"


# --- predicates ---------------------------------------------------------------------


def _always(ex: Call) -> bool:
    return True


def body(ex: Call) -> dict[str, Any]:
    """The parsed login body, or {} when it was not a JSON object."""
    return ex.body if isinstance(ex.body, dict) else {}


def reason(ex: Call) -> str:
    """Tag of the reason the request is refused ('' when it succeeds)."""
    return ex.problems[0].tag if ex.problems and not ex.ok else ""


def reason_in(tags: Iterable[str]) -> When:
    wanted = frozenset(tags)
    return lambda ex: ex.failed and reason(ex) in wanted


def succeeded(ex: Call) -> bool:
    return ex.ok


def is_relogin(ex: Call) -> bool:
    wcid = body(ex).get("wcId")
    return isinstance(wcid, str) and wcid != ""


def is_valid_relogin(ex: Call) -> bool:
    """A re-login the correct server would serve (judge phase: no reason to refuse it so far)."""
    return is_relogin(ex) and not ex.problems


def is_odd_unknown_wcid(ex: Call) -> bool:
    """Refused as unknown, and long or non-ASCII: what a varchar(64)/latin1 lookup chokes on."""
    wcid = body(ex).get("wcId")
    odd = isinstance(wcid, str) and (len(wcid) > 64 or not wcid.isascii())
    return odd and ex.failed and reason(ex) == "wcid-unknown"


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_integral(v: Any) -> bool:
    return _is_number(v) and (isinstance(v, int) or v.is_integer())


def _is_string_two(v: Any) -> bool:
    try:
        return isinstance(v, str) and float(v) == 2
    except ValueError:
        return False


# --- judge builders -------------------------------------------------------------------


def accept(tag: str, when: When = _always) -> Hook:
    """Forget one reason to refuse: a check the server skips."""

    def hook(ex: Call) -> None:
        if any(p.tag == tag for p in ex.problems) and when(ex):
            ex.problems = [p for p in ex.problems if p.tag != tag]

    return hook


def refuse(tag: str, when: Callable[[dict[str, Any], Call], bool]) -> Hook:
    """Add a reason to refuse a parsed login body: a check the server should not make."""

    def hook(ex: Call) -> None:
        if ex.route == "login" and isinstance(ex.body, dict) and when(ex.body, ex):
            ex.problems.append(PROBLEMS[tag])

    return hook


def delay(seconds: float, when: When = _always) -> Hook:
    def hook(ex: Call) -> None:
        if when(ex):
            ex.delay += seconds

    return hook


# --- shape builders -------------------------------------------------------------------


def envelopes(change: Callable[[dict[str, Any]], dict[str, Any]]) -> Hook:
    """Rewrite every envelope: a server-wide serialisation habit."""

    def hook(ex: Call) -> None:
        if ex.envelope is not None:
            ex.envelope = change(ex.envelope)

    return hook


def on_success(change: DataChange) -> Hook:
    """Rewrite ``data`` of a successful login."""

    def hook(ex: Call) -> None:
        data = ex.envelope.get("data") if ex.envelope else None
        if ex.route == "login" and ex.ok and isinstance(data, dict):
            change(ex, data)

    return hook


def on_failure(change: DataChange, when: When = _always) -> Hook:
    """Rewrite the envelope of a refused login."""

    def hook(ex: Call) -> None:
        if ex.route == "login" and ex.failed and ex.envelope is not None and when(ex):
            change(ex, ex.envelope)

    return hook


def set_field(key: str, value: Callable[[Call, dict[str, Any]], Any]) -> DataChange:
    def change(ex: Call, d: dict[str, Any]) -> None:
        d[key] = value(ex, d)

    return change


def drop_field(key: str) -> DataChange:
    def change(ex: Call, d: dict[str, Any]) -> None:
        d.pop(key, None)

    return change


def _double_encode(ex: Call, data: dict[str, Any]) -> None:
    assert ex.envelope is not None
    ex.envelope["data"] = json.dumps(data, ensure_ascii=False)


def _new_wid(make: Callable[[], str]) -> DataChange:
    def change(ex: Call, data: dict[str, Any]) -> None:
        ex.wid = make()
        data.update(ex.success_data(ex.wid))

    return change


def _pretty(ex: Call) -> None:
    """The example's key order (message, code, data), reversed data keys, indented."""
    env = ex.envelope
    if env is None:
        return
    data = env.get("data")
    if isinstance(data, dict):
        data = dict(reversed(list(data.items())))
    rest = {k: v for k, v in env.items() if k not in ("message", "code", "data")}
    ex.envelope = {"message": env.get("message"), "code": env.get("code"), "data": data, **rest}
    ex.indent = 2
    ex.media_type = "application/json;charset=UTF-8"


def _extra_fields(ex: Call) -> None:
    if ex.envelope is None:
        return
    ex.envelope.update(requestId=uuid.uuid4().hex, timestamp=int(time.time() * 1000))
    if ex.ok and isinstance(ex.envelope.get("data"), dict):
        ex.envelope["data"].update(expiresIn=120, status="WAIT_SCAN")


def _english(ex: Call) -> None:
    if ex.envelope is not None and ex.message_en:
        ex.envelope["message"] = ex.message_en


# --- finish builders ------------------------------------------------------------------


def on_route(route: Route, change: Change, when: When = _always) -> Hook:
    def hook(ex: Call) -> None:
        if ex.route == route and when(ex):
            change(ex)

    return hook


def on_login(change: Change, when: When = _always) -> Hook:
    return on_route("login", change, when)


def replace_body(status: int, media_type: str, content: bytes | Callable[[Call], bytes]) -> Change:
    def change(ex: Call) -> None:
        ex.status, ex.media_type = status, media_type
        ex.content = content(ex) if callable(content) else content

    return change


def set_attr(name: str, value: Callable[[Call], Any]) -> Change:
    return lambda ex: setattr(ex, name, value(ex))


def set_header(name: str, value: str) -> Change:
    def change(ex: Call) -> None:
        ex.response_headers[name] = value

    return change


def _validation_422(ex: Call) -> bytes:
    loc = ["body", "type"] if reason(ex).startswith("type-") else ["body"]
    return json.dumps({"detail": [{"type": reason(ex), "loc": loc, "msg": ex.message_en}]}).encode()


def _auth_401(ex: Call) -> None:
    ex.status = 401
    ex.response_headers["WWW-Authenticate"] = 'Token realm="iPadLogin"'


_HTML_400 = (
    b"<!doctype html>\n<html lang=en>\n<title>400 Bad Request</title>\n<h1>Bad Request</h1>\n"
    b"<p>The browser (or proxy) sent a request that this server could not understand.</p>\n"
)
_HTML_QR = b"<!doctype html><title>QR</title><p>Scan the code with WeChat</p>"
_TEXT_500 = b"Internal Server Error"
_EXAMPLE_WID = "0000016e-63ef-3a9c-0001-ed3311628ef4"  # the API page's success example


def _qr_data_uri(ex: Call, d: dict[str, Any]) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(ex.wid)).decode()


@cache
def _socket_refusing_connections() -> socket.socket:
    """A TCP socket bound to a free port and never listening: connections to that port are refused.

    Held for the life of the process, so no other program can take the port.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("", 0))
    return sock


def _qr_on_closed_port(ex: Call, d: dict[str, Any]) -> str:
    """The QR URL on the server's own host (as the client named it), at a port where nothing listens."""
    scheme, _, netloc = ex.base_url.partition("://")
    host = re.sub(r":\d+$", "", netloc)  # keeps an IPv6 literal's brackets
    return f"{scheme}://{host}:{_socket_refusing_connections().getsockname()[1]}/qr/{ex.wid}.png"


FOREIGN_QR_HOST = "qr-cdn.invalid"
"""A host of another domain that no resolver knows (RFC 6761): one the suite cannot reach."""


def _is_get(ex: Call) -> bool:
    return ex.method == "GET"


def _qr_served(ex: Call) -> bool:
    return ex.status == 200


# --- the catalog ----------------------------------------------------------------------

F: Kind = "fault"
V: Kind = "variation"

_ENTRIES: tuple[Fault, ...] = (
    # Envelope shape and serialisation (every POST /iPadLogin answer is judged on these).
    Fault("validation-422", F, ("ENV-2",),
          "bad bodies (not JSON, not an object, no type, non-numeric type) get a framework 422 {'detail': [...]}",
          finish=on_login(replace_body(422, "application/json", _validation_422), reason_in(BAD_BODY_TAGS)),
          warns=("ENV-8",)),
    Fault("html-error-page", F, ("ENV-1",),
          "a body that is not JSON gets the framework's HTML 400 page",
          finish=on_login(replace_body(400, HTML, _HTML_400), reason_in(NOT_JSON_TAGS)), warns=("ENV-8",)),
    Fault("code-int", F, ("ENV-3",),
          "code is a JSON integer (1000, 1001, 10001), as the response table says",
          shape=envelopes(lambda e: {**e, "code": int(e["code"])} if str(e.get("code")).isdigit() else e)),
    Fault("msg-key", F, ("ENV-2",),
          "the message field is named msg, as the response table says",
          shape=envelopes(lambda e: {("msg" if k == "message" else k): v for k, v in e.items()})),
    Fault("pascal-keys", F, ("ENV-2",),
          "envelope keys are PascalCase: Code, Message, Data",
          shape=envelopes(lambda e: {k[:1].upper() + k[1:]: v for k, v in e.items()})),
    Fault("data-json-string", F, ("ENV-5",),
          "success data is double-encoded as a JSON string",
          shape=on_success(_double_encode)),
    Fault("text-html-content-type", F, ("ENV-1",),
          "the JSON envelope is served as text/html",
          finish=on_login(set_attr("media_type", lambda ex: HTML))),
    Fault("trailing-garbage", F, ("ENV-1",),
          "a debug comment follows the JSON envelope",
          finish=on_login(set_attr("content", lambda ex: ex.content + b"\n<!-- 0.4ms -->"))),
    Fault("truncated-json-failures", F, ("ENV-1",),
          "the auth filter's failure body is cut in half (consistent Content-Length, broken JSON)",
          finish=on_login(set_attr("content", lambda ex: ex.content[: len(ex.content) // 2]), reason_in(AUTH_TAGS))),
    Fault("success-201", F, ("ENV-8",),
          "a successful login answers HTTP 201",
          finish=on_login(set_attr("status", lambda ex: 201), succeeded)),
    Fault("message-null", F, ("ENV-4",),
          "a success carries message null (the success message is never set)",
          shape=envelopes(lambda e: {**e, "message": None} if e.get("code") == "1000" else e)),
    # Failure semantics.
    Fault("failure-code-1000", F, ("ENV-5",),
          "an unknown wcId is refused with code '1000' and data null",
          shape=on_failure(set_field("code", lambda ex, e: "1000"), reason_in({"wcid-unknown"}))),
    Fault("failure-success-data", F, ("ENV-7",),
          "failures carry a success-looking data (wId, qrCodeUrl) with code 1001",
          shape=on_failure(set_field("data", lambda ex, e: ex.success_data(_EXAMPLE_WID)))),
    Fault("failure-data-empty-object", F, (),
          "failures carry data {} instead of null",
          shape=on_failure(set_field("data", lambda ex, e: {})), warns=("ENV-7",)),
    Fault("undocumented-failure-code", F, (),
          "failures use the undocumented code '4001'",
          shape=on_failure(set_field("code", lambda ex, e: "4001")), warns=("ENV-6",)),
    # Success payload.
    Fault("no-wid", F, ("DATA-1",), "success data has no wId", shape=on_success(drop_field("wId"))),
    Fault("empty-wid", F, ("DATA-1",), "success data has wId ''", shape=on_success(set_field("wId", lambda ex, d: ""))),
    Fault("no-qr-url", F, ("DATA-2",), "success data has no qrCodeUrl", shape=on_success(drop_field("qrCodeUrl"))),
    Fault("relative-qr-url", F, ("DATA-2",),
          "qrCodeUrl is a relative path",
          shape=on_success(set_field("qrCodeUrl", lambda ex, d: f"/qr/{ex.wid}.png"))),
    Fault("ftp-qr-url", F, ("DATA-2",),
          "qrCodeUrl uses the ftp: scheme",
          shape=on_success(set_field("qrCodeUrl", lambda ex, d: "ftp://" + ex.qr_url(ex.wid).split("://", 1)[1]))),
    Fault("data-uri-qr-url", F, ("DATA-2",),
          "qrCodeUrl is a base64 data: URI of the PNG",
          shape=on_success(set_field("qrCodeUrl", _qr_data_uri))),
    Fault("qr-404", F, (),
          "qrCodeUrl points to a path the server does not serve (404)",
          shape=on_success(set_field("qrCodeUrl", lambda ex, d: f"{ex.base_url}/images/{ex.wid}.png")),
          warns=("DATA-3",)),
    Fault("qr-html", F, (),
          "the QR URL serves an HTML page instead of an image",
          finish=on_route("qr", replace_body(200, HTML, _HTML_QR), _qr_served), warns=("DATA-3",)),
    Fault("qr-not-a-qr", F, (),
          "the QR URL serves a PNG with no QR code in it",
          finish=on_route("qr", replace_body(200, "image/png", lambda ex: blank_png()), _qr_served),
          warns=("DATA-3",)),
    Fault("qr-port-closed", F, (),
          "qrCodeUrl is on the API's own host, at a port where nothing listens (the image service is down)",
          shape=on_success(set_field("qrCodeUrl", _qr_on_closed_port)), warns=("DATA-3",)),
    # Authorization.
    Fault("auth-missing-accepted", F, ("AUTH-1",),
          "a request without Authorization is served (a token that is sent is still checked)",
          judge=accept("auth-missing")),
    Fault("any-token-accepted", F, ("AUTH-2",), "any non-empty token is accepted", judge=accept("auth-unknown")),
    Fault("empty-token-accepted", F, ("AUTH-2",),
          "an empty Authorization value is accepted", judge=accept("auth-empty")),
    # Request body.
    Fault("type-missing-500", F, ("ENV-8", "REQ-4"),
          "a body without type, or with type null, crashes the handler (HTTP 500, text)",
          finish=on_login(replace_body(500, TEXT, _TEXT_500), reason_in({"type-missing"}))),
    Fault("type-wrong-type-accepted", F, ("REQ-5",),
          "type of a non-numeric JSON type ('abc', true, [], {}) succeeds",
          judge=accept("type-not-numeric")),
    Fault("type-float-refused", F, (),
          "type 2.0 is refused: the parser wants an integer literal, as Go's int or Rust's i32 does",
          judge=refuse("type-other-number", lambda b, ex: isinstance(b.get("type"), float) and b["type"] == 2),
          warns=("REQ-1",)),
    Fault("type-string-accepted", F, (),
          "type '2' (a numeric string) is coerced and succeeds",
          judge=accept("type-numeric-string", lambda ex: _is_string_two(body(ex).get("type"))), warns=("REQ-6",)),
    Fault("type-other-int-accepted", F, (),
          "any integral type (1, 3, 0, -1, ...) succeeds",
          judge=accept("type-other-number", lambda ex: _is_integral(body(ex).get("type"))), warns=("REQ-6",)),
    Fault("wcid-number-coerced", F, (),
          "a numeric wcId is coerced to a string and the re-login succeeds",
          judge=accept("wcid-not-string", lambda ex: _is_number(body(ex).get("wcId"))), warns=("REQ-6",)),
    Fault("malformed-json-500", F, ("ENV-8", "REQ-8"),
          "a body that is not JSON crashes the handler (HTTP 500, text)",
          finish=on_login(replace_body(500, TEXT, _TEXT_500), reason_in(NOT_JSON_TAGS))),
    Fault("wcid-500", F, ("ENV-8", "REQ-9"),
          "a long (> 64 chars) or non-ASCII wcId crashes the account lookup (HTTP 500, text)",
          finish=on_login(replace_body(500, TEXT, _TEXT_500), is_odd_unknown_wcid)),
    Fault("wcid-empty-rejected", F, ("REQ-2",),
          "wcId '' is refused as a missing parameter",
          judge=refuse("wcid-empty", lambda b, ex: b.get("wcId") == "")),
    Fault("extra-fields-rejected", F, ("REQ-3",),
          "unknown body fields (proxy, deviceType, ...) are refused",
          judge=refuse("extra-field", lambda b, ex: bool(b.keys() - {"type", "wcId"}))),
    Fault("proxy-required", F, ("AUTH-3", "REQ-1", "REQ-2", "REQ-3", "REQ-7", "REQ-10"),
          "the later revision's proxy field is required",
          judge=refuse("proxy-missing", lambda b, ex: "proxy" not in b)),
    Fault("charset-rejected", F, ("REQ-10",),
          "Content-Type with a charset parameter is refused",
          judge=refuse("content-type", lambda b, ex: "charset" in ex.headers.get("content-type", "").lower())),
    # Time and method.
    Fault("known-wcid-rejected", F, ("REQ-7",),
          "every re-login is refused as an unknown wcId (the account store was lost)",
          judge=refuse("wcid-unknown", lambda b, ex: is_relogin(ex))),
    Fault("relogin-hang", F, ("TIME-1", "REQ-7"),
          "a re-login the server would serve (valid token and body, non-empty wcId) hangs 60 s before answering",
          judge=delay(60.0, is_valid_relogin)),
    Fault("slow", F, (),
          "every request takes 300 ms more (TIME-2 under a --latency-budget below 300 ms; the self-test uses 250)",
          judge=delay(0.3), warns=("TIME-2",)),
    Fault("get-500", F, (),
          "GET /iPadLogin crashes (HTTP 500, text)",
          finish=on_route("method", replace_body(500, TEXT, _TEXT_500), _is_get), warns=("METH-1",)),
    # Variations: legal; a correct suite passes them.
    Fault("extra-fields", V, (),
          "extra envelope fields (requestId, timestamp) and data fields (expiresIn, status)",
          shape=_extra_fields),
    Fault("failure-code-10001", V, (),
          "every failure uses the table's code '10001'",
          shape=on_failure(set_field("code", lambda ex, e: "10001"))),
    Fault("pretty-json", V, (),
          "indented JSON, the example's key order, Content-Type application/json;charset=UTF-8",
          shape=_pretty),
    Fault("english-messages", V, (), "messages in English", shape=_english),
    Fault("wid-uuid", V, (), "wId is a bare random UUID", shape=on_success(_new_wid(lambda: str(uuid.uuid4())))),
    Fault("wid-hex", V, (), "wId is 32 hex characters", shape=on_success(_new_wid(lambda: uuid.uuid4().hex))),
    Fault("qr-url-query", V, (),
          "qrCodeUrl carries a query string",
          shape=on_success(set_field("qrCodeUrl", lambda ex, d: f"{d['qrCodeUrl']}?t={int(time.time() * 1000)}"))),
    Fault("latency-20ms", V, (), "every request takes 20 ms more", judge=delay(0.02)),
    Fault("auth-401", V, (),
          "auth failures answer HTTP 401 with a proper failure envelope",
          finish=on_login(_auth_401, reason_in(AUTH_TAGS)), warns=("ENV-8",)),
    Fault("connection-close", V, (),
          "every response says Connection: close",
          finish=set_header("Connection", "close")),
    Fault("type-missing-accepted", V, (),
          "a body without type, or with type null, is taken as type 2, as a published client expects",
          judge=accept("type-missing")),
    Fault("qr-foreign-host", V, (),
          f"qrCodeUrl is on another host, one the suite cannot resolve ({FOREIGN_QR_HOST})",
          shape=on_success(set_field("qrCodeUrl", lambda ex, d: f"http://{FOREIGN_QR_HOST}/qr/{ex.wid}.png")),
          not_verified=("DATA-3",)),
)  # fmt: skip

#: name → entry, in a stable order (the order of ``--list-faults``).
CATALOG: dict[str, Fault] = {f.name: f for f in _ENTRIES}
assert len(CATALOG) == len(_ENTRIES), "duplicate fault name"

FAULTS = tuple(n for n, f in CATALOG.items() if f.kind == "fault")
VARIATIONS = tuple(n for n, f in CATALOG.items() if f.kind == "variation")


def hooks(names: Iterable[str], phase: Phase) -> tuple[Hook, ...]:
    """The hooks of ``phase`` for the named entries, in the order given."""
    return tuple(h for n in names if (h := getattr(CATALOG[n], phase)) is not None)
