"""The reference server: a faithful ``POST /iPadLogin`` and a catalog of faults.

It imports nothing from the rest of the package: the checks judge the server,
and neither may hide the other's mistakes. Names load lazily so that a test
process that only starts the server as a subprocess does not import Starlette.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .config import DEFAULT_DEV_TOKEN, TOKEN_ENV, ServerConfig

if TYPE_CHECKING:
    from .app import create_app
    from .faults import CATALOG, FAULTS, VARIATIONS, Fault
    from .process import RunningServer, start_reference_server

_LAZY = {
    "create_app": "app",
    "CATALOG": "faults",
    "FAULTS": "faults",
    "VARIATIONS": "faults",
    "Fault": "faults",
    "RunningServer": "process",
    "start_reference_server": "process",
}

__all__ = [
    "DEFAULT_DEV_TOKEN",
    "TOKEN_ENV",
    "ServerConfig",
    "create_app",
    "CATALOG",
    "FAULTS",
    "VARIATIONS",
    "Fault",
    "RunningServer",
    "start_reference_server",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
