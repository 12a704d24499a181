"""The reference ASGI app: ``POST /iPadLogin`` answered faithfully to CONTRACT.md.

Plain Starlette with one pure-ASGI access-log middleware, nothing else: the
suite's benchmark compares it with a hello-world Starlette app. ``/iPadLogin``,
the hot path, skips Starlette's router (see :class:`LoginFirst`). Every answer,
including 404, 405 and unexpected errors, goes through one pipeline
(judge → decide → shape → serialise → finish) so the fault hooks of
:mod:`.faults` can intervene at a named point without the app knowing them.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import random
import re
import sys
import time
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any, TextIO

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import faults as fault_catalog
from .call import PROBLEMS, SUCCESS_CODE, Call
from .call import Route as RouteName
from .config import MAX_BODY_BYTES, ServerConfig
from .qr import WID_RE, qr_png

SUCCESS_MESSAGE = "登录成功"  # the success example's message
SUCCESS_MESSAGE_EN = "login successful"
#: A plausible WeChat id; a non-empty wcId of another shape is "unknown" (REQ-7, REQ-9).
WCID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NUMERIC_RE = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")
_HOST_RE = re.compile(r"([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?")
_EXCHANGE_KEY = "ipadlogin.exchange"
_WANTED = frozenset({b"host", b"authorization", b"content-length"})


def new_wid() -> str:
    """A fresh wId in the vendor's shape: 16 hex digits of epoch ms, '-0001-', 12 random hex.

    One formatting of the ms split 8-4-4 by bit shifts (hot path; same text as
    slicing its 16 hex digits). Random: unique, not a secret.
    """
    ms = int(time.time() * 1000)
    return "%08x-%04x-%04x-0001-%012x" % (ms >> 32, ms >> 16 & 0xFFFF, ms & 0xFFFF, random.getrandbits(48))


# --- the correct judgement -------------------------------------------------------


def judge_auth(ex: Call, value: bytes | None, tokens: tuple[bytes, ...]) -> None:
    """AUTH-1/2: the raw token must match one configured token exactly (constant time)."""
    if value is None:
        ex.problems.append(PROBLEMS["auth-missing"])
    elif not value.strip():
        ex.auth = "invalid"
        ex.problems.append(PROBLEMS["auth-empty"])
    elif any(hmac.compare_digest(value, t) for t in tokens):
        ex.auth = "valid"
    else:
        ex.auth = "invalid"
        ex.problems.append(PROBLEMS["auth-unknown"])


def _parse_int(text: str) -> int | float:
    # Python refuses int() of > 4300 digits; such a number is just "not 2".
    return int(text) if len(text) < 4000 else float(text)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# Built once: json.loads/dumps with options build a new decoder/encoder per call.
_DECODER = json.JSONDecoder(parse_int=_parse_int, parse_constant=_reject_constant)


def judge_body(ex: Call, raw: bytes | None) -> None:
    """REQ-1..10: parse whatever the Content-Type says, then check type and wcId."""
    if raw is None:
        ex.problems.append(PROBLEMS["body-too-large"])
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        ex.problems.append(PROBLEMS["body-not-utf8"])
        return
    try:
        ex.body = _DECODER.decode(text)
    except (ValueError, RecursionError):
        ex.problems.append(PROBLEMS["body-malformed"])
        return
    if not isinstance(ex.body, dict):
        ex.problems.append(PROBLEMS["body-not-object"])
        return
    kind = ex.body.get("type")
    if kind is None:  # missing or null alike (REQ-4): refused, as the page marks type required
        ex.problems.append(PROBLEMS["type-missing"])
    elif isinstance(kind, str):
        numeric = _NUMERIC_RE.fullmatch(kind)
        ex.problems.append(PROBLEMS["type-numeric-string" if numeric else "type-not-numeric"])
    elif isinstance(kind, bool) or not isinstance(kind, (int, float)):
        ex.problems.append(PROBLEMS["type-not-numeric"])
    elif kind != 2:  # 2 and 2.0 are the same JSON number
        ex.problems.append(PROBLEMS["type-other-number"])
    wcid = ex.body.get("wcId", "")
    if not isinstance(wcid, str):
        ex.problems.append(PROBLEMS["wcid-not-string"])
    elif wcid and not WCID_RE.fullmatch(wcid):
        ex.problems.append(PROBLEMS["wcid-unknown"])


def decide(ex: Call) -> None:
    """Turn the first problem (or none) into the envelope the API documents."""
    if ex.problems:
        problem = ex.problems[0]
        ex.ok, ex.code, ex.message_en = False, problem.code, problem.message_en
        ex.envelope = {"code": problem.code, "message": problem.message, "data": None}
    else:
        ex.ok, ex.code, ex.message_en, ex.wid = True, SUCCESS_CODE, SUCCESS_MESSAGE_EN, new_wid()
        ex.envelope = {"code": SUCCESS_CODE, "message": SUCCESS_MESSAGE, "data": ex.success_data(ex.wid)}


_WID_MARK = "{wId}"  # cannot occur in a base URL (see _HOST_RE) nor be escaped by JSON


@lru_cache(maxsize=64)
def _success_template(base_url: str) -> tuple[bytes, bytes, bytes] | None:
    """The success envelope's JSON for ``base_url``, split around its two wIds.

    Built by the very encoder :meth:`Call.write_json` uses, with a marker
    for the wId; JSON escapes character by character, so splicing a wId (hex
    and dashes) in gives the same bytes as encoding it (~2 µs less per login).
    None if the marker does not split the text in exactly three.
    """
    ex = Call("login", "POST", "/iPadLogin", Headers(), base_url)
    ex.write_json({"code": SUCCESS_CODE, "message": SUCCESS_MESSAGE, "data": ex.success_data(_WID_MARK)})
    parts = ex.content.split(_WID_MARK.encode())
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else None


async def read_body(receive: Receive, declared: bytes | None) -> bytes | None:
    """The body, or None when it is over the limit (stops reading early).

    Raw ``receive`` rather than ``Request.stream()``: this is the hot path.
    """
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        if not chunks and not message.get("more_body"):
            return chunk if len(chunk) <= MAX_BODY_BYTES else None
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


# --- the app ----------------------------------------------------------------------


@lru_cache(maxsize=64)
def _base_url(scheme: str, host_header: bytes | None, server: tuple[str, int] | None) -> str:
    """scheme://host the client used; the socket address if Host is absent or odd.

    Cached: a server sees few distinct Host values, and this is on the hot path.
    """
    host = host_header.decode("latin-1") if host_header else None
    if host is None or not _HOST_RE.fullmatch(host):
        addr, port = server or ("127.0.0.1", 80)
        host = f"[{addr}]:{port}" if ":" in str(addr) else f"{addr}:{port}"
    return f"{scheme}://{host}"


class ReferenceApp:
    """Holds the configuration and the fault hooks; its methods are the endpoints."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.tokens = tuple(t.encode() for t in config.tokens)
        self.judge_hooks = fault_catalog.hooks(config.faults, "judge")
        self.shape_hooks = fault_catalog.hooks(config.faults, "shape")
        self.finish_hooks = fault_catalog.hooks(config.faults, "finish")

    def exchange(self, scope: Scope, route: RouteName) -> tuple[Call, dict[bytes, bytes]]:
        """A new exchange, plus the raw headers the app reads itself (one pass, first value wins)."""
        raw: dict[bytes, bytes] = {}
        for key, value in scope["headers"]:
            if key in _WANTED and key not in raw:
                raw[key] = value
        server = scope.get("server")
        base_url = _base_url(scope.get("scheme", "http"), raw.get(b"host"), tuple(server) if server else None)
        ex = Call(route, scope["method"], scope["path"], Headers(scope=scope), base_url)
        scope[_EXCHANGE_KEY] = ex
        return ex, raw

    async def answer(self, ex: Call) -> Response:
        """Run the pipeline on a prepared exchange and build the response.

        The "error" route skips the hooks: it answers a failure of the pipeline
        itself, which must not fail the same way twice.
        """
        hooked = ex.route != "error"
        for hook in self.judge_hooks if hooked else ():
            hook(ex)
        if ex.delay:
            await asyncio.sleep(ex.delay)
        if ex.route != "qr":
            decide(ex)
            for hook in self.shape_hooks if hooked else ():
                hook(ex)
            untouched = ex.ok and not self.shape_hooks and ex.indent is None  # the envelope decide() built
            template = _success_template(ex.base_url) if untouched else None
            if template:
                ex.content = ex.wid.encode().join(template)
            else:
                ex.write_json(ex.envelope, indent=ex.indent)
        for hook in self.finish_hooks if hooked else ():
            hook(ex)
        return WireResponse(ex)

    async def login(self, scope: Scope, receive: Receive) -> Response:
        if scope["method"] != "POST":
            return await self.failure(scope, "method", 405, Allow="POST")
        ex, raw = self.exchange(scope, "login")
        try:
            judge_auth(ex, raw.get(b"authorization"), self.tokens)
            try:
                body = await read_body(receive, raw.get(b"content-length"))
            except ClientDisconnect:
                body = b""
            judge_body(ex, body)
            return await self.answer(ex)
        except Exception:  # never a 500 or a framework page (ENV-8)
            return await self.failure(scope, "error", 200)

    async def qr(self, scope: Scope, receive: Receive) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            return await self.failure(scope, "method", 405, Allow="GET, HEAD")
        name: str = scope["path_params"]["name"]
        wid = name[:-4] if name.endswith(".png") else ""
        if not WID_RE.fullmatch(wid):
            return await self.failure(scope, "not-found", 404)
        ex, _ = self.exchange(scope, "qr")
        ex.wid, ex.content, ex.media_type = wid, qr_png(wid), "image/png"
        ex.response_headers["Cache-Control"] = "public, max-age=300"
        return await self.answer(ex)

    async def failure(self, scope: Scope, route: RouteName, status: int, **headers: str) -> Response:
        ex, _ = self.exchange(scope, route)
        ex.problems.append(PROBLEMS[route])
        ex.status = status
        ex.response_headers.update(headers)
        return await self.answer(ex)

    async def http_error(self, request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException) and exc.status_code == 404:
            return await self.failure(request.scope, "not-found", 404)
        return await self.failure(request.scope, "error", 200)


