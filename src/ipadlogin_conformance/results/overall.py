"""The run's overall verdict: computed once, so the terminal, the cassette, every report and the replay agree.

- **fail**: a requirement fails the run (a MUST, or a SHOULD with
  --warnings-as-errors). A failure found is conclusive, even in a partial run.
- **incomplete**: nothing failed, but the run did not check everything: a
  requirement got no check (tests deselected with -k/-m, skipped, not sent
  because the success budget was spent or the host stalled), or the run was cut
  short (interrupted, stopped early, a test crashed). Never a vacuous pass.
- **warn**: every requirement checked, every MUST met, a SHOULD broken.
- **pass**: every requirement checked and met. "Not verified" counts as
  checked: the suite tried and says why it could not tell (DATA-3's QR host).

A harness problem (:mod:`.diagnosis`) is stated beside the verdict, never
instead of it: the verdicts are what the suite saw.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from ..core.verdict import Outcome
from .diagnosis import Diagnosis, diagnose
from .records import RunResults


class RunOutcome(str, enum.Enum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True)
class RunVerdict:
    outcome: RunOutcome
    blocking: tuple[str, ...]
    """The requirements that fail the run."""
    warned: tuple[str, ...]
    """The requirements with a warning (they fail the run only with --warnings-as-errors)."""
    not_checked: tuple[str, ...]
    """The requirements no test checked ("not run")."""
    not_verified: tuple[str, ...]
    incomplete_reasons: tuple[str, ...]
    """Why the run is not complete: the run's own reasons, then the requirements left unchecked."""
    diagnosis: Diagnosis | None

    @property
    def complete(self) -> bool:
        return not self.incomplete_reasons

    @property
    def reason(self) -> str:
        """The overall verdict in one sentence, after its word."""
        if self.outcome is RunOutcome.FAIL:
            failed = [rid for rid in self.blocking if rid not in self.warned]
            warned = [rid for rid in self.blocking if rid in self.warned]
            parts = [f"{_ids(failed)} {'fails' if len(failed) == 1 else 'fail'} the run"] if failed else []
            if warned:
                parts.append(f"warnings are errors (--warnings-as-errors), and {_ids(warned)} warned")
            return "; ".join(parts)
        if self.outcome is RunOutcome.INCOMPLETE:
            return "no requirement failed in what ran, but the run is incomplete: not a verdict to publish"
        checked = "every requirement checked, every MUST met"
        if self.outcome is RunOutcome.WARN:
            return f"{checked}; warnings: {_ids(self.warned)}"
        unverified = f"; not verified: {_ids(self.not_verified)}" if self.not_verified else ""
        return f"{checked}, no warning{unverified}"

    def lines(self) -> list[str]:
        """The verdict as the terminal ends with it: the harness problem first, the overall word last."""
        lines = [f"harness problem: {self.diagnosis.text}"] if self.diagnosis else []
        if not self.complete:
            lines.append(f"incomplete: {'; '.join(self.incomplete_reasons)}")
        lines.append(f"overall: {self.outcome.value.upper()} — {self.reason}")
        return lines


def run_verdict(results: RunResults, warnings_as_errors: bool, run_reasons: Iterable[str] = ()) -> RunVerdict:
    """The one overall verdict of a run; ``run_reasons`` say why the run itself is partial (see reports.run)."""
    verdicts = {rid: result.outcome for rid, result in results.requirements.items()}
    not_checked = tuple(rid for rid, outcome in verdicts.items() if outcome is Outcome.NOT_RUN)
    reasons = list(run_reasons)
    if not_checked:
        reasons.append(
            f"{len(not_checked)} of {len(verdicts)} requirements got no check "
            f"(deselected, skipped or never reached): {_ids(not_checked)}"
        )
    blocking = tuple(results.blocking(warnings_as_errors))
    warned = tuple(rid for rid, outcome in verdicts.items() if outcome is Outcome.WARN)
    if blocking:
        outcome = RunOutcome.FAIL
    elif reasons:
        outcome = RunOutcome.INCOMPLETE
    else:
        outcome = RunOutcome.WARN if warned else RunOutcome.PASS
    return RunVerdict(
        outcome=outcome,
        blocking=blocking,
        warned=warned,
        not_checked=not_checked,
        not_verified=tuple(rid for rid, outcome in verdicts.items() if outcome is Outcome.NOT_VERIFIED),
        incomplete_reasons=tuple(reasons),
        diagnosis=diagnose(results.answers, verdicts.get("AUTH-3") is Outcome.FAIL),
    )


def _ids(ids: Iterable[str]) -> str:
    return ", ".join(ids)
