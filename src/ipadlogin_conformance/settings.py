"""The run's settings: every option, its environment variable, default and check.

One table serves the pytest options and the console tool, so both accept the
same names and give the same one-line errors.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .checks.policy import Policy, Profile
from .proxies import ProxyError, proxy_for
from .redaction import MIN_SCRUBBED_LENGTH


class SettingsError(ValueError):
    """A wrong option: shown as one line, never as a traceback."""


UNLIMITED = None


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError("must be greater than 0")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError("must be 1 or more")
    return value


def _limit(text: str) -> float | None:
    """A non-negative number, or 0 / "unlimited" for no limit."""
    if text.strip().lower() in ("0", "unlimited", "none"):
        return UNLIMITED
    value = float(text)
    if value < 0:
        raise ValueError("must be 0 (no limit) or more")
    return value


def _whole_limit(text: str) -> int | None:
    value = _limit(text)
    return None if value is None else int(value)


def _flag(text: str) -> bool:
    lowered = str(text).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("must be true or false")


def _profile(text: str) -> Profile:
    try:
        return Profile(text.strip().lower())
    except ValueError:
        raise ValueError(f"must be one of {', '.join(p.value for p in Profile)}") from None


def _base_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http:// or https:// URL")
    return text.rstrip("/")


def _existing_file(text: str) -> str:
    if not Path(text).is_file():
        raise ValueError("no such file")
    return text


@dataclass(frozen=True)
class Option:
    name: str
    """The pytest and console option, without the leading dashes."""
    env: str
    parse: Callable[[str], Any]
    help: str
    default: str | None = None
    is_flag: bool = False

    @property
    def dest(self) -> str:
        return "ipadlogin_" + self.name.replace("-", "_")


OPTIONS: tuple[Option, ...] = (
    Option("auth-token", "IPADLOGIN_TOKEN", str, "Token sent in the Authorization header (never written anywhere)."),
    Option("profile", "IPADLOGIN_PROFILE", _profile, "strict (default): the page's examples are the truth; lenient: also accept its table's errata, with warnings.", "strict"),
    Option("warnings-as-errors", "IPADLOGIN_WARNINGS_AS_ERRORS", _flag, "Fail the run on SHOULD violations too.", "false", is_flag=True),
    Option("known-wcid", "IPADLOGIN_KNOWN_WCID", str, "A wcId the target knows: its re-login must succeed (REQ-7)."),
    Option("request-timeout", "IPADLOGIN_REQUEST_TIMEOUT", _positive_float, "Seconds a call may take before TIME-1 fails.", "10"),
    Option("latency-budget", "IPADLOGIN_LATENCY_BUDGET_MS", _positive_float, "p95 latency budget in milliseconds (TIME-2).", "1000"),
    Option("examples", "IPADLOGIN_EXAMPLES", _count, "Generated cases per property test.", "500"),
    Option("rate-limit", "IPADLOGIN_RATE_LIMIT", _limit, "Requests per second at most, 0 for no cap (default: 5 against a target, no cap against the embedded server)."),
    Option("success-budget", "IPADLOGIN_SUCCESS_BUDGET", _whole_limit, "Calls that may succeed at most, 0 for no cap (default: 25 against a target, no cap against the embedded server)."),
    Option("insecure", "IPADLOGIN_INSECURE", _flag, "Do not verify the target's TLS certificate.", "false", is_flag=True),
    Option("ca-bundle", "IPADLOGIN_CA_BUNDLE", _existing_file, "CA bundle (PEM) to verify the target's TLS certificate with."),
    Option("reports-dir", "IPADLOGIN_REPORTS_DIR", str, "Where reports are written.", "reports"),
    Option("no-proxy", "IPADLOGIN_NO_PROXY", _flag, "Ignore the proxy variables (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY) and connect directly.", "false", is_flag=True),
)

LIVE_TARGET_RATE_LIMIT = 5.0
LIVE_TARGET_SUCCESS_BUDGET = 25


@dataclass(frozen=True)
class Settings:
    base_url: str | None
    """None: test the embedded reference server."""
    token: str | None
    profile: Profile
    warnings_as_errors: bool
    known_wcid: str | None
    request_timeout_s: float
    latency_budget_ms: float
    examples: int
    seed: int | None
    """The Hypothesis seed of the generated cases; None: a new one each run (reported)."""
    rate_limit: float | None
    success_budget: int | None
    verify_tls: bool
    ca_bundle: str | None
    reports_dir: Path
    use_proxy_env: bool = True
    """Whether the standard proxy variables apply (see :mod:`.proxies`); --no-proxy: not."""
    proxy: str | None = None
    """The proxy the target is reached through, as shown (address and variable, never credentials); None: none."""

    @property
    def embedded(self) -> bool:
        return self.base_url is None

    @property
    def policy(self) -> Policy:
        return Policy(self.profile, self.request_timeout_s, self.latency_budget_ms)


def _raw(option: Option, given: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[Any, str | None]:
    """The option's raw value and where it came from (None: the default)."""
    value = given.get(option.dest)
    if value is not None and value is not False:
        return value, f"--{option.name}"
    if option.env in environ:
        return environ[option.env], option.env
    return option.default, None


