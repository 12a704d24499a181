"""pytest-xdist: what the controller hands its workers so the run keeps one set of limits.

The rate cap and the success budget protect a live target for the whole run:
the controller creates a private directory for the shared budget state
(:class:`~.budget.SharedState`) and gives every worker its path; it removes
the directory when the run ends.

:func:`workers` counts the workers a run starts: each sends requests of its
own, so their latencies are measured with others in flight (the cassette says
how many, for compare).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

BUDGET_STATE = "ipadlogin_budget_state"
"""The workerinput key holding the state file's path."""


class SharedBudgetDir:
    """Registered on the controller of a run with limits; the hook only fires under xdist."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="ipadlogin-budget-"))

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[BUDGET_STATE] = str(self.path / "state")

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def budget_state_file(config: pytest.Config) -> str | None:
    """The shared state file on an xdist worker; None in a serial run (the state stays in memory)."""
    return getattr(config, "workerinput", {}).get(BUDGET_STATE)


def workers(config: pytest.Config) -> int:
    """xdist workers this run starts (``-n N``, ``--tx [N*]spec``); 1 in a serial run."""
    if getattr(config.option, "dist", "no") == "no":
        return 1
    count = 0
    for spec in getattr(config.option, "tx", None) or ():
        times, star, _ = str(spec).partition("*")
        count += int(times) if star and times.isdigit() else 1
    return max(count, 1)
