"""The suite runner measures the child's own memory, not the test runner's it was forked from."""

from __future__ import annotations

from tools.subprocess_run import run_suite

BALLAST_MB = 350


def test_peak_rss_is_the_childs_own_not_the_parents() -> None:
    ballast = bytearray(BALLAST_MB * 1024 * 1024)
    for offset in range(0, len(ballast), 4096):  # touch every page: resident, not just reserved
        ballast[offset] = 1
    run = run_suite(["--version"], kill_after_s=60)
    assert run.returncode == 0, run.tail()
    assert 0 < run.maxrss_mb < BALLAST_MB / 2, f"{run.maxrss_mb:.0f} MB for `pytest --version`"
    del ballast