class Endpoint:
    """A handler ``(scope, receive) -> Response`` as a raw ASGI app.

    Starlette then routes to it without its per-request function wrapper and
    Request object (a measurable share of the hot path); the handlers check
    the method and catch their own errors, so nothing that wrapper did is lost.
    """

    def __init__(self, handler: Callable[[Scope, Receive], Awaitable[Response]]) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handler(scope, receive)
        await response(scope, receive, send)


class WireResponse(Response):
    """A Response built straight from a finished exchange.

    Skips ``Response.init_headers`` (a measurable share of the hot path); the
    media type is always explicit here, so nothing is inferred.
    """

    def __init__(self, ex: Call) -> None:
        self.status_code = ex.status
        self.body = ex.content
        self.background = None
        self.raw_headers = [
            (b"content-length", b"%d" % len(ex.content)),
            (b"content-type", ex.media_type.encode("latin-1")),
        ]
        for k, v in ex.response_headers.items():
            self.raw_headers.append((k.lower().encode("latin-1"), v.encode("latin-1")))


class AccessLog:
    """One stderr line per request: method, path, status, code, auth, latency.

    Pure ASGI (no BaseHTTPMiddleware) to stay cheap; lines finished in one turn
    of the event loop go out in one write. Never logs headers, query or body,
    so the token cannot leak.
    """

    def __init__(self, app: ASGIApp, stream: TextIO | None = None) -> None:
        self.app = app
        self.stream = stream
        self.pending: list[str] = []
        self.second = -1
        self.stamp = ""

    def flush(self) -> None:
        lines, self.pending = self.pending, []
        stream = self.stream or sys.stderr
        stream.write("".join(lines))
        stream.flush()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            ex: Call | None = scope.get(_EXCHANGE_KEY)
            path = scope["path"][:200]
            if not path.isprintable():
                path = ascii(path)
            code = (ex.code or "-") if ex else "-"
            auth = ex.auth if ex and ex.route == "login" else "-"
            ms = (time.perf_counter() - start) * 1000
            now = int(time.time())
            if now != self.second:
                self.second, self.stamp = now, time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(now))
            if not self.pending:
                asyncio.get_running_loop().call_soon(self.flush)
            line = f"{self.stamp} {scope['method']} {path} {status or '-'} code={code} auth={auth} {ms:.1f}ms\n"
            self.pending.append(line)


