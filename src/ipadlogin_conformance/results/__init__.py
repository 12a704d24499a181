"""What the checks found, added up: per test, per requirement, and the run's one overall verdict."""

from .judgement import judge_into, judge_labeled, label_login, label_other_method, label_qr
from .overall import RunOutcome, RunVerdict, run_verdict
from .records import RunResults, TestRecord

__all__ = [
    "RunOutcome",
    "RunResults",
    "RunVerdict",
    "TestRecord",
    "judge_into",
    "judge_labeled",
    "label_login",
    "label_other_method",
    "label_qr",
    "run_verdict",
]
