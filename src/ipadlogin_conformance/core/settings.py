"""The run's settings: every option, its environment variable, default and check.

One table serves the pytest options and the console tool, so both accept the
same names and give the same one-line errors.
"""

from __future__ import annotations

import math
import os
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .policy import Policy, Profile
from .proxies import ProxyError, proxy_for
from .redaction import MIN_SCRUBBED_LENGTH


class SettingsError(ValueError):
    """A wrong option: shown as one line, never as a traceback."""


UNLIMITED = None


def _number(text: str, wanted: str) -> float:
    """A finite number, else ``wanted`` (what the option takes) as the error: ``inf`` and ``nan``
    parse as floats but mean nothing as a timeout or a rate (``nan`` would turn a cap off)."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(wanted) from None
    if not math.isfinite(value):
        raise ValueError(wanted)
    return value


def _whole(text: str, wanted: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(wanted) from None


MAX_SECONDS = 86400
"""A day: longer timeouts overflow the platform's socket and timer limits."""
MIN_RATE = 0.01
"""One request every 100 s: a slower pace would sleep past the platform's timer limits."""


def _seconds(text: str) -> float:
    wanted = f"must be a number of seconds, greater than 0 and at most {MAX_SECONDS}"
    value = _number(text, wanted)
    if not 0 < value <= MAX_SECONDS:
        raise ValueError(wanted)
    return value


def _positive_float(text: str) -> float:
    wanted = "must be a number greater than 0"
    value = _number(text, wanted)
    if not value > 0:
        raise ValueError(wanted)
    return value


def _count(text: str) -> int:
    wanted = "must be a whole number, 1 or more"
    value = _whole(text, wanted)
    if value < 1:
        raise ValueError(wanted)
    return value


MAX_CONCURRENCY = 32
"""Requests in flight at most: more buys nothing under a rate cap and only piles up timeouts on a stalled host."""


def _concurrency(text: str) -> int:
    wanted = f"must be a whole number from 1 to {MAX_CONCURRENCY}"
    value = _whole(text, wanted)
    if not 1 <= value <= MAX_CONCURRENCY:
        raise ValueError(wanted)
    return value


def _is_unlimited(text: str) -> bool:
    return text.strip().lower() in ("0", "unlimited", "none")


def _rate(text: str) -> float | None:
    """Requests per second, or 0 / "unlimited" for no cap."""
    if _is_unlimited(text):
        return UNLIMITED
    wanted = f"must be a number of requests per second, {MIN_RATE:g} or more, or 0 for no cap"
    value = _number(text, wanted)
    if value < MIN_RATE:
        raise ValueError(wanted)
    return value


def _whole_limit(text: str) -> int | None:
    if _is_unlimited(text):
        return UNLIMITED
    wanted = "must be a whole number, or 0 for no cap"
    value = _whole(text, wanted)
    if value < 0:
        raise ValueError(wanted)
    return value


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


def _ca_bundle(text: str) -> str:
    """A file of PEM certificates, checked now: a wrong one would otherwise fail every test at its first request."""
    if not Path(text).is_file():
        raise ValueError("no such file")
    try:
        ssl.create_default_context(cafile=text)
    except (ssl.SSLError, OSError, ValueError):
        raise ValueError("not a readable CA bundle of PEM certificates") from None
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
    metavar: str = "VALUE"
    """What the value is, as --help shows it (argparse would show the dest, which looks like an environment variable)."""

    @property
    def dest(self) -> str:
        return "ipadlogin_" + self.name.replace("-", "_")


