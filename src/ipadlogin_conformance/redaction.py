"""Keep the token out of everything the suite writes.

The configured token is replaced by ``$IPADLOGIN_TOKEN`` wherever it appears
(request headers, echoed response headers or bodies), so a curl line still
works when that variable is set and nothing secret is ever stored. Any other
Authorization value the suite sends is one it made up (an unknown token for
AUTH-2) and is kept, so the reproduction stays exact.
"""

from __future__ import annotations

from dataclasses import dataclass

PLACEHOLDER = "$IPADLOGIN_TOKEN"


@dataclass(frozen=True)
class Redactor:
    secret: str | None

    def text(self, value: str) -> str:
        if not self.secret:
            return value
        return value.replace(self.secret, PLACEHOLDER)

    def data(self, value: bytes) -> bytes:
        if not self.secret:
            return value
        return value.replace(self.secret.encode("utf-8"), PLACEHOLDER.encode("ascii"))

    def headers(self, headers: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        return tuple((name, self.text(value)) for name, value in headers)
