"""Configuration of the reference server: who may log in and which faults are on.

Kept apart from the app so the console tool, the subprocess launcher and the
tests build the same object the same way.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: Public, well-known token for local runs; never a secret (it is in the docs).
DEFAULT_DEV_TOKEN = "ipadlogin-dev-token"
#: Environment variable that sets the token for ``serve`` (keeps it out of ``ps``).
TOKEN_ENV = "IPADLOGIN_TOKEN"
#: Largest request body read (REQ-8); a bigger one gets a failure envelope.
MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class ServerConfig:
    """What one reference server instance accepts and how it misbehaves.

    ``tokens`` are compared exactly (the API sends the raw token, no ``Bearer``).
    ``faults`` are names from :data:`ipadlogin_conformance.server.faults.CATALOG`,
    applied in order. ``access_log`` writes one line per request to stderr.
    """

    tokens: tuple[str, ...] = (DEFAULT_DEV_TOKEN,)
    faults: tuple[str, ...] = ()
    access_log: bool = True

    def __post_init__(self) -> None:
        if not self.tokens:
            raise ValueError("a server needs a token")
        for token in self.tokens:
            check_token(token)
        check_faults(self.faults)

    @classmethod
    def from_env(
        cls,
        tokens: Iterable[str] = (),
        faults: Iterable[str] = (),
        *,
        access_log: bool = True,
        environ: Mapping[str, str] | None = None,
    ) -> ServerConfig:
        """Tokens given explicitly win, then ``$IPADLOGIN_TOKEN``, then the dev token."""
        env = os.environ if environ is None else environ
        chosen = tuple(tokens) or ((env[TOKEN_ENV],) if env.get(TOKEN_ENV) else (DEFAULT_DEV_TOKEN,))
        return cls(tokens=chosen, faults=tuple(faults), access_log=access_log)

    @property
    def uses_dev_token(self) -> bool:
        return DEFAULT_DEV_TOKEN in self.tokens


def check_token(token: str) -> str:
    """The one rule for a server token (config, ``serve --token``, the embedded server); ValueError if broken.

    An empty token would make an empty Authorization header valid (AUTH-2).
    """
    if not token or token != token.strip():
        raise ValueError("a token must be non-empty, without surrounding spaces")
    return token


def check_faults(names: Iterable[str]) -> tuple[str, ...]:
    """Fault names from the catalog, or ValueError naming the unknown ones (the one check for every entry point)."""
    from .faults import CATALOG  # local: faults imports nothing from here at import time

    names = tuple(names)
    unknown = [name for name in names if name not in CATALOG]
    if unknown:
        raise ValueError(f"unknown fault(s): {', '.join(unknown)} (see --list-faults)")
    return names
