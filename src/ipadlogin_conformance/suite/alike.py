"""Generated cases that are alike: the same request class and the same body shape.

Against a live target every request costs (risk control, the rate cap, real
latency), and two generated bodies that differ only in their values, such as
``{"type": 7}`` and ``{"type": 12}``, are judged by the same requirement with
the same expectation: the second buys no verdict the first did not. A live run
sends only the first case of each kind in each property test (shard); the
embedded server gets them all.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # generation imports schemathesis, which the plugin loads only when the suite runs
    from .generation import GeneratedRequest

MAX_DEPTH = 16
"""Nesting followed into a body; deeper values are one shape ("deep")."""

Kind = tuple[bool, str | None, str, tuple[str, ...], str]


def body_shape(body: bytes | None) -> str:
    """The body's JSON structure with every value reduced to its type (keys kept): "{"type":int}"."""
    if body is None:
        return "no body"
    try:
        value = json.loads(body)
    except ValueError:
        return "not JSON"
    return _shape(value, 0)


def _shape(value: Any, depth: int) -> str:
    if depth > MAX_DEPTH:
        return "deep"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(key)}:{_shape(value[key], depth + 1)}" for key in sorted(value)) + "}"
    if isinstance(value, list):
        return "[" + "|".join(sorted({_shape(item, depth + 1) for item in value})) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string" if value else "empty string"
    return "int" if isinstance(value, int) else "number"


def kind(request: GeneratedRequest) -> Kind:
    """What makes two generated requests alike: token or not, Content-Type, expectation, requirements, body shape."""
    return (
        request.with_token,
        request.content_type,
        request.expect.value,
        request.requirements,
        body_shape(request.body),
    )


class FirstOfKind:
    """Remembers the kinds seen in this process; ``first`` says whether a request is the first of its kind."""

    def __init__(self) -> None:
        self._seen: set[Kind] = set()

    def first(self, request: GeneratedRequest) -> bool:
        key = kind(request)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True
