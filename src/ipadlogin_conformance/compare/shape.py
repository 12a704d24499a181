"""What a client can see of one answer, with what varies per call taken out: the unit ``compare`` diffs.

Two builds of one server never answer with the same bytes: each success has a
new ``wId``, the QR URL names the server's own host and the new wId, a
timestamp is the time of the call. Those values are kept by their JSON type
only (and a ``qrCodeUrl`` by its form: scheme, whether it is on the target's
own host, its query parameter names), so that two runs of one build have the
same shape and any difference left is one a client could notice.

Pure functions over an :class:`~ipadlogin_conformance.core.exchange.Exchange`:
no HTTP client, no pytest.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..checks import Decision, read_envelope
from ..core.exchange import Exchange, header
from ..core.label import Judgement

ACCEPTED, REFUSED, CRASHED, NO_ANSWER, SERVED = "accepted", "refused", "crashed", "no answer", "served"
"""What the server decided. ``served``: a QR image fetch answered 2xx."""

ROOT = "$"
ENVELOPE_VALUES = ("code", "message")
"""Top-level fields compared as kinds of their own (``code``, ``message``), not as ``value``."""
URL_KEYS = frozenset({"qrCodeUrl"})
"""Fields holding a URL on the target's own host, with a per-call path."""
PER_CALL_KEY = re.compile(r"^(wId|ts|nonce)$|(?i:time|date|stamp)|[a-z]At$|^(?i:(request|trace|span|correlation)_?id)$")
"""Field names whose values are per call by nature: the new instance's id, timestamps, request ids."""
MAX_DEPTH = 32
"""Nesting followed into a body: an envelope is three levels deep; a hostile body may be hundreds."""
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_EPOCH_S = (946_684_800, 4_102_444_800)
"""2000-01-01 to 2100-01-01 in seconds; the same range in milliseconds also counts as a timestamp."""


@dataclass(frozen=True)
class Shape:
    """One answer as a client sees it, per-call values reduced to their type or form."""

    decision: str
    status: int | None
    content_type: str | None
    code: str | None
    """The envelope's code as JSON text (``"1001"`` with its quotes, ``1001`` without); None: no code."""
    message: str | None
    """The envelope's message as JSON text; None: no message field."""
    structure: tuple[tuple[str, str], ...]
    """(path, JSON type) of every value in the body, sorted; array items share the path ``[]``."""
    values: tuple[tuple[str, str], ...]
    """(path, value as JSON text) of every scalar not per call and not code/message; URLs by their form."""
    latency_ms: float | None
    error: str | None = None
    """Why there was no answer."""

    @property
    def answered(self) -> bool:
        return self.decision != NO_ANSWER


def shape_of(exchange: Exchange) -> Shape:
    """The shape of one exchange (a login, another method or a QR fetch)."""
    response = exchange.response
    if response is None:
        return Shape(NO_ANSWER, None, None, None, None, (), (), None, exchange.error or "no response")
    content_type = _media_type(header(response.headers, "content-type"))
    envelope = read_envelope(exchange)
    decision = _decision(exchange, response.status, envelope.decision)
    if envelope.parse_error is not None:
        structure: tuple[tuple[str, str], ...] = ((ROOT, "not JSON"),)
        values: tuple[tuple[str, str], ...] = ()
    else:
        origin = _origin(exchange.request.url)
        structure = tuple(sorted(set(_types(envelope.body, ROOT))))
        values = tuple(sorted(set(_values(envelope.body, ROOT, origin))))
    body = envelope.body if isinstance(envelope.body, dict) else {}
    code, message = (_json_text(body, key) for key in ENVELOPE_VALUES)
    return Shape(decision, response.status, content_type, code, message, structure, values, exchange.elapsed_ms)


def _json_text(body: dict[str, Any], key: str) -> str | None:
    return json.dumps(body[key], ensure_ascii=False) if key in body else None


def _decision(exchange: Exchange, status: int, decision: Decision) -> str:
    if status >= 500:
        return CRASHED
    if exchange.label.judgement is Judgement.QR:
        return SERVED if 200 <= status < 300 else REFUSED
    return ACCEPTED if decision is Decision.ACCEPTED else REFUSED


def _media_type(value: str | None) -> str | None:
    """Content-Type as a client compares it: case and spaces around ``;`` and ``=`` do not matter."""
    if value is None:
        return None
    return ";".join(
        "=".join(part.strip() for part in param.split("=", 1)) for param in value.lower().split(";") if param.strip()
    )


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _child(path: str, key: str) -> str:
    return (
        f"{path}.{key}"
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key)
        else f"{path}[{json.dumps(key, ensure_ascii=False)}]"
    )


def _types(value: Any, path: str, depth: int = 0) -> list[tuple[str, str]]:
    found = [(path, json_type(value))]
    if depth >= MAX_DEPTH:
        return found
    if isinstance(value, dict):
        for key, item in value.items():
            found += _types(item, _child(path, key), depth + 1)
    elif isinstance(value, list):
        for item in value:
            found += _types(item, f"{path}[]", depth + 1)
    return found


def _values(value: Any, path: str, origin: str, key: str = "", depth: int = 0) -> list[tuple[str, str]]:
    if depth >= MAX_DEPTH and isinstance(value, (dict, list)):
        return []  # the structure beyond is compared by type only
    if isinstance(value, dict):
        return [
            pair
            for name, item in value.items()
            if not (path == ROOT and name in ENVELOPE_VALUES)
            for pair in _values(item, _child(path, name), origin, name, depth + 1)
        ]
    if isinstance(value, list):
        return [pair for item in value for pair in _values(item, f"{path}[]", origin, key, depth + 1)]
    if key in URL_KEYS and isinstance(value, str):
        return [(path, url_form(value, origin))]
    if PER_CALL_KEY.search(key) or _is_timestamp(value):
        return []
    return [(path, json.dumps(value, ensure_ascii=False))]


def url_form(url: str, origin: str) -> str:
    """A URL with its per-call parts out: the target's own origin named so, the path elided, query names kept."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return "not an absolute URL"
    where = "the target's host" if f"{parts.scheme}://{parts.netloc}".lower() == origin else parts.netloc
    query = sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return f"{parts.scheme}://{where}/…" + (f"?{'&'.join(query)}" if query else "")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _is_timestamp(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        low, high = _EPOCH_S
        return low <= value < high or low * 1000 <= value < high * 1000
    return isinstance(value, str) and bool(_ISO_DATETIME.match(value))
