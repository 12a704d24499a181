"""One request and what came back: the unit every check judges.

An Exchange is plain data, independent of the HTTP client, so the same checks
judge a live response, a recorded cassette and a fault of the catalog alike.
Secrets are removed before an Exchange is built (see :mod:`.redaction`), so
anything made from it (reports, curl lines, cassettes) is safe to publish.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .reproduce import Reproduction

Headers = tuple[tuple[str, str], ...]


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


@dataclass(frozen=True)
class Exchange:
    request: SentRequest
    response: ReceivedResponse | None
    error: str | None = None
    """Why no (complete) response came: refused, reset, timeout, ..."""
    timed_out: bool = False
    elapsed_ms: float = 0.0
    labels: dict[str, Any] = field(default_factory=dict, compare=False)
    """Free context for reports: the test, the Hypothesis seed, the case id."""

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
            },
            "error": self.error,
            "timed_out": self.timed_out,
            "elapsed_ms": self.elapsed_ms,
            "labels": self.labels,
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
            ),
            error=data["error"],
            timed_out=data["timed_out"],
            elapsed_ms=data["elapsed_ms"],
            labels=data.get("labels", {}),
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


def excerpt(body: bytes, limit: int = 500) -> str:
    """The beginning of a body as text, for a failure message."""
    text = body[:limit].decode("utf-8", "backslashreplace")
    return text + ("…" if len(body) > limit else "")


def json_dumps(value: Any) -> bytes:
    """Compact JSON as a client sends it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
