"""Keep the token out of everything the suite writes.

The configured token is replaced by ``$IPADLOGIN_TOKEN`` wherever it appears
(request headers, echoed response headers or bodies), so a curl line still
works when that variable is set and nothing secret is ever stored. Any other
Authorization value the suite sends is one it made up (an unknown token for
AUTH-2) and is kept, so the reproduction stays exact.

A token shorter than :data:`MIN_SCRUBBED_LENGTH` characters (a demo's "T")
is ordinary text: replacing it everywhere would corrupt what the checks judge
(every "T" of a Date header, bytes of a PNG) and protect nothing. Such a
token is replaced only where it stands whole: a header value that is the token.
"""

from __future__ import annotations

from dataclasses import dataclass

PLACEHOLDER = "$IPADLOGIN_TOKEN"
MIN_SCRUBBED_LENGTH = 8


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
        return value.replace(self.secret, PLACEHOLDER)

    def data(self, value: bytes) -> bytes:
        if not self.scrubs_free_text:
            return value
        return value.replace(self.secret.encode("utf-8"), PLACEHOLDER.encode("ascii"))

    def headers(self, headers: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        return tuple((name, self.text(value)) for name, value in headers)
