"""Where the suite may fetch a qrCodeUrl from: no server makes it reach into the network it runs in.

The server under test chooses the qrCodeUrl, and the suite runs in CI, next
to cloud metadata services and internal hosts. So the QR image is fetched
over http(s) only, and never from a loopback, private, link-local, other
non-public or cloud metadata address, checked on the resolved addresses of
every redirect hop, unless the base URL itself is on an address of that
kind (the embedded server on loopback, a staging box on the LAN): a target
that is itself on the LAN may serve its QR images from the LAN. A cloud
metadata address is allowed only when the base URL is on one.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from .wire import IPAddress

FETCHED_SCHEMES = ("http", "https")
METADATA = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, ...
        "169.254.170.2",  # AWS ECS task credentials
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
        "168.63.129.16",  # Azure WireServer (a public address)
    )
)


def address_kind(address: IPAddress) -> str | None:
    """ "loopback", "private", "link-local", "cloud metadata" or "non-public"; None for a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA:
        return "cloud metadata"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_private:
        return "private"
    if not address.is_global or address.is_multicast:
        return "non-public"
    return None


@dataclass(frozen=True)
class FetchPolicy:
    allowed_kinds: frozenset[str] = frozenset()
    """Kinds of non-public address the base URL is on: those may serve the QR image too."""

    @classmethod
    def for_base_url(cls, base_url: str) -> FetchPolicy:
        """The policy of a run against ``base_url`` (looked up once; a name that does not resolve allows public addresses only)."""
        host = urlsplit(base_url).hostname or ""
        try:
            addresses = [
                ipaddress.ip_address(info[4][0].split("%")[0])
                for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
            ]
        except (OSError, ValueError):
            addresses = []
        return cls(frozenset(kind for kind in map(address_kind, addresses) if kind is not None))

    def refused_scheme(self, url: str) -> str | None:
        scheme = url.partition(":")[0].lower() if ":" in url else ""  # also of a URL urlsplit cannot read
        if scheme not in FETCHED_SCHEMES:
            return f"not fetched: {scheme or 'no'} scheme (the suite fetches http and https URLs only)"
        return None

    def refused_addresses(self, host: str, addresses: list[IPAddress]) -> str | None:
        """Why no connection to ``host`` may be made, or None; one refused address refuses the host."""
        for address in addresses:
            kind = address_kind(address)
            if kind is not None and kind not in self.allowed_kinds:
                named = str(address) if host.strip("[]") == str(address) else f"{host} ({address})"
                return (
                    f"not fetched: {named} is a {kind} address and the base URL is not on one "
                    "(a server may not point the suite into the network it runs in)"
                )
        return None
