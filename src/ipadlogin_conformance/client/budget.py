"""Limits that protect a live target: a request-rate cap and a success budget.

Each success on a real server creates a WeChat instance, and bursts of QR
requests can trip WeChat's risk control, so against any target but the
embedded reference server the suite paces its requests and stops sending
requests that may succeed once the success budget is spent.

The limits hold for the whole run, not per process: under pytest-xdist the
workers share one small state file (the controller creates its directory and
hands the path to each worker), locked for the few microseconds of each
update. A serial run keeps the same state in memory.
"""

from __future__ import annotations

import os
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no shared state, see SharedState
    fcntl = None  # type: ignore[assignment]


class BudgetExhausted(Exception):
    """A request that may succeed was not sent: the success budget is spent."""


@dataclass
class BudgetUsage:
    """What this process sent (tests read deltas of it; the run adds up the tests)."""

    requests: int = 0
    successes: int = 0
    refused: int = 0
    """Requests not sent because the success budget was spent."""


@dataclass
class RunState:
    """What the limits need to know about the whole run."""

    next_slot: float = 0.0
    """time.monotonic() of the next free rate slot (system-wide on Linux, macOS and Windows)."""
    successes: int = 0
    in_flight: int = 0
    """Requests that may succeed, sent and not answered yet: reserved against the budget."""


class MemoryState:
    """The run's state for one process."""

    def __init__(self) -> None:
        self._state = RunState()
        self._lock = threading.Lock()

    @contextmanager
    def locked(self) -> Iterator[RunState]:
        with self._lock:
            yield self._state


class SharedState:
    """The run's state in a file every process of the run opens, updated under an exclusive flock."""

    _FORMAT = struct.Struct("<dqq")

    def __init__(self, path: str | os.PathLike[str]) -> None:
        if fcntl is None:
            raise OSError("a budget shared between processes needs fcntl (POSIX); run without -n on this system")
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        self._lock = threading.Lock()

    @contextmanager
    def locked(self) -> Iterator[RunState]:
        with self._lock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                data = os.pread(self._fd, self._FORMAT.size, 0)
                state = RunState(*self._FORMAT.unpack(data)) if len(data) == self._FORMAT.size else RunState()
                yield state
                os.pwrite(self._fd, self._FORMAT.pack(state.next_slot, state.successes, state.in_flight), 0)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._fd)


class Budget:
    """Paces requests to ``rate_limit`` per second and caps successes at ``max_successes``.

    ``None`` means no limit (the embedded reference server). ``state_file``
    shares the limits with the other processes of the run that name the
    same file.
    """

    def __init__(
        self,
        rate_limit: float | None = None,
        max_successes: int | None = None,
        state_file: str | os.PathLike[str] | None = None,
    ) -> None:
        self.rate_limit = rate_limit
        self.max_successes = max_successes
        self.usage = BudgetUsage()
        self._usage_lock = threading.Lock()
        limited = rate_limit is not None or max_successes is not None
        self._state: MemoryState | SharedState = SharedState(state_file) if state_file and limited else MemoryState()

    def before_request(self, may_succeed: bool) -> bool:
        """Wait for the next rate slot; refuse a possible success once the budget is spent.

        Returns whether the request holds a reservation against the success
        budget; pass it back to :meth:`after_response`.
        """
        reserve = may_succeed and self.max_successes is not None
        with self._state.locked() as state:
            if reserve and state.successes + state.in_flight >= self.max_successes:
                with self._usage_lock:
                    self.usage.refused += 1
                raise BudgetExhausted(
                    f"the success budget of {self.max_successes} is spent (--success-budget protects a live target)"
                )
            state.in_flight += reserve
            wait = 0.0
            if self.rate_limit:
                now = time.monotonic()
                wait = state.next_slot - now
                state.next_slot = max(now, state.next_slot) + 1.0 / self.rate_limit
        with self._usage_lock:
            self.usage.requests += 1
        if wait > 0:
            time.sleep(wait)
        return reserve

    def after_response(self, succeeded: bool, reserved: bool = False) -> None:
        """Count a success against the budget and release the request's reservation."""
        if succeeded or reserved:
            with self._state.locked() as state:
                state.successes += succeeded
                state.in_flight -= reserved
        if succeeded:
            with self._usage_lock:
                self.usage.successes += 1

    def view(self) -> Budget:
        """The same limits (one state), with a usage count of its own: what a batch of requests sent."""
        clone = Budget.__new__(Budget)
        clone.rate_limit, clone.max_successes, clone._state = self.rate_limit, self.max_successes, self._state
        clone.usage = BudgetUsage()
        clone._usage_lock = threading.Lock()
        return clone

    def credit(self, requests: int, successes: int, refused: int) -> None:
        """Count what a view sent as this budget's usage (when the run reads it, in order: see :mod:`.concurrency`)."""
        with self._usage_lock:
            self.usage.requests += requests
            self.usage.successes += successes
            self.usage.refused += refused

    def taken(self) -> bool:
        """Whether every success of the budget is spent or reserved: a request that may succeed would be refused now."""
        if self.max_successes is None:
            return False
        with self._state.locked() as state:
            return state.successes + state.in_flight >= self.max_successes

    def close(self) -> None:
        if isinstance(self._state, SharedState):
            self._state.close()
