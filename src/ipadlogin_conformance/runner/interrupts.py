"""SIGTERM ends a run the way Ctrl-C does, and no signal cuts the reports short.

CI runners and ``timeout`` stop a job with SIGTERM, whose default action
ends the process on the spot: no report, half a cassette. While the suite
runs, SIGTERM raises KeyboardInterrupt in the main thread instead, which
pytest handles as Ctrl-C: the session finishes, and the reports are written
and marked incomplete. While they are written, SIGINT and SIGTERM are
ignored, so a second signal (an impatient Ctrl-C) cannot leave half a file.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

HELD_OFF = (signal.SIGINT, signal.SIGTERM)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"stopped by signal {signal.Signals(signum).name}")


class SignalGuard:
    """Installs the SIGTERM handler for a run and restores what was there before."""

    def __init__(self) -> None:
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        """SIGTERM → KeyboardInterrupt (signals can only be handled in the main thread; elsewhere, nothing changes)."""
        if threading.current_thread() is threading.main_thread() and not self._previous:
            self._previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, _interrupt)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    @contextmanager
    def held_off(self) -> Iterator[None]:
        """SIGINT and SIGTERM ignored meanwhile (the run is ending anyway); then what was there before."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        before = {signum: signal.signal(signum, signal.SIG_IGN) for signum in HELD_OFF}
        try:
            yield
        finally:
            for signum, handler in before.items():
                signal.signal(signum, handler)


SIGNALS = SignalGuard()
"""The run's one guard: the plugin's session installs and restores it; the reports are written while it holds off."""
