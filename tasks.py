#!/usr/bin/env python3
"""The project's commands, on a fresh clone with only Python 3.11+ and pip.

    python3 tasks.py conformance [options]   the conformance job (embedded reference server unless --base-url)
    python3 tasks.py test [pytest args]      the project's own tests
    python3 tasks.py lock [pip-compile args] refresh requirements.lock (e.g. --upgrade, --upgrade-package httpx)
    python3 tasks.py release                 build the wheel and sdist into dist/ and check them (twine check)

conformance, test and release first make sure .venv exists and holds this
project with its test extras, at the versions requirements.lock pins; they
install again only when pyproject.toml or requirements.lock has changed.
lock needs only .venv's pip, to which it adds pip-tools.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
LOCK = ROOT / "requirements.lock"
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
DIST = ROOT / "dist"
EXTRAS = "test,parallel,release"
"""What the project's own tests need: their tools, pytest-xdist, build and twine."""
PIP_TOOLS = "pip-tools>=7.4,<8"
LOCK_COMMAND = "python3 tasks.py lock"
"""How requirements.lock is refreshed; pip-compile writes it into the file's header."""


def install_digest(root: Path = ROOT) -> str:
    """What the install depends on: the declared ranges and the pins."""
    sha = hashlib.sha256()
    for name in ("pyproject.toml", "requirements.lock"):
        sha.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return sha.hexdigest()[:16]


def pip(*args: str) -> None:
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args], check=True)


def ensure_venv() -> None:
    if not PYTHON.exists():
        print("tasks: creating .venv", flush=True)
        venv.create(VENV, with_pip=True)


def ensure_installed() -> None:
    """Create .venv and install the project into it from the lock, once per pyproject.toml and lock."""
    stamp = VENV / f".installed-{install_digest()}"
    if stamp.exists():
        return
    ensure_venv()
    print("tasks: installing the project and its test tools into .venv (versions from requirements.lock)", flush=True)
    pip("--constraint", str(LOCK), "-e", f"{ROOT}[{EXTRAS}]")
    for old in VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()


def lock(args: list[str]) -> int:
    """Resolve pyproject.toml's ranges (every extra) to pins, with pip's own index settings."""
    ensure_venv()
    pip("--constraint", str(LOCK), PIP_TOOLS)  # its own dependencies (build, click) stay at the pins
    command = [
        str(BIN / "pip-compile"),
        "--quiet",
        "--all-extras",
        "--strip-extras",
        # The machine's index and find-links settings are not the lock's business.
        "--no-emit-index-url",
        "--no-emit-find-links",
        "--no-emit-trusted-host",
        "--output-file",
        LOCK.name,
        *args,
        "pyproject.toml",
    ]
    return subprocess.run(command, cwd=ROOT, env={**os.environ, "CUSTOM_COMPILE_COMMAND": LOCK_COMMAND}).returncode


def release() -> int:
    """The wheel and sdist a release publishes, built as pip would build them and checked by twine."""
    ensure_installed()  # the release extra: build and twine
    for old in DIST.glob("ipadlogin_conformance-*"):
        old.unlink()
    subprocess.run([str(PYTHON), "-m", "build", "--outdir", str(DIST), str(ROOT)], check=True)
    built = sorted(str(path) for path in DIST.glob("ipadlogin_conformance-*"))
    subprocess.run([str(PYTHON), "-m", "twine", "check", "--strict", *built], check=True)
    print("tasks: built and checked\n  " + "\n  ".join(built))
    print(
        "tasks: publishing is the maintainers' step: tag v<version> and push it; `twine upload` the files above to an index"
    )
    return 0


STATIC_CHECKS = (
    ("ruff", "check", "."),  # lint (pyflakes, pycodestyle errors, import order): pyproject.toml [tool.ruff]
    ("ruff", "format", "--check", "."),  # one code style
    ("lint-imports",),  # the layers and the forbidden imports: pyproject.toml [tool.importlinter]
)


def static_checks_pass() -> bool:
    """The checks that need no test run, before the tests (the whole test command; not with pytest arguments)."""
    for tool, *args in STATIC_CHECKS:
        print(f"tasks: {tool} {' '.join(args)}", flush=True)
        if subprocess.run([str(BIN / tool), *args], cwd=ROOT).returncode != 0:
            print(f"tasks: {tool} failed (see above)", file=sys.stderr)
            return False
    return True


def main(argv: list[str]) -> int:
    commands = ("conformance", "test", "lock", "release")
    if not argv or argv[0] not in commands:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    try:
        if command == "lock":
            return lock(rest)
        if command == "release":
            return release()
        ensure_installed()
    except subprocess.CalledProcessError as error:  # pip, build or twine said why
        return error.returncode
    if command == "conformance":
        args = [str(BIN / "ipadlogin-conformance"), "run", *rest]
    elif not rest and not static_checks_pass():
        return 1
    else:
        # The plugin hides pytest's per-test failure sections in conformance runs (one block per broken
        # requirement instead); the project's own tests want their tracebacks.
        tb = [] if any(arg.startswith("--tb") for arg in rest) else ["--tb=short"]
        args = [str(PYTHON), "-m", "pytest", *tb, *rest]
    # pytest rewrites the asserts of every plugin module it loads (schemathesis,
    # hypothesis); letting Python cache the result halves each pytest start.
    environ = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    return subprocess.run(args, cwd=ROOT, env=environ).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
