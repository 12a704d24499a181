"""Limits that protect a live target: a request-rate cap and a success budget.

Each success on a real server creates a WeChat instance, and bursts of QR
requests can trip WeChat's risk control, so against any target but the
embedded reference server the suite paces its requests and stops sending
requests that may succeed once the success budget is spent.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


class BudgetExhausted(Exception):
    """A request that may succeed was not sent: the success budget is spent."""


@dataclass
class BudgetUsage:
    requests: int = 0
    successes: int = 0
    refused: int = 0
    """Requests not sent because the success budget was spent."""


class Budget:
    """Paces requests to ``rate_limit`` per second and caps successes at ``max_successes``.

    ``None`` means no limit (the embedded reference server).
    """

    def __init__(self, rate_limit: float | None = None, max_successes: int | None = None) -> None:
        self.rate_limit = rate_limit
        self.max_successes = max_successes
        self.usage = BudgetUsage()
        self._next_slot = 0.0
        self._lock = threading.Lock()

    def before_request(self, may_succeed: bool) -> None:
        """Wait for the next rate slot; refuse a possible success once the budget is spent."""
        with self._lock:
            if may_succeed and self.max_successes is not None and self.usage.successes >= self.max_successes:
                self.usage.refused += 1
                raise BudgetExhausted(f"success budget of {self.max_successes} spent")
            self.usage.requests += 1
            if not self.rate_limit:
                return
            now = time.monotonic()
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + 1.0 / self.rate_limit
        if wait > 0:
            time.sleep(wait)

    def after_response(self, succeeded: bool) -> None:
        if succeeded:
            with self._lock:
                self.usage.successes += 1
