"""One request and what came back: the unit every check judges.

An Exchange is plain data, independent of the HTTP client, so the same checks
judge a live response, a recorded cassette and a fault of the catalog alike.
It holds what was really sent and received: the checks judge the real values
and the suite fetches the real qrCodeUrl. Whatever is shown or stored (reports,
curl lines, cassettes, failure messages) passes through :mod:`.redaction` first.
"""

from __future__ import annotations

import base64
import enum
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .label import Label

if TYPE_CHECKING:
    from .reproduce import Reproduction

Headers = tuple[tuple[str, str], ...]


class ErrorKind(str, enum.Enum):
    """What went wrong with an exchange, precisely enough to judge it and to tell the user."""

    TIMEOUT = "timeout"
    """No complete answer within the request timeout (connect, TLS, headers and body together)."""
    CONNECT = "connect"
    """No connection: no such host, refused, unreachable."""
    TLS = "tls"
    """The TLS handshake failed (an untrusted certificate, ...)."""
    REFUSED = "refused"
    """Not sent by the suite's own rule: a qrCodeUrl that is not http(s) or points at a private address."""
    PROXY = "proxy"
    """The proxy refused or failed the request."""
    HEADERS_TOO_LARGE = "headers-too-large"
    BAD_STATUS_LINE = "bad-status-line"
    CONNECTION_CLOSED = "connection-closed"
    """Closed or reset before the answer was complete."""
    FRAMING = "framing"
    """More bytes followed the answer than its framing allows (Content-Length, a body on 204/304): the
    answer is kept, the connection is not reused."""
    PROTOCOL = "protocol"
    """Another violation of HTTP/1.1."""
    DECODING = "decoding"
    """The Content-Encoding could not be undone."""
    REDIRECT = "redirect"
    """Too many redirects (the QR fetch follows a few)."""
    BAD_URL = "bad-url"
    """A URL the server gave (a qrCodeUrl, a redirect's Location) that cannot be parsed or sent."""


def header(headers: Headers, name: str) -> str | None:
    """The first value of a header, by case-insensitive name."""
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)


@dataclass(frozen=True)
class SentRequest:
    method: str
    url: str
    headers: Headers = ()
    body: bytes | None = None


@dataclass(frozen=True)
class ReceivedResponse:
    status: int
    headers: Headers
    body: bytes
    elapsed_ms: float
    truncated: bool = False
    """The body was longer than the suite reads; ``body`` is its beginning."""
    withheld: int | None = None
    """The body was read but not kept (its size): an answer to GET qrCodeUrl that is not a PNG image may be
    anything the server pointed the suite at, a cloud provider's credentials included."""


@dataclass(frozen=True)
class Exchange:
    request: SentRequest
    response: ReceivedResponse | None
    error: str | None = None
    """Why no (complete) response came: refused, reset, timeout, ...; or what was wrong with the one that did."""
    error_kind: str | None = None
    """The :class:`ErrorKind` value of ``error``."""
    timed_out: bool = False
    elapsed_ms: float = 0.0
    label: Label = field(default_factory=Label, compare=False)
    """How it is judged and where it came from (see :mod:`.label`)."""

    def curl(self, where: Reproduction | None = None) -> str:
        """A shell line that sends the same request, byte for byte (see :mod:`.reproduce`)."""
        from .reproduce import Reproduction, curl_line  # reproduce builds on this module

        return curl_line(self.request, where or Reproduction())

    def to_dict(self) -> dict[str, Any]:
        return {
            "request": {
                "method": self.request.method,
                "url": self.request.url,
                "headers": [list(pair) for pair in self.request.headers],
                "body": _encode_body(self.request.body),
            },
            "response": None
            if self.response is None
            else {
                "status": self.response.status,
                "headers": [list(pair) for pair in self.response.headers],
                "body": _encode_body(self.response.body),
                "elapsed_ms": self.response.elapsed_ms,
                "truncated": self.response.truncated,
                "withheld": self.response.withheld,
            },
            "error": self.error,
            "error_kind": self.error_kind,
            "timed_out": self.timed_out,
            "elapsed_ms": self.elapsed_ms,
            "label": self.label.to_har(),
            "sent_at": self.label.sent_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Exchange:
        request = data["request"]
        response = data["response"]
        return cls(
            request=SentRequest(
                method=request["method"],
                url=request["url"],
                headers=tuple(tuple(pair) for pair in request["headers"]),
                body=_decode_body(request["body"]),
            ),
            response=None
            if response is None
            else ReceivedResponse(
                status=response["status"],
                headers=tuple(tuple(pair) for pair in response["headers"]),
                body=_decode_body(response["body"]) or b"",
                elapsed_ms=response["elapsed_ms"],
                truncated=response["truncated"],
                withheld=response.get("withheld"),
            ),
            error=data["error"],
            error_kind=data.get("error_kind"),
            timed_out=data["timed_out"],
            elapsed_ms=data["elapsed_ms"],
            label=Label.from_har(data.get("label", {}), data.get("sent_at")),
        )


def _encode_body(body: bytes | None) -> dict[str, str] | None:
    """Text stays readable in reports; anything else is kept exactly, as base64."""
    if body is None:
        return None
    try:
        return {"text": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(body).decode("ascii")}


def _decode_body(body: dict[str, str] | None) -> bytes | None:
    if body is None:
        return None
    if "text" in body:
        return body["text"].encode("utf-8")
    return base64.b64decode(body["base64"])


def shown_body(response: ReceivedResponse, limit: int = 500) -> str:
    """A response's body as a report shows it: its beginning, or only its size when it was withheld."""
    if response.withheld is not None:
        return f"({response.withheld} bytes, not shown: not a PNG image)"
    return excerpt(response.body, limit)


def excerpt(body: bytes, limit: int = 500) -> str:
    """The beginning of a body as text, for a failure message."""
    text = body[:limit].decode("utf-8", "backslashreplace")
    return text + ("…" if len(body) > limit else "")


def json_dumps(value: Any) -> bytes:
    """Compact JSON as a client sends it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
