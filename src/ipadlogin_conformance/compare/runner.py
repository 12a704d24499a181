"""Sends each request to both sides, judges every answer against the contract, pairs the answers.

The requests go out interleaved (OLD's answer to a request, then NEW's), each
side through its own :class:`~ipadlogin_conformance.client.target.Target` with its
own rate cap and success budget, so both are paced at once and both see the
same moment of the run. A recorded side answers from the cassette. A side
whose budget is spent, or that stalled (an answer did not come within the
request timeout: :class:`~ipadlogin_conformance.client.target.TargetStalled`), stops
sending, as a suite run does; the requests it did not answer are not compared,
and the comparison says which.

Every answer is judged as a run judges it (:func:`~ipadlogin_conformance.results.judgement.judge_into`),
so each side also gets its contract verdict per requirement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property

from ..checks import Policy
from ..client.budget import BudgetExhausted, BudgetUsage
from ..client.target import Target
from ..core.exchange import Exchange
from ..results.judgement import judge_into
from ..results.overall import run_verdict
from ..results.records import RunResults, TestRecord
from .diff import Difference, diff_answers
from .requests import ComparedRequest
from .shape import Shape, shape_of

OLD, NEW = "OLD", "NEW"
CANNOT_BE_MADE = "no success with a qrCodeUrl to fetch"


@dataclass
class Answer:
    exchange: Exchange | None
    not_sent: str | None = None
    """Why no exchange: the budget was spent, the target stalled, or the request cannot be made."""

    @cached_property
    def shape(self) -> Shape | None:
        return None if self.exchange is None else shape_of(self.exchange)


@dataclass
class Pair:
    request: ComparedRequest
    old: Answer
    new: Answer
    differences: list[Difference] = field(default_factory=list)

    @property
    def shapes(self) -> tuple[Shape, Shape] | None:
        """Both sides' shapes, when both sides have an exchange."""
        if self.old.shape is None or self.new.shape is None:
            return None
        return self.old.shape, self.new.shape

    @property
    def compared(self) -> bool:
        """Both sides answered, or neither could make the request (no QR URL on either)."""
        if self.old.exchange is not None and self.new.exchange is not None:
            return True
        return self.old.not_sent == self.new.not_sent == CANNOT_BE_MADE

    @property
    def why_not_compared(self) -> str:
        return "; ".join(
            f"{label} {answer.not_sent}" for label, answer in ((OLD, self.old), (NEW, self.new)) if answer.not_sent
        )


class Side:
    """One side of a comparison: a live target, or a recording; judges what it answers."""

    def __init__(
        self,
        label: str,
        where: str,
        policy: Policy,
        warnings_as_errors: bool,
        *,
        target: Target | None = None,
        recorded: Mapping[str, Exchange] | None = None,
    ) -> None:
        self.label = label
        self.where = where
        self.policy = policy
        self.warnings_as_errors = warnings_as_errors
        self.target = target
        self.recorded = recorded
        self.results = RunResults()

    @property
    def live(self) -> bool:
        return self.target is not None

    def answer(self, request: ComparedRequest) -> Answer:
        if self.recorded is not None:
            exchange = self.recorded.get(request.id)
            answer = Answer(exchange, None if exchange is not None else "not in the recording")
        else:
            answer = self._send(request)
        if answer.exchange is not None:
            record = TestRecord(test_id=request.id)
            judge_into(record, answer.exchange, self.policy)
            self.results.merge(record)
        return answer

    def _send(self, request: ComparedRequest) -> Answer:
        assert self.target is not None
        try:
            exchange = request.send(self.target)
        except BudgetExhausted as error:  # also TargetStalled
            return Answer(None, f"not sent: {error}")
        return Answer(exchange, None if exchange is not None else CANNOT_BE_MADE)

    def close(self) -> None:
        self.results.close(self.policy)

    @property
    def stopped(self) -> str | None:
        """Why a live side stopped sending, if it did (it stalled)."""
        return None if self.target is None else self.target.stalled()

    @property
    def usage(self) -> BudgetUsage | None:
        return None if self.target is None else self.target.budget.usage

    def verdicts(self) -> dict[str, str]:
        return {rid: result.outcome.value for rid, result in self.results.requirements.items()}

    def overall(self) -> str:
        return run_verdict(self.results, self.warnings_as_errors).outcome.value

    def blocking(self) -> list[str]:
        return self.results.blocking(self.warnings_as_errors)


@dataclass
class Run:
    old: Side
    new: Side
    pairs: list[Pair]
    started: datetime
    finished: datetime


def run_comparison(
    requests: Sequence[ComparedRequest], old: Side, new: Side, progress: Callable[[int, int], None] | None = None
) -> Run:
    """Every request to OLD, then to NEW, in order; the answers paired and diffed (latency aside)."""
    started = now()
    pairs = []
    for done, request in enumerate(requests, 1):
        pair = Pair(request, old.answer(request), new.answer(request))
        if pair.shapes is not None:
            pair.differences = diff_answers(*pair.shapes)
        pairs.append(pair)
        if progress is not None:
            progress(done, len(requests))
    old.close()
    new.close()
    return Run(old, new, pairs, started, now())


def now() -> datetime:
    return datetime.now(timezone.utc)
