"""Findings and how they add up to a verdict per requirement.

A check returns findings; the runner collects them; a requirement's verdict is
the worst of its findings. The order below is that ranking.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..contract.catalog import Level, Requirement, load_catalog
from .exchange import Exchange


class Outcome(str, enum.Enum):
    PASS = "pass"
    NOT_VERIFIED = "not verified"
    WARN = "warn"
    FAIL = "fail"
    NOT_RUN = "not run"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Outcome.NOT_RUN: 0, Outcome.PASS: 1, Outcome.NOT_VERIFIED: 2, Outcome.WARN: 3, Outcome.FAIL: 4}


@dataclass(frozen=True)
class Finding:
    requirement: str
    outcome: Outcome
    detail: str = ""
    exchange: Exchange | None = None

    @property
    def is_problem(self) -> bool:
        return self.outcome in (Outcome.FAIL, Outcome.WARN)

    def to_dict(self, exchange: Any = None) -> dict[str, Any]:
        """Plain data: requirement, outcome, detail, and ``exchange`` as the caller stores it (a record
        refers to its own exchanges by index, a cassette keeps the exchange beside); omitted when None."""
        data: dict[str, Any] = {"requirement": self.requirement, "outcome": self.outcome.value, "detail": self.detail}
        if exchange is not None:
            data["exchange"] = exchange
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], exchange: Exchange | None = None) -> Finding:
        """The finding :meth:`to_dict` wrote, with the exchange the caller found for it."""
        return cls(data["requirement"], Outcome(data["outcome"]), data.get("detail", ""), exchange)


def passed(requirement_id: str, exchange: Exchange | None = None) -> Finding:
    return Finding(requirement_id, Outcome.PASS, exchange=exchange)


def violated(
    requirement_id: str, detail: str, exchange: Exchange | None = None, *, should_clause: bool = False
) -> Finding:
    """A broken requirement: a failure for a MUST, a warning for a SHOULD or a SHOULD clause."""
    requirement: Requirement = load_catalog()[requirement_id]
    outcome = Outcome.WARN if should_clause or requirement.level is Level.SHOULD else Outcome.FAIL
    return Finding(requirement_id, outcome, detail, exchange)


def not_verified(requirement_id: str, detail: str, exchange: Exchange | None = None) -> Finding:
    return Finding(requirement_id, Outcome.NOT_VERIFIED, detail, exchange)


def worst(outcomes: Iterable[Outcome]) -> Outcome:
    return max(outcomes, key=lambda outcome: outcome.rank, default=Outcome.NOT_RUN)