class LoginFirst:
    """Innermost middleware: ``/iPadLogin`` goes straight to its endpoint.

    It skips ExceptionMiddleware and the router, about a quarter of a login's
    time, which do nothing for it: the path is matched by one comparison and
    the login endpoint raises no HTTPException. Everything outside (the access
    log, ServerErrorMiddleware) still wraps it. Other paths, other scope types
    and a scope with a root_path go on to the router as usual.
    """

    def __init__(self, app: ASGIApp, login: ASGIApp) -> None:
        self.app = app
        self.login = login

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/iPadLogin" and not scope.get("root_path"):
            await self.login(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def create_app(config: ServerConfig | None = None) -> Starlette:
    """The reference server as an ASGI app (default: dev token, no faults)."""
    ref = ReferenceApp(config or ServerConfig())
    login = Endpoint(ref.login)
    app = Starlette(
        routes=[
            Route("/iPadLogin", login),  # any method: login() answers 405 itself
            Route("/qr/{name}", Endpoint(ref.qr)),
        ],
        middleware=[
            *([Middleware(AccessLog)] if ref.config.access_log else []),
            Middleware(LoginFirst, login=login),  # innermost: inside the access log
        ],
        exception_handlers={HTTPException: ref.http_error, Exception: ref.http_error},
    )
    app.router.redirect_slashes = False  # /iPadLogin/ is an unknown path, not a redirect
    app.state.config = ref.config
    return app
