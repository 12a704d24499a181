"""Harness problems: a run whose answers say more about the setup than about the server.

A wrong token, a server that is down behind its proxy, or a base URL that
points at a web page make every valid request fail, and the verdicts then
blame the requirements about valid requests. Those verdicts stay as they are
(the suite judged what it got), but a reader must first learn that the setup
is probably wrong. So, as the OCI distribution conformance suite keeps harness
errors apart from non-conformance, the diagnosis is a separate statement,
computed from a small tally of the answers to POST /iPadLogin.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..checks.envelope import Decision, read_envelope
from ..core.exchange import Exchange
from ..core.policy import Expect

NO_VALID_TOKEN = frozenset({"AUTH-1", "AUTH-2"})
"""The requirements of the requests sent without the configured token (none, empty or unknown)."""


class HarnessProblem(str, enum.Enum):
    TOKEN_REFUSED = "token-refused"
    SERVER_ERRORS = "server-errors"
    NOT_THE_API = "not-the-api"


@dataclass(frozen=True)
class Diagnosis:
    """What the answers suggest about the setup, and what to do about it."""

    problem: HarnessProblem
    finding: str
    """What was seen and what it probably means."""
    advice: str
    """What to check or set."""

    @property
    def text(self) -> str:
        return f"{self.finding} {self.advice}"

    def to_dict(self) -> dict[str, str]:
        return {"problem": self.problem.value, "finding": self.finding, "advice": self.advice}


@dataclass
class AnswerTally:
    """Counts over the answers to POST /iPadLogin, enough to recognise a harness problem.

    Kept per test (on its record, so it travels from an xdist worker) and
    added up for the run; a replay recounts it from the cassette.
    """

    answered: int = 0
    server_errors: int = 0
    html_pages: int = 0
    not_found: int = 0
    valid_sent: int = 0
    """Requests with the token and a body that must succeed."""
    valid_accepted: int = 0
    valid_refusals: Counter[str] = field(default_factory=Counter)
    """How the refused valid requests were answered ("HTTP 200, code '1001'") and how often."""
    no_token_refusals: Counter[str] = field(default_factory=Counter)
    """The same for requests without a valid token (AUTH-1, AUTH-2)."""

    def observe(self, exchange: Exchange, expect: Expect, requirement_ids: Iterable[str]) -> None:
        """One judged login exchange; one without an answer counts only as sent."""
        response = exchange.response
        if expect is Expect.SUCCESS:
            self.valid_sent += 1
        if response is None:
            return
        self.answered += 1
        self.server_errors += response.status >= 500
        self.not_found += response.status == 404
        self.html_pages += response.body.lstrip()[:1] == b"<"
        envelope = read_envelope(exchange)
        if envelope.decision is Decision.ACCEPTED:
            self.valid_accepted += expect is Expect.SUCCESS
            return
        how = f"HTTP {response.status}, " + ("no envelope" if envelope.code is None else f"code {envelope.code!r}")
        if expect is Expect.SUCCESS:
            self.valid_refusals[how] += 1
        elif NO_VALID_TOKEN & set(requirement_ids):
            self.no_token_refusals[how] += 1

    def add(self, other: AnswerTally) -> None:
        for name in ("answered", "server_errors", "html_pages", "not_found", "valid_sent", "valid_accepted"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.valid_refusals.update(other.valid_refusals)
        self.no_token_refusals.update(other.no_token_refusals)

    def to_dict(self) -> dict[str, Any]:
        return {
            **vars(self),
            "valid_refusals": dict(self.valid_refusals),
            "no_token_refusals": dict(self.no_token_refusals),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnswerTally:
        return cls(
            **{
                **data,
                "valid_refusals": Counter(data["valid_refusals"]),
                "no_token_refusals": Counter(data["no_token_refusals"]),
            }
        )


TOKEN_ADVICE = "Check the token the suite sends: give it with --auth-token TOKEN or set IPADLOGIN_TOKEN."
URL_ADVICE = (
    "Check --base-url (or IPADLOGIN_BASE_URL), including any path prefix: the suite posts to <base URL>/iPadLogin."
)


def diagnose(tally: AnswerTally, token_requirement_failed: bool) -> Diagnosis | None:
    """The harness problem the answers point to, if every answer points the same way.

    ``token_requirement_failed``: AUTH-3 (a valid token with a valid body
    succeeds) failed. Only a run where *every* answer fits is diagnosed, so a
    server that breaks one requirement is never taken for a setup problem.
    """
    answered = tally.answered
    if not answered:
        return None
    if tally.server_errors == answered:
        return Diagnosis(
            HarnessProblem.SERVER_ERRORS,
            f"The target answered every call with a server error (HTTP 5xx, {answered} of {answered}): "
            "the service behind the base URL is probably down or misconfigured.",
            f"Check that it runs and that its logs are clean. {URL_ADVICE}",
        )
    if tally.html_pages == answered or tally.not_found == answered:
        seen = "an HTML page" if tally.html_pages == answered else "HTTP 404"
        return Diagnosis(
            HarnessProblem.NOT_THE_API,
            f"The target answered every call with {seen} ({answered} of {answered}), never the API's JSON: "
            "the base URL or its path prefix is probably wrong.",
            URL_ADVICE,
        )
    refusals = tally.valid_refusals
    if token_requirement_failed and len(refusals) == 1 and sum(refusals.values()) == tally.valid_sent:
        [how] = refusals
        alike = ", exactly as it answered a request without a valid token" if how in tally.no_token_refusals else ""
        return Diagnosis(
            HarnessProblem.TOKEN_REFUSED,
            f"The target probably refused the token: it refused all {tally.valid_sent} requests with the token "
            f"and a valid body the same way ({how}){alike}.",
            TOKEN_ADVICE,
        )
    return None
