"""Differences between two answers to the same request, and how they are grouped for a reader.

Pure functions over :class:`~.shape.Shape`: what differs, of which kind,
told as "what OLD showed" and "what NEW showed". A different decision
(accepted, refused, crashed, no answer) is the one difference of its
request: code, message and shape follow from it. Latency is judged per
request class, never per request, so that two runs of one build do not
differ by noise: a class differs only when its p95 moves by more than
:data:`LATENCY_RATIO` times *and* by more than :data:`LATENCY_FLOOR_MS`. The
p95 of fewer than 20 calls is their slowest one (one scheduling hiccup, or a
server's first call warming up), so a class of fewer than
:data:`LATENCY_MIN_REQUESTS` requests answered by both sides is judged pooled
with the other small classes (both sides pool the same requests).

A recording's latencies measured with other requests in flight (a run's
``--concurrency``, its xdist workers) include the time each request queued
behind the others, which requests sent one at a time do not: there only a
slowdown of NEW counts (a NEW faster than such a recording is no news, and
is what a comparison under a loaded machine would otherwise report).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from ..checks import p95
from ..core.verdict import Outcome
from .shape import ACCEPTED, CRASHED, NO_ANSWER, ROOT, SERVED, Shape

T = TypeVar("T")
KINDS = ("decision", "status", "content-type", "code", "message", "shape", "value", "latency", "verdict")
"""Every kind of difference, in the order a reader meets them (``--ignore`` takes these names)."""
LATENCY_RATIO = 2.0
LATENCY_FLOOR_MS = 50.0
LATENCY_MIN_REQUESTS = 20
POOLED = "of fewer than 20 requests, pooled"
"""The class name of the pooled small classes."""
NOTHING = "—"
TOLD_CHARS = 300
NOT_RUN = Outcome.NOT_RUN.value
_KIND_PHRASES = {
    "decision": "",
    "status": "HTTP status: ",
    "content-type": "Content-Type: ",
    "code": "code: ",
    "message": "message: ",
    "shape": "envelope shape: ",
    "value": "values: ",
    "latency": "p95 latency: ",
    "verdict": "contract verdict: ",
}
_OWN_KINDS = frozenset(f"{ROOT}.{name}" for name in ("code", "message"))
"""Paths whose type the ``code`` and ``message`` kinds compare (with the value); shape keeps their presence."""


@dataclass(frozen=True)
class Difference:
    kind: str
    old: str
    """What OLD showed, in a few words."""
    new: str


@dataclass
class Group:
    """Differences of one kind, with the same two sides, among the requests of one class."""

    request_class: str
    kind: str
    old: str
    new: str
    requests: list[str] = field(default_factory=list)

    def sentence(self, limit: int = 3) -> str:
        """E.g. "8 requests of class REQ-6 (type-numeric-string, …): OLD refused (code "1001"), NEW accepted"."""
        count = len(self.requests)
        shown = ", ".join(self.requests[:limit]) + (", …" if count > limit else "")
        if count:
            subject = f"{count} request{'s' if count != 1 else ''} of class{'es' if self.request_class == POOLED else ''} {self.request_class} ({shown})"
        else:  # a requirement's verdict
            subject = f"requirement {self.request_class}"
        return f"{subject}: {_KIND_PHRASES[self.kind]}OLD {self.old}, NEW {self.new}"


def outcome(shape: Shape) -> str:
    """The decision in a few words: "accepted", "refused (code "10001")", "crashed (HTTP 500)", ..."""
    if shape.decision == NO_ANSWER:
        return f"no answer ({shape.error})"
    if shape.decision == CRASHED:
        return f"crashed (HTTP {shape.status})"
    if shape.decision in (ACCEPTED, SERVED):
        return shape.decision
    if shape.code is not None:
        return f"refused (code {shape.code})"
    return f"refused (HTTP {shape.status}, no envelope code)"


def diff_answers(old: Shape, new: Shape) -> list[Difference]:
    """What a client would notice between two answers to the same request (latency aside).

    Each side is told in at most :data:`TOLD_CHARS` characters: a hostile server's 64 KiB message
    makes one difference, not a 64 KiB line in every report.
    """
    return [Difference(found.kind, _told(found.old), _told(found.new)) for found in _differences(old, new)]


def _told(text: str) -> str:
    return text if len(text) <= TOLD_CHARS else text[: TOLD_CHARS - 1] + "…"


def _differences(old: Shape, new: Shape) -> list[Difference]:
    if old.decision != new.decision:
        return [Difference("decision", outcome(old), outcome(new))]
    if not old.answered:
        return []
    found = []
    if old.status != new.status:
        found.append(Difference("status", f"HTTP {old.status}", f"HTTP {new.status}"))
    if old.content_type != new.content_type:
        found.append(Difference("content-type", old.content_type or "none", new.content_type or "none"))
    if old.code != new.code:
        found.append(Difference("code", old.code or "no code", new.code or "no code"))
    if old.message != new.message and old.message is not None and new.message is not None:
        found.append(Difference("message", old.message, new.message))  # a missing message is the shape's
    old_structure, new_structure = _structure(old), _structure(new)
    if old_structure != new_structure:
        found.append(Difference("shape", _paths(old_structure - new_structure), _paths(new_structure - old_structure)))
    changed = _changed_values(old, new)
    if changed:
        found.append(
            Difference(
                "value",
                "; ".join(f"{path} {was}" for path, was, _ in changed),
                "; ".join(f"{path} {now}" for path, _, now in changed),
            )
        )
    return found


def _structure(shape: Shape) -> set[tuple[str, str]]:
    return {(path, "present" if path in _OWN_KINDS else kind) for path, kind in shape.structure}


def _paths(entries: set[tuple[str, str]]) -> str:
    return ", ".join(f"{path} ({kind})" for path, kind in sorted(entries)) or NOTHING


def _changed_values(old: Shape, new: Shape) -> list[tuple[str, str, str]]:
    """(path, OLD's values, NEW's values) where a path both have holds other values."""

    def by_path(shape: Shape) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for path, value in shape.values:
            found.setdefault(path, []).append(value)
        return found

    before, after = by_path(old), by_path(new)
    return [
        (path, " | ".join(before[path]), " | ".join(after[path]))
        for path in sorted(before.keys() & after.keys())
        if before[path] != after[path]
    ]


def latency_difference(
    old_ms: Sequence[float], new_ms: Sequence[float], *, slowdown_only: bool = False
) -> Difference | None:
    """The p95 of a request class on both sides (requests answered by both), if it moved beyond noise.

    ``slowdown_only``: OLD was measured with requests in flight, NEW one at a time; only a slower NEW counts.
    """
    if min(len(old_ms), len(new_ms)) < LATENCY_MIN_REQUESTS:
        return None
    before, after = p95(old_ms), p95(new_ms)
    if slowdown_only and after <= before:
        return None
    low, high = sorted((before, after))
    if high - low > LATENCY_FLOOR_MS and high > LATENCY_RATIO * low:
        return Difference("latency", f"{before:.0f} ms", f"{after:.0f} ms")
    return None


def latency_classes(by_class: dict[str, list[T]]) -> dict[str, list[T]]:
    """The classes latency is judged by: each large class alone, the small ones pooled (if they add up)."""
    judged = {name: items for name, items in by_class.items() if len(items) >= LATENCY_MIN_REQUESTS}
    pooled = [item for name, items in by_class.items() if name not in judged for item in items]
    if len(pooled) >= LATENCY_MIN_REQUESTS:
        judged[POOLED] = pooled
    return judged


def verdict_differences(old: dict[str, str], new: dict[str, str]) -> list[tuple[str, Difference]]:
    """(requirement ID, difference) for every requirement checked on both sides whose verdict differs.

    "not run" on one side (it stopped, or could not make the request) is told by the requests not compared.
    """
    return [
        (rid, Difference("verdict", old[rid], new[rid]))
        for rid in old
        if rid in new and old[rid] != new[rid] and NOT_RUN not in (old[rid], new[rid])
    ]


def group(items: Iterable[tuple[Sequence[str], str, Difference]]) -> list[Group]:
    """(request ids, request class, difference) grouped by class, kind and both sides, in the order met.

    A difference of one request names it; one of a whole class (latency) names the class's requests; a
    requirement's verdict, none.
    """
    groups: dict[tuple[str, str, str, str], Group] = {}
    for request_ids, request_class, difference in items:
        key = (request_class, difference.kind, difference.old, difference.new)
        if key not in groups:
            groups[key] = Group(request_class, difference.kind, difference.old, difference.new)
        groups[key].requests.extend(request_ids)
    return sorted(groups.values(), key=lambda item: KINDS.index(item.kind))
