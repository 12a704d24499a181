"""The keys the plugin's modules share, in one place: what they leave on pytest's objects for each other.

The plugin is split by idea (:mod:`.session`, :mod:`.fixtures`, :mod:`.recorder`,
:mod:`.terminal`), and they pass the run's state through pytest rather than
through each other: the settings and results on the config's stash, a test's
record and progress on its item's stash, the record on its reports, the seed in
xdist's workerinput. A module needs a key, not the module that sets it.
"""

from __future__ import annotations

import pytest

from ..core.settings import Settings
from ..results.records import RunResults, TestRecord
from .progress import WorkProgress

SETTINGS = pytest.StashKey[Settings]()
"""On the config: the run's settings; absent when the plugin is inert (the suite is not collected)."""
RESULTS = pytest.StashKey[RunResults]()
"""On the config: the run's results, merged from the tests' records (on the controller)."""
HEADER = pytest.StashKey[list[str]]()
"""On the config: the lines before any test runs (the target, where it came from)."""
RECORD = pytest.StashKey[TestRecord]()
"""On a test item: its record, which the ``judge`` fixture fills."""
PROGRESS = pytest.StashKey[WorkProgress]()
"""On a test item: how a long test is getting on."""
REPORT_ATTRIBUTE = "ipadlogin_record"
"""The test report's attribute carrying its record (to the controller, also from an xdist worker)."""
RUN_SEED = "ipadlogin_run_seed"
"""The xdist workerinput key carrying the run's Hypothesis seed."""
