"""The only code that sends: the target under test, its limits (deadline, sizes, rate, budget) and its wire."""

from .budget import Budget, BudgetExhausted
from .target import Target, TargetConfig, Unreachable, require_reachable

__all__ = ["Budget", "BudgetExhausted", "Target", "TargetConfig", "Unreachable", "require_reachable"]
