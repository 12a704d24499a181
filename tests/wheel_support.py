"""The package as a user gets it: built once, installed into a fresh venv (test_wheel, test_examples).

The wheel and sdist are cached by a digest of everything that goes into them,
so the tests of one session (and of later sessions, and xdist workers) build
them once; the venv is new in each session, and pip installs the
dependencies from its usual cache. The README's install line names a release
tag of the repository; :func:`git_release` makes the working tree such a
repository on this machine, where the real one cannot be reached.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from dataclasses import dataclass
from pathlib import Path

from paths import ROOT

BUILD_INPUTS = ("pyproject.toml", "hatch_build.py", "README.md", "LICENSE", "openapi.yaml")


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

    @property
    def cache(self) -> Path:
        """The user's cache directory as the tool sees it (XDG_CACHE_HOME): inside the venv, not the real home."""
        return self.venv / "cache"

    def env(self, **extra: str) -> dict[str, str]:
        """An environment that sees the venv only: no source tree on the path, no inherited IPADLOGIN_* settings."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("IPADLOGIN_", "PYTHON", "VIRTUAL_ENV", "GITHUB_", "GITLAB", "HYPOTHESIS_"))
        }
        env["PATH"] = os.pathsep.join([str(self.bin), env.get("PATH", "")])
        env["XDG_CACHE_HOME"] = str(self.cache)
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
            subprocess.run(
                [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
                check=True,
                capture_output=True,
                timeout=600,
            )
    return Dist(next(out.glob("*.whl")), next(out.glob("*.tar.gz")))


_installed: dict[Path, Installed] = {}


def bare(home: Path) -> Installed:
    """A fresh venv with nothing but pip: what a CI job starts from."""
    venv.create(home, with_pip=True, clear=True)
    return Installed(home, built().wheel)


def installed(base: Path) -> Installed:
    """A fresh venv under ``base`` with the wheel and its dependencies (once per process and base)."""
    if base not in _installed:
        result = bare(base / "venv")
        # --no-compile: no .pyc for every file of every dependency up front (twice as fast).
        subprocess.run(
            [
                str(result.bin / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-compile",
                str(result.wheel),
            ],
            check=True,
            capture_output=True,
            timeout=900,
            env=result.env(),
        )
        _installed[base] = result
    return _installed[base]


def git_release(base: Path, tag: str) -> Path:
    """The working tree (committed or not, ignored files left out) as a git repository with a release tag."""
    repo = base / "repository"
    if not repo.exists():
        listed = (
            subprocess.run(
                ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                cwd=ROOT,
                capture_output=True,
                check=True,
            )
            .stdout.decode()
            .split("\0")
        )
        for name in filter(None, listed):
            source = ROOT / name
            if source.exists() or source.is_symlink():  # a file deleted but not yet committed is left out
                (repo / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, repo / name, follow_symlinks=False)  # the spec's link stays a link
        git = ["git", "-C", str(repo), "-c", "user.name=release test", "-c", "user.email=release@test.invalid"]
        subprocess.run(["git", "init", "--quiet", str(repo)], check=True)
        for step in (["add", "--all"], ["commit", "--quiet", "--message", "release"], ["tag", tag]):
            subprocess.run([*git, *step], check=True, capture_output=True)
    return repo
