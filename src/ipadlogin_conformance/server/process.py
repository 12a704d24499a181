"""Start the reference server in a subprocess, for tests and the console tool.

A subprocess, not a thread: the suite's own process is CPU-bound (Hypothesis)
and must not share its GIL with the server. The child binds port 0, prints one
ready line with its URL, and exits when its stdin closes, so it never outlives
the parent even when the parent is killed.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

from .config import DEFAULT_DEV_TOKEN, TOKEN_ENV, check_faults, check_token

_READY_RE = re.compile(r"ready at (\S+)")
_SRC_ROOT = str(Path(__file__).resolve().parents[2])  # the directory holding ipadlogin_conformance


@dataclass
class RunningServer:
    """A reference server subprocess; ``url`` has no trailing slash."""

    url: str
    process: subprocess.Popen[bytes]
    faults: tuple[str, ...] = ()
    _stderr: IO[bytes] | None = field(default=None, repr=False)
    _reader: threading.Thread | None = field(default=None, repr=False)

    def stop(self, timeout: float = 5.0) -> int | None:
        """Terminate, wait, kill on timeout; idempotent. Returns the exit code."""
        proc = self.process
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if self._reader is not None:
            self._reader.join(timeout)  # it ends at the child's EOF; closing under it would raise
        for stream in (proc.stdin, proc.stdout, self._stderr):
            if stream is not None and not stream.closed:
                stream.close()
        return proc.returncode

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _drain(stdout: IO[bytes], ready: queue.Queue[str | None]) -> None:
    """Hand the first ready URL to the parent, then keep the pipe empty."""
    announced = False
    try:
        for line in stdout:
            if not announced and (match := _READY_RE.search(line.decode(errors="replace"))):
                ready.put(match.group(1))
                announced = True
    except (OSError, ValueError):  # the pipe was closed under us: the server is gone
        pass
    if not announced:
        ready.put(None)


def start_reference_server(
    token: str = DEFAULT_DEV_TOKEN,
    faults: Iterable[str] = (),
    host: str = "127.0.0.1",
    *,
    port: int = 0,
    log: str | os.PathLike[str] | None = None,
    ready_timeout: float = 20.0,
) -> RunningServer:
    """Start ``python -m ipadlogin_conformance.server`` and wait for it to listen.

    The token travels in the child's environment, never on its command line.
    ``log`` appends the per-request log to a file; without it the access log
    is off (a busy suite would only fill a pipe).
    """
    names = check_faults(faults)  # here: a clear error beats a child that exits
    check_token(token)
    cmd = [sys.executable, "-m", "ipadlogin_conformance.server", "--host", host, "--port", str(port)]
    cmd += ["--stop-on-stdin-eof", *(arg for n in names for arg in ("--fault", n))]
    if log is None:
        cmd.append("--no-access-log")
    env = {**os.environ, TOKEN_ENV: token}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_SRC_ROOT, env.get("PYTHONPATH")) if p)
    stderr: IO[bytes] = open(log, "ab") if log is not None else tempfile.TemporaryFile()  # noqa: SIM115
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env)
    assert proc.stdout is not None
    ready: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_drain, args=(proc.stdout, ready), daemon=True, name="ipadlogin-server-stdout")
    reader.start()
    server = RunningServer("", proc, names, stderr, reader)
    try:
        url = ready.get(timeout=ready_timeout)
    except queue.Empty:
        url = None
    if url is None:
        exited = proc.poll()
        proc.kill()
        proc.wait()
        why = _tail(stderr, log)
        server.stop()
        when = f"exit code {exited}" if exited is not None else f"no ready line within {ready_timeout:g} s"
        raise RuntimeError(f"reference server did not start ({when}): {why}")
    server.url = url
    return server


def _tail(stderr: IO[bytes], log: str | os.PathLike[str] | None) -> str:
    """Last lines of the child's stderr, for the error message."""
    try:
        if log is not None:
            data = Path(log).read_bytes()
        else:
            stderr.seek(0)
            data = stderr.read()
    except (OSError, ValueError):
        return "(no output)"
    return data.decode(errors="replace").strip()[-2000:] or "(no output)"
