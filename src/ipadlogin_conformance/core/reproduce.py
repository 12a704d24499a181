"""Send a recorded request again, byte for byte: a curl line, and the tool's own one-liner.

Every curl line the suite prints (terminal, JUnit, summary.json, report.html,
the vendor guide) comes from :func:`curl_parts`, and a test runs them against
a capture server and compares the bytes with the cassette. What curl would
otherwise change is spelled out:

- an empty header value is ``-H 'Name;'`` (``-H 'Name: '`` makes curl drop the header);
- a body without a Content-Type gets ``-H 'Content-Type:'`` (else curl adds a form type);
- a body goes in as ``--data-raw`` (``@`` is not special there), quoted ``'...'`` when it is
  plain text and ``$'...'`` (bytes as ``\\xHH``) when it holds invalid UTF-8, control or
  invisible characters, so no raw control byte reaches a terminal or a report;
- a body whose quoted form is longer than :data:`INLINE_BODY_LIMIT` characters, or with a
  NUL byte (no shell word can hold one), is written to ``bodies/`` beside the reports and sent with
  ``--data-binary @FILE``; where there is no such folder (the vendor guide), a NUL body is
  piped in by ``printf``.

The redacted token stays ``$IPADLOGIN_TOKEN`` in double quotes: the shell fills it in.
:func:`resend_line` names the cassette entry for ``ipadlogin-conformance resend``,
which sends the same request without a POSIX shell (Windows).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .exchange import SentRequest, header
from .redaction import PLACEHOLDER

INLINE_BODY_LIMIT = 200
"""Characters of a quoted body written into the curl line; a longer one goes to a file, so the line stays short."""
BODIES_DIR = "bodies"
"""The folder, inside the reports dir, of the bodies the curl lines send from a file."""
REQUEST_ID_LENGTH = 12

_PLAIN = re.compile(r"[^\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]*")
"""Text that shows as itself: no control, bidi or zero-width character (as :func:`.reports.text.visible` escapes)."""
_SIMPLE = re.compile(r"[\w ./:;=,@+-]*", re.ASCII)
"""Text that needs no escaping inside double quotes."""


@dataclass(frozen=True)
class Reproduction:
    """Where a run keeps what its reproductions refer to: the body files and the cassette."""

    bodies_dir: Path | None = None
    cassette: Path | None = None

    @classmethod
    def in_reports(cls, reports_dir: Path, cassette: Path | None = None) -> Reproduction:
        return cls(reports_dir / BODIES_DIR, cassette)

    def body_file(self, body: bytes) -> Path | None:
        """The file holding ``body`` (written once, atomically: xdist workers may write the same one)."""
        if self.bodies_dir is None:
            return None
        path = self.bodies_dir / f"{hashlib.sha256(body).hexdigest()[:16]}.bin"
        if not path.exists():
            try:
                self.bodies_dir.mkdir(parents=True, exist_ok=True)
                handle, temporary = tempfile.mkstemp(dir=self.bodies_dir, prefix=".body-")
                with os.fdopen(handle, "wb") as out:
                    out.write(body)
                os.replace(temporary, path)
            except OSError:
                return None  # the reports dir went away: the line falls back to an inline form
        return path


def curl_parts(request: SentRequest, where: Reproduction = Reproduction()) -> list[str]:
    """The curl command as shell words grouped so that no group should be split when wrapped.

    ``" ".join(...)`` of the groups is the command; a leading ``printf ... |`` group feeds a NUL body.
    """
    parts = ["curl -sS"]
    body = request.body
    if not ((request.method == "POST" and body is not None) or (request.method == "GET" and body is None)):
        parts.append(f"-X {shlex.quote(request.method)}")
    parts.append(_url(request.url))
    for name, value in request.headers:
        parts.append("-H " + (_word(f"{name};") if not value.strip() else _word_with_token(f"{name}: {value}")))
    if body is not None and header(request.headers, "content-type") is None:
        parts.append("-H 'Content-Type:'")
    if body is None:
        return parts
    if len(body) > 1024:
        parts.append("-H 'Expect:'")  # curl would wait for a "100 Continue" the recorded request never asked for
    word = None if b"\0" in body else shell_word(body)
    file = where.body_file(body) if word is None or len(word) > INLINE_BODY_LIMIT else None
    if file is not None:
        parts.append(f"--data-binary {shlex.quote('@' + str(file))}")
    elif word is None:
        parts = [f"printf {_printf_format(body)} |", *parts, "--data-binary @-"]
    else:
        parts.append(f"--data-raw {word}")
    return parts


def curl_line(request: SentRequest, where: Reproduction = Reproduction()) -> str:
    """The command that sends ``request`` again (set IPADLOGIN_TOKEN in the shell first)."""
    return " ".join(curl_parts(request, where))


def request_id(request: SentRequest) -> str:
    """A short name for a request, the same wherever it is computed (worker, controller, cassette)."""
    canonical = json.dumps(
        [
            request.method,
            request.url,
            [list(pair) for pair in request.headers],
            None if request.body is None else base64.b64encode(request.body).decode("ascii"),
        ]
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:REQUEST_ID_LENGTH]


def resend_line(request: SentRequest, where: Reproduction) -> str | None:
    """``ipadlogin-conformance resend CASSETTE ID``: the same request, sent by the tool itself."""
    if where.cassette is None:
        return None
    cassette = str(where.cassette)
    # Quoted for the shell at hand: cmd.exe and PowerShell read double quotes, not POSIX single ones.
    quoted = subprocess.list2cmdline([cassette]) if os.name == "nt" else shlex.quote(cassette)
    return f"ipadlogin-conformance resend {quoted} {request_id(request)}"


def shell_word(data: bytes) -> str:
    """One shell word for ``data`` (no NUL): ``'text'`` when it reads as itself, else ``$'...'``."""
    if b"\0" in data:
        raise ValueError("no shell word holds a NUL byte")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and _PLAIN.fullmatch(text):
        return shlex.quote(text) if text else "''"
    return "$'" + "".join(_ansi_c(char) for char in data.decode("utf-8", "surrogateescape")) + "'"


def _ansi_c(char: str) -> str:
    if char in "\\'":
        return "\\" + char
    if char == "!" or not _PLAIN.fullmatch(char):  # "!": no history expansion when pasted into bash
        return "".join(f"\\x{byte:02x}" for byte in char.encode("utf-8", "surrogateescape"))
    return char


def _word(text: str) -> str:
    return shell_word(text.encode("utf-8", "surrogateescape"))


def _word_with_token(text: str) -> str:
    """A word in which the shell puts the token where the redacted text says $IPADLOGIN_TOKEN."""
    if PLACEHOLDER not in text:
        return _word(text)
    pieces = text.split(PLACEHOLDER)
    if all(_SIMPLE.fullmatch(piece) for piece in pieces):
        return f'"{text}"'
    return f'"{PLACEHOLDER}"'.join(_word(piece) if piece else "" for piece in pieces)


def _url(url: str) -> str:
    flags = []
    if any(char in url for char in "[]{}"):
        flags.append("--globoff")  # else curl reads brackets and braces as its URL patterns
    if re.search(r"/\.\.?(/|$|\?)", url):
        flags.append("--path-as-is")  # else curl squashes /./ and /../
    return " ".join([*flags, _word(url)])


def _printf_format(body: bytes) -> str:
    """A printf format that writes ``body`` exactly: printable ASCII as is, any other byte as ``\\ooo``."""
    out = []
    for byte in body:
        char = chr(byte)
        if char == "%":
            out.append("%%")
        elif 0x20 <= byte < 0x7F and char not in "\\'!":
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return "'" + "".join(out) + "'"
