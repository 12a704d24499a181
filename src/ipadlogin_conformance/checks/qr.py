"""DATA-3: the qrCodeUrl serves a PNG that a real decoder reads as a QR code."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import zxingcpp
from PIL import Image, UnidentifiedImageError

from ..core.exchange import ErrorKind, Exchange, header
from ..core.verdict import Finding, Outcome, not_verified, violated

MAX_PIXEL_BYTES = 16 * 1024 * 1024
"""Width × height × channels an image may have, read from its header before anything is decoded: a QR
code needs far less, and a 76 KB PNG can hold 4096 × 4096 RGBA pixels (64 MiB once decoded)."""


def qr_image_decodes(exchange: Exchange, *, unreachable: bool = False, api_host: str | None = None) -> Finding:
    """GET qrCodeUrl: HTTP 200, image/png, and a QR code in the picture.

    ``unreachable`` marks a transport error before any answer (refused, no
    such host): the suite may not see that host, which is not the server's
    fault, unless it is ``api_host``, the base URL's host, which it just reached.
    """
    response = exchange.response
    if response is None and exchange.error_kind == ErrorKind.REFUSED.value:
        # The suite's own rule kept it from fetching (an address in the runner's network): nothing to blame.
        return not_verified("DATA-3", f"not fetched: {exchange.error}", exchange)
    if response is None:
        if unreachable and not is_api_host(exchange.request.url, api_host):
            return not_verified("DATA-3", f"the QR host could not be reached: {exchange.error}", exchange)
        where = " (the API's own host, which the suite reached)" if unreachable else ""
        return violated("DATA-3", f"no answer from the QR URL{where}: {exchange.error}", exchange)
    if response.status != 200:
        return violated("DATA-3", f"GET qrCodeUrl answered HTTP {response.status}", exchange)
    content_type = (header(response.headers, "content-type") or "").split(";")[0].strip().lower()
    if content_type != "image/png":
        return violated(
            "DATA-3", f"GET qrCodeUrl answered Content-Type {content_type or 'missing'!r}, not image/png", exchange
        )
    if response.truncated:
        return violated("DATA-3", "the QR image is larger than the suite reads", exchange)
    oversized = _oversized(response.body)
    if oversized:
        return violated("DATA-3", oversized, exchange)
    text = _decode_qr(response.body)
    if text is None:
        return violated("DATA-3", "the image at qrCodeUrl holds no QR code a decoder can read", exchange)
    return Finding("DATA-3", Outcome.PASS, f"QR code decodes to {text[:80]!r}", exchange)


def is_api_host(url: str, api_host: str | None) -> bool:
    """``url`` is on the API's own host: the same host name or IP as written (no DNS lookup), on any port.

    Any port: the host answered a moment ago, so a port refused there is the
    server's own (its image service down or announced on the wrong port).
    """
    host = urlsplit(url).hostname
    return api_host is not None and host is not None and host == api_host.lower()


def _oversized(png: bytes) -> str | None:
    """Why the image is too large to decode, from its header alone (Pillow reads the size without decoding)."""
    try:
        with Image.open(io.BytesIO(png)) as image:
            width, height = image.size
            channels = len(image.getbands())
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None  # not an image: _decode_qr says so
    if width * height * channels <= MAX_PIXEL_BYTES:
        return None
    return (
        f"the image at qrCodeUrl is {width} × {height} pixels of {channels} channel(s), more than the "
        f"{MAX_PIXEL_BYTES >> 20} MiB the suite decodes (a QR code needs far less)"
    )


def _decode_qr(png: bytes) -> str | None:
    try:
        with Image.open(io.BytesIO(png)) as image:
            if image.format != "PNG":
                return None
            image.load()
            results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    return results[0].text if results else None
