"""The vocabulary the app and the fault hooks share: one request being answered.

The app fills a :class:`Call` in phases (judge, decide, shape, serialise,
finish); each fault hook sees the same object between two phases and may change
it. Keeping it here, apart from both, lets a fault be written without reading
the app and lets the app stay free of fault-specific branches.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Route = Literal["login", "qr", "method", "not-found", "error"]
Auth = Literal["valid", "invalid", "missing"]

SUCCESS_CODE = "1000"
AUTH_FAILURE_CODE = "1001"  # the error example's code
PARAM_FAILURE_CODE = "10001"  # the response table's failure code


@dataclass(frozen=True)
class Problem:
    """One reason to refuse a request; ``tag`` is what fault hooks match on."""

    tag: str
    code: str
    message: str  # Chinese, like the API's own messages
    message_en: str


#: Every refusal the server knows, in the order the correct server checks them.
PROBLEMS: dict[str, Problem] = {
    p.tag: p
    for p in (
        Problem("auth-missing", AUTH_FAILURE_CODE, "缺少Authorization", "missing Authorization header"),
        Problem("auth-empty", AUTH_FAILURE_CODE, "Authorization为空", "empty Authorization token"),
        Problem("auth-unknown", AUTH_FAILURE_CODE, "Authorization无效", "invalid Authorization token"),
        Problem("body-too-large", PARAM_FAILURE_CODE, "请求体过大", "request body too large"),
        Problem("body-not-utf8", PARAM_FAILURE_CODE, "请求体不是UTF-8", "request body is not UTF-8"),
        Problem("body-malformed", PARAM_FAILURE_CODE, "请求体不是合法的JSON", "request body is not valid JSON"),
        Problem("body-not-object", PARAM_FAILURE_CODE, "请求体必须是JSON对象", "request body must be a JSON object"),
        Problem("type-missing", PARAM_FAILURE_CODE, "缺少参数type", "missing parameter: type"),
        Problem("type-not-numeric", PARAM_FAILURE_CODE, "参数type必须是数字", "parameter type must be a number"),
        Problem("type-numeric-string", PARAM_FAILURE_CODE, "参数type必须是数字", "parameter type must be a number"),
        Problem("type-other-number", PARAM_FAILURE_CODE, "参数type必须为2", "parameter type must be 2"),
        Problem("wcid-not-string", PARAM_FAILURE_CODE, "参数wcId必须是字符串", "parameter wcId must be a string"),
        Problem("wcid-unknown", AUTH_FAILURE_CODE, "wcId不存在", "unknown wcId"),
        # Only faults raise these: refusals a correct server never makes.
        Problem("wcid-empty", PARAM_FAILURE_CODE, "参数wcId不能为空", "parameter wcId must not be empty"),
        Problem("extra-field", PARAM_FAILURE_CODE, "存在未知参数", "unknown parameter"),
        Problem("proxy-missing", PARAM_FAILURE_CODE, "缺少参数proxy", "missing parameter: proxy"),
        Problem("content-type", PARAM_FAILURE_CODE, "不支持的Content-Type", "unsupported Content-Type"),
        Problem("not-found", AUTH_FAILURE_CODE, "接口不存在", "not found"),
        Problem("method", AUTH_FAILURE_CODE, "请求方法不允许", "method not allowed"),
        Problem("error", AUTH_FAILURE_CODE, "服务器内部错误", "internal error"),
    )
}

_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # built once: hot path
NOT_PARSED: Any = object()  # body could not be read as a JSON value


@dataclass(eq=False, slots=True)
class Call:
    """One request and the answer being built for it."""

    route: Route
    method: str
    path: str
    headers: Mapping[str, str]  # request headers, case-insensitive
    base_url: str  # scheme://host[:port] the client used, for absolute URLs
    auth: Auth = "missing"
    body: Any = NOT_PARSED
    problems: list[Problem] = field(default_factory=list)
    delay: float = 0.0  # seconds to wait before answering
    # The answer. ``ok``/``code``/``wid`` are the decision; the rest is the wire.
    ok: bool = False
    code: str = ""
    message_en: str = ""
    wid: str = ""
    status: int = 200
    envelope: dict[str, Any] | None = None
    content: bytes = b""
    response_headers: dict[str, str] = field(default_factory=dict)
    media_type: str = "application/json"
    indent: int | None = None  # pretty-printing, for the variation that asks for it

    @property
    def failed(self) -> bool:
        return self.envelope is not None and not self.ok

    def qr_url(self, wid: str) -> str:
        return f"{self.base_url}/qr/{wid}.png"

    def success_data(self, wid: str) -> dict[str, str]:
        return {"wId": wid, "qrCodeUrl": self.qr_url(wid)}

    def write_json(self, value: Any, *, indent: int | None = None) -> None:
        """Serialise ``value`` as the body (compact, UTF-8, no ASCII escaping)."""
        encoder = _COMPACT if indent is None else json.JSONEncoder(ensure_ascii=False, indent=indent)
        self.content = encoder.encode(value).encode()


Hook = Callable[[Call], None]
