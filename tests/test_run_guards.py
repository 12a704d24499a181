"""What keeps a run's own files whole: one run per reports dir, SIGTERM handled as Ctrl-C, strict JSON, no short token."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from ipadlogin_conformance.core.settings import SettingsError, resolve
from ipadlogin_conformance.core.strict_json import dumps
from ipadlogin_conformance.reports import ReportsDirError, lock_reports_dir
from ipadlogin_conformance.runner.interrupts import SignalGuard


def test_a_reports_dir_is_taken_by_one_run_at_a_time(tmp_path: Path) -> None:
    first = lock_reports_dir(tmp_path)
    with pytest.raises(ReportsDirError, match=rf"in use by another run \(pid {os.getpid()}\)"):
        lock_reports_dir(tmp_path)
    first.release()
    lock_reports_dir(tmp_path).release()


def test_sigterm_raises_keyboard_interrupt_and_reports_are_written_without_interruption() -> None:
    guard = SignalGuard()
    before = signal.getsignal(signal.SIGTERM)
    guard.install()
    try:
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs as soon as os.kill returns
        with guard.held_off():
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGINT)
    finally:
        guard.restore()
    assert signal.getsignal(signal.SIGTERM) == before


def test_non_finite_numbers_become_null() -> None:
    text = dumps({"rate": float("nan"), "values": [1.5, float("inf")], "nested": {"x": -float("inf")}})
    assert json.loads(text, parse_constant=lambda constant: pytest.fail(constant)) == {
        "rate": None,
        "values": [1.5, None],
        "nested": {"x": None},
    }


def test_a_token_too_short_to_scrub_is_refused_for_a_target_only() -> None:
    with pytest.raises(SettingsError, match="fewer than 8 characters"):
        resolve({"base_url": "https://staging.example.com", "ipadlogin_auth_token": "abc1234"}, {})
    assert resolve({"ipadlogin_auth_token": "T"}, {}).token == "T"  # the embedded server: nothing to protect
