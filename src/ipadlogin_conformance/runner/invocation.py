"""What a pytest invocation asks of the suite, read the way the user meant it.

The plugin is installed for every pytest run (a ``pytest11`` entry point), so
it must first tell whether the run collects the suite at all
(:func:`suite_selected`); if not, it does nothing. Then two traps of the
command line:

- pytest finds its rootdir and ini file before it loads any plugin, so in
  ``pytest --ca-bundle /etc/ssl/corp.pem`` it takes the existing path for a
  test path and roots the session at /etc/ssl, without the project's ini
  (pytest's docs, "Finding the rootdir"). :func:`run_again_if_mistaken` runs
  such a command again with ``--opt=value``, which means the same and cannot
  be mistaken, before anything has run.
- pytest-base-url makes $PYTEST_BASE_URL the default of ``--base-url`` and
  keeps its ini key ``base_url`` apart: :func:`typed_base_url` and
  :func:`ini_base_url` give each source as given, so that
  :func:`.settings.resolve` can name the one used and refuse two that disagree.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
from collections.abc import Sequence
from pathlib import Path

import pytest

from ..core.settings import BASE_URL_OPTION, OPTIONS

VALUE_OPTIONS = (
    *(f"--{option.name}" for option in OPTIONS if not option.is_flag),
    BASE_URL_OPTION,
    "--hypothesis-seed",
)
"""The suite's options that take a value (--base-url is pytest-base-url's, --hypothesis-seed Hypothesis's)."""


def suite_selected(config: pytest.Config, suite_dir: Path) -> bool:
    """Whether a path given to pytest (or a --pyargs module) holds the conformance tests, or lies above them."""
    suite = suite_dir.resolve()
    for arg in config.args:
        path = _path_of(config, str(arg).split("::")[0])
        if path is not None and (path == suite or suite in path.parents or path in suite.parents):
            return True
    return False


def _path_of(config: pytest.Config, arg: str) -> Path | None:
    """Where an argument points: a path, or with --pyargs a module's file or package directory."""
    path = (config.invocation_params.dir / arg).resolve()
    if path.exists() or not config.option.pyargs:
        return path
    try:
        spec = importlib.util.find_spec(arg)
    except (ImportError, ValueError):
        return None
    locations = (
        [] if spec is None else [*(spec.submodule_search_locations or []), *([spec.origin] if spec.origin else [])]
    )
    return Path(locations[0]).resolve() if locations else None


def run_again_if_mistaken(config: pytest.Config) -> int | None:
    """The exit status of the same command with ``--opt=value`` where a value was taken for a test path; else None.

    Called from ``pytest_cmdline_main``, before any plugin is configured: the
    first session has done nothing yet. PYTEST_ADDOPTS is rewritten the same
    way for the second one (pytest reads it before the rootdir too).
    """
    if hasattr(config, "workerinput"):  # an xdist worker gets the controller's arguments, already joined
        return None
    args = [str(arg) for arg in config.invocation_params.args]
    addopts = shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))
    if not (mistaken_for_paths(args) or mistaken_for_paths(addopts)):
        return None
    saved = os.environ.get("PYTEST_ADDOPTS")
    if addopts:
        os.environ["PYTEST_ADDOPTS"] = shlex.join(joined(addopts))
    try:
        return int(pytest.main(joined(args), plugins=list(config.invocation_params.plugins or ())))
    finally:
        if saved is not None:
            os.environ["PYTEST_ADDOPTS"] = saved


def joined(args: Sequence[str]) -> list[str]:
    """``args`` with every ``--opt value`` of :data:`VALUE_OPTIONS` written ``--opt=value`` (up to a ``--``)."""
    result: list[str] = []
    rest = iter(args)
    for arg in rest:
        if arg == "--":
            result += [arg, *rest]
        elif arg in VALUE_OPTIONS:
            value = next(rest, None)
            result.append(arg if value is None else f"{arg}={value}")
        else:
            result.append(arg)
    return result


def mistaken_for_paths(args: Sequence[str]) -> bool:
    """Whether a value of :data:`VALUE_OPTIONS` stands apart from its option and names an existing path."""
    for option, value in zip(args, args[1:]):
        if option == "--":
            return False
        if option in VALUE_OPTIONS and os.path.exists(value):
            return True
    return False


def typed_base_url(config: pytest.Config) -> str | None:
    """--base-url as given on the command line.

    pytest-base-url defaults its option to $PYTEST_BASE_URL, which is a source
    of its own: the same value counts as typed only where --base-url was typed.
    """
    value = getattr(config.option, "base_url", None) or None
    if value is None or value != os.environ.get("PYTEST_BASE_URL"):
        return value
    typed = any(
        arg == BASE_URL_OPTION or str(arg).startswith(BASE_URL_OPTION + "=") for arg in config.invocation_params.args
    )
    return value if typed else None


def ini_base_url(config: pytest.Config) -> tuple[str, str] | None:
    """pytest-base-url's ini key ``base_url`` as (where it was read, value); None when not set."""
    try:
        value = config.getini("base_url")
    except ValueError:  # pytest-base-url not loaded (-p no:base_url): the key is unknown
        return None
    if not value:
        return None
    overridden = any(item.startswith("base_url=") for item in config.option.override_ini or ())
    return ("-o base_url" if overridden else f"base_url in {config.inipath}"), str(value)
