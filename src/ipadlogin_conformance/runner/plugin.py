"""The pytest plugin (the ``pytest11`` entry point): options, the target, verdict collection, the requirement table.

Tests send through the ``target`` fixture and hand each exchange to the
``judge`` fixture; they never assert themselves. The judge records findings
on the test's :class:`~.results.TestRecord`; after the test, a MUST failure
(or, with --warnings-as-errors, a SHOULD one) fails it with the evidence.
Records travel on the test reports, so the controller of an xdist run sees
every finding and the verdicts do not depend on how the run was split.

Installed as a ``pytest11`` entry point, it declares its options in every
pytest run but does nothing else unless the run collects the suite's tests
(:mod:`.invocation` reads the command line).

The hooks and fixtures live in modules of one idea each: :mod:`.options`,
:mod:`.session`, :mod:`.fixtures` (and :mod:`.prefetch`'s), :mod:`.recorder`,
:mod:`.terminal`; their shared keys in :mod:`.keys`. This module only gathers
them, so that pytest registers one plugin under this one name however it is
loaded (the entry point, conftest.py's ``pytest_plugins``, the console tool's
``plugins=``, an xdist worker's ``-p``): the same hooks in the same order as
one module, and ``-p no:`` blocks all of them. The sub-modules are not plugins
of their own; registering one as well would run its hooks twice.
"""

from __future__ import annotations

from .fixtures import ipadlogin_settings, judge, target
from .options import pytest_addoption, pytest_cmdline_main
from .prefetch import ipadlogin_ahead, send_later, sent_ahead
from .recorder import pytest_runtest_call, pytest_runtest_makereport
from .session import (
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_configure_node,
    pytest_ignore_collect,
    pytest_sessionfinish,
    pytest_unconfigure,
)
from .terminal import pytest_report_header

__all__ = [
    # options.py
    "pytest_addoption",
    "pytest_cmdline_main",
    # session.py
    "pytest_configure",
    "pytest_unconfigure",
    "pytest_sessionfinish",
    "pytest_configure_node",
    "pytest_ignore_collect",
    "pytest_collection_modifyitems",
    # fixtures.py, prefetch.py
    "ipadlogin_settings",
    "target",
    "judge",
    "ipadlogin_ahead",
    "sent_ahead",
    "send_later",
    # recorder.py
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    # terminal.py
    "pytest_report_header",
]
