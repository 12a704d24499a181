"""The package as a user gets it: built once, installed into a fresh venv (test_wheel, test_examples).

The wheel and sdist are cached by a digest of everything that goes into them,
so the tests of one session (and of later sessions, and xdist workers) build
them once; the venv is new in each session, and pip installs the
dependencies from its usual cache.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import tempfile
import venv
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD_INPUTS = ("pyproject.toml", "hatch_build.py", "README.md", "openapi.yaml")


@dataclass(frozen=True)
class Dist:
    wheel: Path
    sdist: Path


@dataclass(frozen=True)
class Installed:
    venv: Path
    wheel: Path

    @property
    def bin(self) -> Path:
        return self.venv / ("Scripts" if os.name == "nt" else "bin")

    @property
    def tool(self) -> str:
        return str(self.bin / "ipadlogin-conformance")

    def env(self, **extra: str) -> dict[str, str]:
        """An environment that sees the venv only: no source tree on the path, no inherited IPADLOGIN_* settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("IPADLOGIN_", "PYTHON", "VIRTUAL_ENV", "GITHUB_", "GITLAB"))}
        env["PATH"] = os.pathsep.join([str(self.bin), env.get("PATH", "")])
        return {**env, **extra}


def digest() -> str:
    parts = [ROOT / name for name in BUILD_INPUTS]
    parts += sorted(p for p in (ROOT / "src").rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    sha = hashlib.sha256()
    for path in parts:
        sha.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return sha.hexdigest()[:16]


def built() -> Dist:
    """``python -m build`` (sdist, then the wheel from the sdist), once per source state."""
    out = Path(tempfile.gettempdir()) / "ipadlogin-conformance-dist" / digest()
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers: one builds, the others wait
        if not list(out.glob("*.whl")):
            subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
                           check=True, capture_output=True, timeout=600)
    return Dist(next(out.glob("*.whl")), next(out.glob("*.tar.gz")))


_installed: dict[Path, Installed] = {}


def installed(base: Path) -> Installed:
    """A fresh venv under ``base`` with the wheel and its dependencies (once per process and base)."""
    if base not in _installed:
        wheel = built().wheel
        home = base / "venv"
        venv.create(home, with_pip=True, clear=True)
        result = Installed(home, wheel)
        # --no-compile: no .pyc for every file of every dependency up front (twice as fast).
        subprocess.run([str(result.bin / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--no-compile", str(wheel)], check=True, capture_output=True, timeout=900, env=result.env())
        _installed[base] = result
    return _installed[base]
