"""Loads the suite's pytest plugin, so a clone runs with plain `pytest`.

The conformance tests live in the package (src/ipadlogin_conformance/suite),
so the installed console tool runs the very same tests without a checkout.
"""

pytest_plugins = ["ipadlogin_conformance.plugin"]
