"""What a check needs to know beyond the exchange: profile and expectations."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Profile(str, enum.Enum):
    """strict: the examples are the truth; lenient: also the table's errata, with warnings."""

    STRICT = "strict"
    LENIENT = "lenient"


class Expect(str, enum.Enum):
    """The outcome a request class must get."""

    SUCCESS = "success"
    SHOULD_SUCCEED = "should-succeed"
    """A success, but anything else breaks only the SHOULD clause of the requirement (a warning)."""
    FAILURE = "failure"
    ANSWER = "answer"
    """Either outcome, as long as the server answers (no 5xx, no dropped connection)."""


@dataclass(frozen=True)
class Policy:
    profile: Profile = Profile.STRICT
    request_timeout_s: float = 10.0
    latency_budget_ms: float = 1000.0