def resolve(given: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> Settings:
    """Settings from given options (keyed by Option.dest), then the environment, then defaults."""
    values: dict[str, Any] = {}
    explicit: set[str] = set()
    for option in OPTIONS:
        raw, source = _raw(option, given, environ)
        if source is not None:
            explicit.add(option.name)
        try:
            values[option.name] = option.parse(raw) if isinstance(raw, str) else raw
        except ValueError as error:
            raise SettingsError(f"{source or option.name}={raw!r}: {error}") from None
    base_url = given.get("base_url") or environ.get("IPADLOGIN_BASE_URL") or None
    if base_url:
        try:
            base_url = _base_url(base_url)
        except ValueError as error:
            raise SettingsError(f"--base-url={base_url!r}: {error}") from None
    embedded = base_url is None
    if not embedded and not values["auth-token"]:
        raise SettingsError("a target needs a token: give --auth-token or set IPADLOGIN_TOKEN")
    if not embedded and len(values["auth-token"]) < MIN_SCRUBBED_LENGTH:
        raise SettingsError(f"the token has fewer than {MIN_SCRUBBED_LENGTH} characters: too short to be kept out of "
                            "the reports (it would stand in ordinary text); give the target's real token")
    use_proxy_env = not values["no-proxy"]
    try:
        proxy = proxy_for(base_url, environ) if use_proxy_env and not embedded else None
    except ProxyError as error:
        raise SettingsError(str(error)) from None
    seed = given.get("hypothesis_seed") or environ.get("IPADLOGIN_SEED") or None
    try:
        seed = None if seed is None else int(seed)
    except ValueError:
        raise SettingsError(f"--hypothesis-seed={seed!r}: must be a whole number") from None
    live_default = {"rate-limit": LIVE_TARGET_RATE_LIMIT, "success-budget": LIVE_TARGET_SUCCESS_BUDGET}
    for name, default in live_default.items():
        if name not in explicit:
            values[name] = UNLIMITED if embedded else default
    return Settings(
        base_url=base_url,
        token=values["auth-token"],
        profile=values["profile"],
        warnings_as_errors=values["warnings-as-errors"],
        known_wcid=values["known-wcid"],
        request_timeout_s=values["request-timeout"],
        latency_budget_ms=values["latency-budget"],
        examples=values["examples"],
        seed=seed,
        rate_limit=values["rate-limit"],
        success_budget=values["success-budget"],
        verify_tls=not values["insecure"],
        ca_bundle=values["ca-bundle"],
        reports_dir=Path(values["reports-dir"]),
        use_proxy_env=use_proxy_env,
        proxy=None if proxy is None else proxy.shown,
    )