OPTIONS: tuple[Option, ...] = (
    Option(
        "auth-token",
        "IPADLOGIN_TOKEN",
        str,
        "Token sent in the Authorization header (never written anywhere).",
        metavar="TOKEN",
    ),
    Option(
        "profile",
        "IPADLOGIN_PROFILE",
        _profile,
        "strict (default): the page's examples are the truth; lenient: also accept its table's errata, with warnings.",
        "strict",
        metavar="PROFILE",
    ),
    Option(
        "warnings-as-errors",
        "IPADLOGIN_WARNINGS_AS_ERRORS",
        _flag,
        "Fail the run on SHOULD violations too.",
        "false",
        is_flag=True,
    ),
    Option(
        "require-complete",
        "IPADLOGIN_REQUIRE_COMPLETE",
        _flag,
        "Exit 1 when the run is incomplete (a requirement got no check, or the run was cut short), as a CI gate wants.",
        "false",
        is_flag=True,
    ),
    Option(
        "known-wcid",
        "IPADLOGIN_KNOWN_WCID",
        str,
        "A wcId the target knows: its re-login must succeed (REQ-7).",
        metavar="WCID",
    ),
    Option(
        "request-timeout",
        "IPADLOGIN_REQUEST_TIMEOUT",
        _seconds,
        "Seconds a call may take before TIME-1 fails.",
        "10",
        metavar="SECONDS",
    ),
    Option(
        "latency-budget",
        "IPADLOGIN_LATENCY_BUDGET_MS",
        _positive_float,
        "p95 latency budget in milliseconds (TIME-2).",
        "1000",
        metavar="MS",
    ),
    Option(
        "examples",
        "IPADLOGIN_EXAMPLES",
        _count,
        "Generated cases per property test (default: 500 against the embedded server; 300 against a target, where alike cases are sent once).",
        metavar="N",
    ),
    Option(
        "concurrency",
        "IPADLOGIN_CONCURRENCY",
        _concurrency,
        f"Requests in flight at most, 1 to {MAX_CONCURRENCY}, within the rate cap and the success budget (default: 8 against a target, 1 against the embedded server).",
        metavar="N",
    ),
    Option(
        "rate-limit",
        "IPADLOGIN_RATE_LIMIT",
        _rate,
        "Requests per second at most, 0 for no cap (default: 5 against a target, no cap against the embedded server).",
        metavar="PER_SECOND",
    ),
    Option(
        "success-budget",
        "IPADLOGIN_SUCCESS_BUDGET",
        _whole_limit,
        "Calls that may succeed at most, 0 for no cap (default: 25 against a target, no cap against the embedded server).",
        metavar="N",
    ),
    Option(
        "insecure", "IPADLOGIN_INSECURE", _flag, "Do not verify the target's TLS certificate.", "false", is_flag=True
    ),
    Option(
        "ca-bundle",
        "IPADLOGIN_CA_BUNDLE",
        _ca_bundle,
        "CA bundle (PEM) to verify the target's TLS certificate with.",
        metavar="FILE",
    ),
    Option("reports-dir", "IPADLOGIN_REPORTS_DIR", str, "Where reports are written.", "reports", metavar="DIR"),
    Option(
        "no-proxy",
        "IPADLOGIN_NO_PROXY",
        _flag,
        "Ignore the proxy variables (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY) and connect directly.",
        "false",
        is_flag=True,
    ),
)

LIVE_TARGET_RATE_LIMIT = 5.0
LIVE_TARGET_SUCCESS_BUDGET = 25
LIVE_TARGET_EXAMPLES = 300
"""Sized by the benchmark: with the hand-written cases, a run of about 45 s at the default rate cap."""
LIVE_TARGET_CONCURRENCY = 8
"""Measured against a server answering in 300 ms (bench/run.py): uncapped, 8 took 13 s where 4 took 19 s;
at the default rate cap either keeps it busy."""
EMBEDDED_EXAMPLES = 500
EMBEDDED_CONCURRENCY = 1
"""Against the embedded server the client is never waiting: generating cases is the cost (measured: bench/run.py)."""

BASE_URL_OPTION = "--base-url"
BASE_URL_ENVS = ("IPADLOGIN_BASE_URL", "PYTEST_BASE_URL")
"""After --base-url, in order of precedence; pytest-base-url's ini key ``base_url`` comes last."""
EMBEDDED_TARGET = "embedded reference server — no base URL given"


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
    require_complete: bool = False
    """An incomplete run exits 1 (see overall.py)."""
    base_url_source: str | None = None
    """Where the base URL came from: --base-url, an environment variable or the ini file (see :func:`resolve`)."""
    use_proxy_env: bool = True
    """Whether the standard proxy variables apply (see :mod:`.proxies`); --no-proxy: not."""
    proxy: str | None = None
    """The proxy the target is reached through, as shown (address and variable, never credentials); None: none."""
    concurrency: int = EMBEDDED_CONCURRENCY
    """Requests in flight at most (see :mod:`.concurrency`)."""

    @property
    def embedded(self) -> bool:
        return self.base_url is None

    @property
    def target_source(self) -> str:
        """Where the target came from, as the terminal and the reports name it."""
        if self.embedded:
            return EMBEDDED_TARGET
        return self.base_url_source or "not recorded"

    @property
    def policy(self) -> Policy:
        return Policy(self.profile, self.request_timeout_s, self.latency_budget_ms)

    def recorded(self) -> dict[str, Any]:
        """The settings a recording keeps (the cassette's ``_run``), as JSON-ready data: never the token or a path.

        :meth:`from_recorded` reads them back; this pair is the one place the field list is written out.
        """
        return {
            "target": self.base_url,
            "targetSource": self.base_url_source,
            "profile": self.profile.value,
            "requestTimeoutS": self.request_timeout_s,
            "latencyBudgetMs": self.latency_budget_ms,
            "warningsAsErrors": self.warnings_as_errors,
            "requireComplete": self.require_complete,
            "knownWcid": self.known_wcid,
            "examples": self.examples,
            "seed": self.seed,
            "rateLimit": self.rate_limit,
            "successBudget": self.success_budget,
            "verifyTls": self.verify_tls,
            "proxy": self.proxy,
        }

    @classmethod
    def from_recorded(cls, data: Mapping[str, Any], reports_dir: Path) -> Settings:
        """The settings of a recording (older recordings lack the later fields: their defaults)."""
        return cls(
            base_url=data["target"],
            token=None,
            profile=Profile(data["profile"]),
            warnings_as_errors=data["warningsAsErrors"],
            known_wcid=data.get("knownWcid"),
            request_timeout_s=data["requestTimeoutS"],
            latency_budget_ms=data["latencyBudgetMs"],
            examples=data["examples"],
            seed=data.get("seed"),
            rate_limit=data.get("rateLimit"),
            success_budget=data.get("successBudget"),
            verify_tls=data.get("verifyTls", True),
            ca_bundle=None,
            reports_dir=reports_dir,
            require_complete=data.get("requireComplete", False),
            base_url_source=data.get("targetSource"),
            proxy=data.get("proxy"),
        )


