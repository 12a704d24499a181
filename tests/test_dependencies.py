"""Reproducible installs: requirements.lock pins what pyproject.toml allows, and tasks.py installs from it."""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from paths import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]


def tasks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tasks", ROOT / "tasks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pins() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text("utf-8").splitlines():
        if line and not line.startswith((" ", "#")):
            requirement = Requirement(line)
            (specifier,) = requirement.specifier  # one exact pin, no extras, no URLs
            assert specifier.operator == "==" and not requirement.extras and not requirement.url, line
            found[canonicalize_name(requirement.name)] = specifier.version
    return found


def declared() -> list[Requirement]:
    every = [*PROJECT["dependencies"], *(r for extra in PROJECT["optional-dependencies"].values() for r in extra)]
    return [Requirement(r) for r in every]


def test_the_lock_pins_every_declared_dependency_within_its_range() -> None:
    locked = pins()
    assert "ipadlogin-conformance" not in locked  # the project itself is never pinned (nor a path of one machine)
    for requirement in declared():
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement} is not in requirements.lock (python3 tasks.py lock)"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"{name}=={locked[name]} is outside {requirement}"
        )


def test_the_lock_has_nothing_of_the_machine_it_was_made_on() -> None:
    text = (ROOT / "requirements.lock").read_text("utf-8")
    assert "--index-url" not in text and "--extra-index-url" not in text and "--find-links" not in text
    assert "file:" not in text and str(ROOT) not in text
    assert "    python3 tasks.py lock\n" in text  # the header names the refresh command


@pytest.mark.skipif(
    Path(sys.prefix).resolve() != (ROOT / ".venv").resolve(), reason="runs in the .venv that tasks.py installs"
)
def test_the_projects_venv_holds_the_locked_versions() -> None:
    """tasks.py installs with the lock as constraints: every locked package present has the pinned version."""
    drift = {}
    for name, pinned in pins().items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            continue
        if installed != pinned:
            drift[name] = (pinned, installed)
    assert not drift, f"installed versions differ from requirements.lock (pinned, installed): {drift}"


def test_tasks_installs_again_when_the_lock_changes(tmp_path: Path) -> None:
    digest = tasks().install_digest
    for name in ("pyproject.toml", "requirements.lock"):
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    before = digest(tmp_path)
    (tmp_path / "requirements.lock").write_text(
        (ROOT / "requirements.lock").read_text("utf-8").replace("httpx==", "httpx>="), "utf-8"
    )
    assert digest(tmp_path) != before
