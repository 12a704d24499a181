"""Keep the token out of everything the suite shows or stores, in any form a server may echo it.

The suite sends, fetches and judges the real values; redaction happens at
output: failure messages, reports, the cassette and the vendor guide take a
redacted copy (:meth:`Redactor.exchange`, :meth:`Redactor.finding`) and every
written file gets one more pass (:meth:`Redactor.text`). A server may echo
the token in another form than the one sent, so each of these is replaced
by ``$IPADLOGIN_TOKEN``: plain, upper and lower case, base64 (standard and
URL-safe, at any alignment inside a longer base64 text), URL-encoded
(``%xx`` in either case, ``+`` for space, encoded twice), JSON-escaped
(``\\uXXXX``, ``\\/``), HTML-escaped and hex. A form cut short where a
message or excerpt ends (before "…" or a closing quote) is replaced too,
once :data:`MIN_SCRUBBED_LENGTH` of its characters stand together. A curl
line still works when ``IPADLOGIN_TOKEN`` is set. Any other Authorization value the suite sends
is one it made up (an unknown token for AUTH-2) and is kept, so the
reproduction stays exact.

A token shorter than :data:`MIN_SCRUBBED_LENGTH` characters (a demo's "T")
is ordinary text: replacing it everywhere would corrupt the evidence (every
"T" of a Date header) and protect nothing. Such a token is replaced only
where it stands whole (a header value that is the token); a live target
refuses it (see :mod:`.settings`).
"""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, AnyStr
from urllib.parse import quote, quote_plus

if TYPE_CHECKING:
    from .exchange import Exchange
    from .verdict import Finding

PLACEHOLDER = "$IPADLOGIN_TOKEN"
MIN_SCRUBBED_LENGTH = 8


@lru_cache(maxsize=8)
def encoded_forms(secret: str) -> tuple[str, ...]:
    """Every form of ``secret`` that is scrubbed, longest first (none shorter than MIN_SCRUBBED_LENGTH)."""
    raw = secret.encode("utf-8")
    url_forms = {quote(secret, safe=""), quote(secret), quote_plus(secret), quote(quote(secret, safe=""), safe="")}
    url_forms |= {re.sub("%[0-9A-F]{2}", lambda match: match.group().lower(), form) for form in url_forms}
    forms = {
        secret,
        secret.upper(),
        secret.lower(),
        raw.hex(),
        raw.hex().upper(),
        html.escape(secret),
        html.escape(secret, quote=False),
        *url_forms,
        *_base64_cores(raw),
    }
    for form in list(forms):
        for escaped in (json.dumps(form)[1:-1], json.dumps(form, ensure_ascii=False)[1:-1]):
            forms |= {escaped, escaped.replace("/", "\\/")}
    return tuple(sorted((form for form in forms if len(form) >= MIN_SCRUBBED_LENGTH), key=len, reverse=True))


def _base64_cores(raw: bytes) -> set[str]:
    """The base64 characters that depend on ``raw`` alone, wherever it starts in a longer encoded text."""
    cores = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for offset in range(3):  # bytes before it, modulo 3: each gives another encoding
            encoded = encode(bytes(offset) + raw).decode("ascii")
            first = (offset * 8 + 5) // 6  # the first character with no bit of the bytes before
            cores.add(encoded[first : (offset + len(raw)) * 8 // 6])
    return cores


CUT_MARKS = ("…", "'", '"', "\\")
"""What follows a text cut short: an ellipsis (every excerpt of the suite's), a closing quote, a JSON escape."""


def _scrub(value: AnyStr, forms: tuple[AnyStr, ...], placeholder: AnyStr, cut_marks: tuple[AnyStr, ...]) -> AnyStr:
    """Every form replaced where it stands whole (longest first), then where it stands cut short.

    A cut-short form counts only at the end of the text or before a cut mark, so that
    ordinary text sharing the token's first characters stays as it is; the placeholder
    itself is never touched.
    """
    for form in forms:
        value = value.replace(form, placeholder)
    by_head: dict[AnyStr, list[AnyStr]] = {}
    for form in forms:
        by_head.setdefault(form[:MIN_SCRUBBED_LENGTH], []).append(form)
    parts = value.split(placeholder)
    for head, group in by_head.items():
        parts = [_replace_cut(part, head, group, placeholder, cut_marks) for part in parts]
    return placeholder.join(parts)


def _replace_cut(
    value: AnyStr, head: AnyStr, forms: list[AnyStr], placeholder: AnyStr, cut_marks: tuple[AnyStr, ...]
) -> AnyStr:
    """The longest beginning of any of ``forms`` (all starting with ``head``) replaced where it ends a cut text."""
    start = value.find(head)
    if start < 0:
        return value
    pieces, kept_from = [], 0
    while start >= 0:
        end = max(start + _common_length(value, start, form) for form in forms)
        if end == len(value) or value.startswith(cut_marks, end):
            pieces += [value[kept_from:start], placeholder]
            kept_from = end
        start = value.find(head, start + 1)
    pieces.append(value[kept_from:])
    return value[:0].join(pieces)


def _common_length(value: AnyStr, start: int, form: AnyStr) -> int:
    length = 0
    while length < len(form) and start + length < len(value) and value[start + length] == form[length]:
        length += 1
    return length


@dataclass(frozen=True)
class Redactor:
    secret: str | None

    @property
    def scrubs_free_text(self) -> bool:
        return bool(self.secret) and len(self.secret) >= MIN_SCRUBBED_LENGTH

    def text(self, value: str) -> str:
        if value == self.secret and self.secret:
            return PLACEHOLDER
        if not self.scrubs_free_text:
            return value
        return _scrub(value, encoded_forms(self.secret), PLACEHOLDER, CUT_MARKS)

    def data(self, value: bytes) -> bytes:
        if not self.scrubs_free_text:
            return value
        forms = tuple(form.encode("utf-8") for form in encoded_forms(self.secret))
        return _scrub(value, forms, PLACEHOLDER.encode("ascii"), tuple(mark.encode("utf-8") for mark in CUT_MARKS))

    def headers(self, headers: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        return tuple((self.text(name), self.text(value)) for name, value in headers)

    def exchange(self, exchange: Exchange) -> Exchange:
        """A copy to show or store: the token out of the URL, headers, bodies, error and label."""
        if not self.secret:
            return exchange
        request, response = exchange.request, exchange.response
        return replace(
            exchange,
            request=replace(
                request,
                url=self.text(request.url),
                headers=self.headers(request.headers),
                body=None if request.body is None else self.data(request.body),
            ),
            response=None
            if response is None
            else replace(response, headers=self.headers(response.headers), body=self.data(response.body)),
            error=None if exchange.error is None else self.text(exchange.error),
            label=exchange.label.with_text(self.text),
        )

    def finding(self, finding: Finding) -> Finding:
        """A copy to show or store: its detail (which may quote the server) and its exchange redacted."""
        if not self.secret:
            return finding
        return replace(
            finding,
            detail=self.text(finding.detail),
            exchange=None if finding.exchange is None else self.exchange(finding.exchange),
        )