def _raw(option: Option, given: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[Any, str | None]:
    """The option's raw value and where it came from (None: the default)."""
    value = given.get(option.dest)
    if value is not None and value is not False:
        return value, f"--{option.name}"
    if option.env in environ:
        return environ[option.env], option.env
    return option.default, None


def _checked_base_url(source: str, text: str) -> str:
    """``text`` as a base URL, or a one-line error naming ``source``.

    A URL with credentials is refused without being echoed: httpx would send
    them as Basic auth instead of the token, and the URL reaches every report.
    """
    text = text.strip()
    wanted = "must be an absolute http:// or https:// URL with a host and, if any, a port from 1 to 65535"
    try:
        parts = urlsplit(text)
    except ValueError:  # a broken [IPv6] host
        parts = None
    if parts is not None and "@" in parts.netloc:
        raise SettingsError(
            f"{source}: a base URL with a user name or password (user:password@host) is refused: it would be "
            "sent as Basic auth and shown in reports; give the token with --auth-token or IPADLOGIN_TOKEN"
        )
    try:
        valid = parts is not None and parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is no number or out of range
        valid = False
    if not valid:
        shown = "(not shown)" if "@" in text else repr(text)
        raise SettingsError(f"{source}={shown}: {wanted}")
    return text.rstrip("/")


def _base_url(
    option: str | None, environ: Mapping[str, str], ini: tuple[str, str] | None
) -> tuple[str | None, str | None]:
    """The target the user named and where it came from, (None, None) for none; every source given must agree.

    The first given of --base-url, :data:`BASE_URL_ENVS` and the ini key names the source. Two that
    name different URLs are an error, not a silent choice: a CI gate must test the target it was told.
    """
    given = [(BASE_URL_OPTION, option), *((name, environ.get(name)) for name in BASE_URL_ENVS), ini or ("", None)]
    named = [(source, _checked_base_url(source, value)) for source, value in given if value and value.strip()]
    if not named:
        return None, None
    (source, url), *others = named
    for other_source, other_url in others:
        if other_url != url:
            raise SettingsError(
                f"{source} ({url}) and {other_source} ({other_url}) name different targets: give one, or the same URL in both"
            )
    return url, source


def resolve(
    given: Mapping[str, Any], environ: Mapping[str, str] = os.environ, ini: tuple[str, str] | None = None
) -> Settings:
    """Settings from given options (keyed by Option.dest), then the environment, then defaults.

    ``ini`` is pytest-base-url's ini key ``base_url`` as (where it was read, its value); the base URL
    comes from ``given["base_url"]`` (the command line only), :data:`BASE_URL_ENVS` and ``ini``.
    """
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
    base_url, base_url_source = _base_url(given.get("base_url"), environ, ini)
    embedded = base_url is None
    if not embedded and not values["auth-token"]:
        raise SettingsError("a target needs a token: give --auth-token or set IPADLOGIN_TOKEN")
    if not embedded and len(values["auth-token"]) < MIN_SCRUBBED_LENGTH:
        raise SettingsError(
            f"the token has fewer than {MIN_SCRUBBED_LENGTH} characters: too short to be kept out of "
            "the reports (it would stand in ordinary text); give the target's real token"
        )
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
    by_target = {
        "examples": (EMBEDDED_EXAMPLES, LIVE_TARGET_EXAMPLES),
        "concurrency": (EMBEDDED_CONCURRENCY, LIVE_TARGET_CONCURRENCY),
    }
    for name, (embedded_default, live) in by_target.items():
        if name not in explicit:
            values[name] = embedded_default if embedded else live
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
        require_complete=values["require-complete"],
        base_url_source=base_url_source,
        use_proxy_env=use_proxy_env,
        proxy=None if proxy is None else proxy.shown,
        concurrency=values["concurrency"],
    )


_active: Settings | None = None


def activate(settings: Settings) -> None:
    """Make ``settings`` the run's (the pytest plugin does, when pytest is configured)."""
    global _active
    _active = settings


def active() -> Settings:
    """The run's settings, for test modules that need them at import time.

    Schemathesis fixes its Hypothesis settings (examples, seed) when the test
    module is collected, before any fixture runs; kept here, below the suite and
    the runner, so that a test module need not import the plugin.
    """
    if _active is None:
        raise RuntimeError("the ipadlogin_conformance.runner.plugin pytest plugin is not loaded")
    return _active
