"""Server text made safe to show: bodies and headers are hostile input.

HTML escaping (Jinja's autoescape) stops markup; these helpers also stop what
escaping lets through: control characters, bidirectional overrides that make
text read differently from what it is (CVE-2021-42574 style), and Markdown
syntax that would break out of a table cell or a code span.
"""

from __future__ import annotations

import re

_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")


def visible(text: str) -> str:
    """Control, bidi and zero-width characters (and lone surrogates) as \\x / \\u escapes."""
    return _INVISIBLE.sub(lambda match: _escape(match.group()), text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: str, limit: int = 160) -> str:
    """A single visible line of at most ``limit`` characters."""
    flat = " ".join(visible(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|<>~])")


def markdown_text(text: str, limit: int = 160) -> str:
    """Text for a Markdown table cell: one line, Markdown and HTML syntax escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_line(text, limit))
