"""Which requirement governs a request body, and the outcome it must get.

Generated and recorded requests are judged by the class of their body, so a
property test and a replayed cassette apply the same rule as the hand-written
cases: a body without ``type`` (or with ``null``) is REQ-4, a non-numeric
``type`` REQ-5, ``2.0`` REQ-1's SHOULD clause, and so on.
"""

from __future__ import annotations

import re
from typing import Any

from ..core.policy import Expect

LATER_REVISION_FIELDS = frozenset({"proxy", "proxyIp", "proxyUser", "proxyPassword"})
"""Fields a later revision of the page added with types of its own: a server
that has moved on may validate them, so a random value there decides nothing."""

_NUMERIC = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


def classify(body: Any) -> tuple[Expect, tuple[str, ...]]:
    """The outcome a valid-token request with this JSON body must get, and the requirements saying so."""
    if not isinstance(body, dict):
        return Expect.FAILURE, ("REQ-8",)
    kind = body.get("type")
    if kind is None:
        # Missing or null: a server may refuse it (the page) or take it as 2 (a deployed client sends it).
        return Expect.ANSWER, ("REQ-4",)
    if isinstance(kind, (bool, dict, list)) or (isinstance(kind, str) and not _NUMERIC.match(kind)):
        return Expect.FAILURE, ("REQ-5",)
    if isinstance(kind, str) or kind != 2:
        return Expect.FAILURE, ("REQ-6",)
    if "wcId" in body and not isinstance(body["wcId"], str):
        return Expect.FAILURE, ("REQ-6",)
    extras = set(body) - {"type", "wcId"}
    if body.get("wcId") or extras & LATER_REVISION_FIELDS:
        return Expect.ANSWER, ("REQ-7",) if body.get("wcId") else ("REQ-3",)
    # A refusal is blamed on what the body adds to {"type": 2}; AUTH-3 (the
    # token is accepted) only on that body itself, the one no other rule can refuse.
    added = (("REQ-2",) if "wcId" in body else ()) + (("REQ-3",) if extras else ())
    if isinstance(kind, float):
        # 2.0, which strict parsers refuse (REQ-1's SHOULD clause). With an addition,
        # a refusal could be either one's: it is blamed on neither.
        return (Expect.ANSWER, added) if added else (Expect.SHOULD_SUCCEED, ("REQ-1",))
    if len(added) > 1:
        return Expect.ANSWER, added  # two additions: a refusal could not say which one
    if added:
        return Expect.SUCCESS, added
    return Expect.SUCCESS, ("AUTH-3", "REQ-1")
