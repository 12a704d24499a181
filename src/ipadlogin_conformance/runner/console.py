"""What every command of the console tool shares: the suite's options as arguments, one-line usage errors, Hypothesis's storage.

``cli`` and ``compare`` both build on it, so both read the one table of
options (:data:`..core.settings.OPTIONS`) the same way.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from ..core.settings import OPTIONS


class UsageError(Exception):
    """Shown as one line; exit status 4."""


def add_run_arguments(
    parser: argparse.ArgumentParser,
    only: Sequence[str] | None = None,
    defaults: dict[str, str] | None = None,
    *,
    environment: bool | None = None,
) -> argparse.ArgumentParser:
    """The suite's options, from the one table (:data:`.settings.OPTIONS`).

    ``only`` restricts them by name; ``defaults`` replaces the defaults shown (a replay records its own);
    ``environment`` says whether the options read their environment variables (default: unless ``defaults``).
    """
    for option in OPTIONS:
        if only is not None and option.name not in only:
            continue
        shown = (defaults or {}).get(option.name, option.default)
        default = f" (default: {shown})" if shown and not option.is_flag else ""
        reads_environment = defaults is None if environment is None else environment
        env = f" [${option.env}]" if reads_environment else ""
        kwargs: dict[str, Any] = {"dest": option.dest, "help": f"{option.help}{default}{env}"}
        if option.is_flag:
            kwargs["action"] = "store_true"
        else:
            kwargs["metavar"] = option.metavar
        parser.add_argument(f"--{option.name}", **kwargs)
    return parser


def user_cache_dir() -> Path:
    """The tool's folder in the user's cache directory (XDG on Linux, as pip's)."""
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "ipadlogin-conformance"


@contextmanager
def hypothesis_storage() -> Iterator[None]:
    """Hypothesis's storage in the user's cache directory while the tool runs, not in the working one.

    The tool runs in the user's directory and leaves only its reports there. Hypothesis
    keeps no examples (no database), but it caches what it derives once, above all the
    Unicode tables, whose first computation peaks at about 150 MB: a fresh folder per run
    made every run pay it. A HYPOTHESIS_STORAGE_DIRECTORY of the user's is left alone.
    """
    if "HYPOTHESIS_STORAGE_DIRECTORY" in os.environ:
        yield
        return
    with ExitStack() as stack:
        storage = user_cache_dir() / "hypothesis"
        try:
            storage.mkdir(parents=True, exist_ok=True)
        except OSError:  # no writable home (some CI containers): a temporary folder, cold at every run
            storage = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ipadlogin-hypothesis-")))
        os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = str(storage)
        try:
            yield
        finally:
            del os.environ["HYPOTHESIS_STORAGE_DIRECTORY"]
