"""Which proxy a request goes through: the standard environment variables, on purpose and on the record.

People reach staging through a proxy, so ``http_proxy``, ``https_proxy``,
``all_proxy`` and ``no_proxy`` (in either case; the lower-case name first,
as curl and Python read them) keep working, and ``--no-proxy`` ignores them.
Since the token goes through the proxy, the run says so: the proxy's address
(never its credentials) and the variable it came from are in the run's
header line, its verdict table and summary.json. The embedded reference
server is always reached directly.
"""

from __future__ import annotations

import importlib.util
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

SCHEMES = ("http", "https", "socks5", "socks5h")


class ProxyError(ValueError):
    """A proxy variable the suite cannot use: a one-line usage error."""


@dataclass(frozen=True)
class ProxyChoice:
    url: str = field(repr=False)
    """As the variable gives it, credentials included: for the client only, never shown."""
    variable: str

    @property
    def shown(self) -> str:
        """The proxy's scheme, host and port, and the variable it came from."""
        parts = urlsplit(self.url)
        netloc = parts.hostname or ""
        netloc = f"[{netloc}]" if ":" in netloc else netloc
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{netloc}{port} (from {self.variable})"

    @property
    def address_and_auth(self) -> tuple[str, tuple[str, str] | None]:
        """The proxy's URL without credentials, and the credentials apart (the client hands both to httpcore)."""
        parts = urlsplit(self.url)
        auth = None if parts.username is None else (unquote(parts.username), unquote(parts.password or ""))
        return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl(), auth


def proxy_for(url: str, environ: Mapping[str, str]) -> ProxyChoice | None:
    """The proxy the environment names for ``url``, or None (none named, or ``no_proxy`` covers the host)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    for variable in (f"{scheme}_proxy", f"{scheme.upper()}_PROXY", "all_proxy", "ALL_PROXY"):
        value = environ.get(variable, "").strip()
        if value:
            break
    else:
        return None
    no_proxy = environ.get("no_proxy", environ.get("NO_PROXY", ""))
    if _bypassed(parts.hostname or "", parts.port, no_proxy):
        return None
    return _checked(ProxyChoice(value if "://" in value else f"http://{value}", variable))


def _checked(choice: ProxyChoice) -> ProxyChoice:
    parts = urlsplit(choice.url)
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        raise ProxyError(f"{choice.variable}: the proxy's port is not a number") from None
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ProxyError(f"{choice.variable}: a proxy URL is {' or '.join(SCHEMES)}://host:port")
    if parts.scheme.startswith("socks") and importlib.util.find_spec("socksio") is None:
        raise ProxyError(f"{choice.variable}: a SOCKS proxy needs the socksio package (pip install socksio)")
    return choice


def _bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """Whether ``no_proxy`` covers the host: ``*``, a domain and its subdomains, an address or network, optionally with a port."""
    host = host.lower().strip("[]")
    for entry in (item.strip().lower() for item in no_proxy.split(",")):
        if entry == "*":
            return True
        name, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and entry_port != str(port):
            continue
        name = name.strip("[]").removeprefix("*").lstrip(".")
        if name and (host == name or host.endswith("." + name) or _in_network(host, name)):
            return True
    return False


def _in_network(host: str, network: str) -> bool:
    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False
