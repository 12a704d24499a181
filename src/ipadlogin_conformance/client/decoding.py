"""Content-Encoding removed a little at a time, so a bomb cannot inflate past the size cap.

httpx inflates each received chunk whole: 64 KiB of a gzip bomb become 64 MiB
at once, and nested encodings multiply that. The suite reads raw bytes and
inflates them here, at most ``PIECE`` bytes per step; it stops pulling once
it has read enough, so memory stays bounded whatever the server sends.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

PIECE = 64 * 1024
ACCEPT_ENCODING = "gzip, deflate"
"""What the suite asks for: exactly what :func:`decoded` can undo."""
_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


class DecodingError(ValueError):
    """The body cannot be decoded as its Content-Encoding says."""


def decoded(raw: Iterable[bytes], content_encoding: str | None) -> Iterator[bytes]:
    """The body with its encodings removed (the last one applied first), in pieces of at most PIECE bytes."""
    pieces: Iterator[bytes] = iter(raw)
    codings = [coding.strip().lower() for coding in (content_encoding or "").split(",") if coding.strip()]
    for coding in reversed(codings):
        if coding == "identity":
            continue
        if coding not in _WBITS:
            raise DecodingError(f"Content-Encoding {coding!r} was not asked for (the suite accepts {ACCEPT_ENCODING})")
        pieces = _inflate(pieces, coding)
    return pieces


def _inflate(pieces: Iterator[bytes], coding: str) -> Iterator[bytes]:
    inflater = zlib.decompressobj(_WBITS[coding])
    for data in pieces:
        while not inflater.eof:
            try:
                out = inflater.decompress(data, PIECE)
            except zlib.error as error:
                raise DecodingError(f"cannot decode the {coding} body: {error}") from None
            if out:
                yield out
            data = inflater.unconsumed_tail
            if not data and len(out) < PIECE:
                break  # this input is used up and nothing is pending: read more
