"""QR images for ``GET /qr/<wId>.png``.

Stateless on purpose: any well-formed wId renders, so the server keeps no
per-login state and its memory stays flat under load. A small LRU absorbs the
repeated fetches of one image (a client polling, a suite re-checking DATA-3).
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from functools import lru_cache

import segno

#: What a well-formed wId looks like in a QR path (every built-in format fits).
WID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: Payload encoded in the QR: the login page WeChat's scanner opens.
LOGIN_URL = "https://login.weixin.qq.com/l/{wid}"


@lru_cache(maxsize=256)
def qr_png(wid: str) -> bytes:
    """PNG bytes of a QR code encoding the login URL of ``wid``."""
    buf = io.BytesIO()
    segno.make(LOGIN_URL.format(wid=wid), error="m", micro=False).save(buf, kind="png", scale=4, border=4)
    return buf.getvalue()


@lru_cache(maxsize=1)
def blank_png(size: int = 64) -> bytes:
    """A valid grey PNG with no QR code in it (for the ``qr-not-a-qr`` fault)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes((96 + (x + y) % 64) for x in range(size)) for y in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
