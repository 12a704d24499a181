"""The suite's options on pytest's command line, declared in every pytest run.

The plugin is a ``pytest11`` entry point, so pytest knows these options
wherever it runs; each also reads its environment variable (the table is
:data:`~.settings.OPTIONS`). A value pytest took for a test path is put right
before anything runs (:mod:`.invocation`).
"""

from __future__ import annotations

from typing import Any

import pytest

from ..core.settings import BASE_URL_ENVS, BASE_URL_OPTION, OPTIONS
from .invocation import run_again_if_mistaken


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(
        "ipadlogin",
        f"iPadLogin conformance (the target: {BASE_URL_OPTION} URL, or {', '.join(BASE_URL_ENVS)} or the ini key base_url; "
        "each option also reads the environment variable named)",
    )
    for option in OPTIONS:
        kwargs: dict[str, Any] = {
            "dest": option.dest,
            "default": None,
            "help": f"{option.help} (environment: {option.env})",
        }
        if option.is_flag:
            kwargs["action"] = "store_true"
        else:
            kwargs["metavar"] = option.metavar
        group.addoption(f"--{option.name}", **kwargs)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """Where pytest took a suite option's value for a test path, the same command with ``--opt=value`` instead."""
    return run_again_if_mistaken(config)
