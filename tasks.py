#!/usr/bin/env python3
"""The two commands of the README, on a fresh clone with only Python 3.11+ and pip.

    python3 tasks.py conformance [options]   the conformance job (embedded reference server unless --base-url)
    python3 tasks.py test [pytest args]      the project's own tests

Each first makes sure .venv exists and holds this project with its test
extras; it installs again only when pyproject.toml has changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"


def ensure_installed() -> None:
    """Create .venv and install the project into it, once per pyproject.toml version."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = VENV / f".installed-{digest}"
    if stamp.exists():
        return
    if not PYTHON.exists():
        print("tasks: creating .venv", flush=True)
        venv.create(VENV, with_pip=True)
    print("tasks: installing the project and its test tools into .venv", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
    for old in VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("conformance", "test"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    ensure_installed()
    command, rest = argv[0], argv[1:]
    if command == "conformance":
        args = [str(BIN / "ipadlogin-conformance"), "run", *rest]
    else:
        args = [str(PYTHON), "-m", "pytest", *rest]
    # pytest rewrites the asserts of every plugin module it loads (schemathesis,
    # hypothesis); letting Python cache the result halves each pytest start.
    environ = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    return subprocess.run(args, cwd=ROOT, env=environ).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
