"""The client towards a target: the only code that sends requests.

It reads at most ``max_body_bytes`` of an answer to POST /iPadLogin and
``max_qr_bytes`` of the QR image (counted after inflating, see :mod:`.decoding`);
ends every exchange at the request timeout whatever the server sends
(connect, TLS, headers and body together, and every redirect hop of the QR
fetch; see :mod:`.wire`); refuses a header block over a few KiB; closes a
connection whose answer was followed by stray bytes instead of reading them
as the next answer; never follows a redirect of the POST and never sends the
token to another host; fetches qrCodeUrl only where :mod:`.fetch_policy`
allows and keeps that body only when it is a PNG image; goes through the
proxy the environment names (:mod:`.proxies`); and turns every transport
error into an Exchange with its :class:`~.exchange.ErrorKind`, which the
checks judge. Exchanges hold the real values: the suite fetches the
qrCodeUrl the server sent, and redaction happens at output (:mod:`.redaction`).

httpcore, under httpx, is used directly: its connection pool takes the
suite's network backend (:class:`~.wire.Wire`), which httpx's transport does not.

Once a request to an origin got no complete answer within the timeout, no
further request is sent there (:class:`TargetStalled`): TIME-1 has failed,
and a stalled server would otherwise hold the run for a timeout per request.
"""

from __future__ import annotations

import copy
import os
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from .. import __version__
from ..contract.spec import LOGIN_PATH
from ..core.exchange import ErrorKind, Exchange, ReceivedResponse, SentRequest, header
from ..core.proxies import ProxyChoice, ProxyError, proxy_for
from ..core.settings import Settings
from .budget import Budget, BudgetExhausted
from .decoding import ACCEPT_ENCODING, DecodingError, decoded
from .fetch_policy import FetchPolicy
from .wire import AddressCheck, AddressRefused, HeadTooLarge, Wire, resolve

VALID_TOKEN = object()
"""Marker for "send the configured token" (so tests never hold the secret)."""
USER_AGENT = f"ipadlogin-conformance/{__version__}"
MAX_QR_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEEPALIVE_S = 5.0
ERROR_TEXT_LIMIT = 400
"""Characters of an error text kept: a hostile server controls parts of it (a status line, a URL)."""
UNREACHABLE = frozenset({ErrorKind.CONNECT.value, ErrorKind.TLS.value, ErrorKind.REFUSED.value})
"""Error kinds of a QR fetch that leave DATA-3 not verified: the image could not be fetched at all."""
TRANSPORT_ERRORS = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.ProxyError,
    httpcore.UnsupportedProtocol,
    httpx.InvalidURL,
    HeadTooLarge,
    AddressRefused,
    ssl.SSLError,
    OSError,
    ValueError,
)
"""What a request may raise because of the server, the network or the URL it was given (ValueError: DecodingError,
ProxyError, a header value that is no text)."""


class TargetStalled(BudgetExhausted):
    """A request was not sent: an earlier one to the same origin got no complete answer in time.

    A kind of spent budget (the run waits out one timeout per origin), so
    whatever skips a test for the success budget skips it for this too.
    """


@dataclass(frozen=True)
class TargetConfig:
    base_url: str
    token: str
    request_timeout_s: float = 10.0
    verify_tls: bool = True
    ca_bundle: str | None = None
    use_proxy_env: bool = True
    """Whether the proxy environment variables apply (see :mod:`.proxies`)."""
    max_body_bytes: int = 64 * 1024
    """An envelope is a few hundred bytes. Every judged exchange stays in its test's
    record until the run ends, so this cap, times the requests, bounds the memory."""
    max_qr_bytes: int = 1 << 20

    @classmethod
    def for_settings(cls, settings: Settings, base_url: str, token: str) -> TargetConfig:
        """The client of the run's target; the embedded server is reached directly, never through a proxy."""
        use_proxy_env = settings.use_proxy_env and not settings.embedded
        return cls(base_url, token, settings.request_timeout_s, settings.verify_tls, settings.ca_bundle, use_proxy_env)

    def proxy_environment(self) -> Mapping[str, str]:
        return os.environ if self.use_proxy_env else {}


class Unreachable(Exception):
    """The target cannot be reached at all: a one-line usage error, before any test runs."""


def require_reachable(config: TargetConfig) -> None:
    """A TCP connection, and for https the TLS handshake, only: the suite sends no request but POST /iPadLogin and GET qrCodeUrl.

    Through a proxy, only the proxy can be reached beforehand: a connection to it is the check.
    """
    try:
        proxy = proxy_for(config.base_url, config.proxy_environment())
    except ProxyError as error:
        raise Unreachable(str(error)) from None
    if proxy is not None:
        parts = urlsplit(proxy.url)
        try:
            socket.create_connection(
                (parts.hostname, parts.port or 1080), timeout=min(config.request_timeout_s, 10)
            ).close()
        except OSError as error:
            raise Unreachable(
                f"cannot reach the proxy {proxy.shown} for {config.base_url}: {error.strerror or error}"
            ) from None
        return
    parts = urlsplit(config.base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=min(config.request_timeout_s, 10)) as sock:
            if parts.scheme == "https":
                ssl_context(config).wrap_socket(sock, server_hostname=parts.hostname).close()
    except ssl.SSLCertVerificationError as error:
        raise Unreachable(
            f"cannot reach {config.base_url}: its TLS certificate is not trusted ({error.verify_message}); "
            "give --ca-bundle FILE, or --insecure to skip the check"
        ) from None
    except OSError as error:
        raise Unreachable(f"cannot reach {config.base_url}: {error.strerror or error}") from None


def ssl_context(config: TargetConfig) -> ssl.SSLContext:
    """How the target's certificate is checked: httpx's default CAs, the given bundle, or not at all."""
    if config.verify_tls and config.ca_bundle:
        return ssl.create_default_context(cafile=config.ca_bundle)
    return httpx.create_ssl_context(verify=config.verify_tls)


class Target:
    """Sends POST /iPadLogin (and GET qrCodeUrl) to one server, within a budget.

    ``succeeded`` tells which answers created a login, for the success budget: what a success is belongs
    to the contract (``checks.envelope.created_a_login``), not to the client.
    """

    def __init__(
        self, config: TargetConfig, budget: Budget | None = None, *, succeeded: Callable[[Exchange], bool]
    ) -> None:
        self.config = config
        self.budget = budget or Budget()
        self.succeeded = succeeded
        self.login_url = urljoin(config.base_url.rstrip("/") + "/", LOGIN_PATH.lstrip("/"))
        self._ssl_context = ssl_context(config)
        self._wire = Wire()
        self._pools: dict[str, httpcore.ConnectionPool] = {}
        """By proxy URL ("" for direct connections)."""
        self._pools_lock = threading.Lock()
        """Requests in flight (see :mod:`.concurrency`) may need a pool at the same moment: one is made."""
        self._fetch_policy = FetchPolicy.for_base_url(config.base_url)
        self._stalled: dict[tuple[str, str], str] = {}
        """Origin (scheme, host:port) -> why no more requests go there."""

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def login(
        self,
        body: bytes | None,
        *,
        token: object = VALID_TOKEN,
        token_header: str = "Authorization",
        content_type: str | None = "application/json",
        content_type_header: str = "Content-Type",
        method: str = "POST",
        may_succeed: bool = True,
    ) -> Exchange:
        """Send one request to /iPadLogin; ``token=None`` sends no Authorization header.

        ``may_succeed=False`` marks a request that must fail: it is sent even
        when the success budget is spent.
        """
        headers = self.login_headers(token, token_header, content_type, content_type_header)
        reserved = self.admit(may_succeed)
        return self.deliver(method, headers, body, reserved)

    def login_headers(
        self, token: object, token_header: str, content_type: str | None, content_type_header: str
    ) -> dict[str, str]:
        """The headers of a login request (see :meth:`login`)."""
        headers: dict[str, str] = {}
        if content_type is not None:
            headers[content_type_header] = content_type
        if token is VALID_TOKEN:
            headers[token_header] = self.config.token
        elif token is not None:
            headers[token_header] = str(token)
        return headers

    def admit(self, may_succeed: bool) -> bool:
        """The limits before a login request: none after a stall, a rate slot, a reservation if it may succeed.

        Raises TargetStalled or BudgetExhausted; returns the reservation for :meth:`deliver`.
        Apart from :meth:`login` so that :mod:`.concurrency` admits requests in order and sends them in parallel.
        """
        self._refuse_if_stalled(self.login_url)
        return self.budget.before_request(may_succeed)

    def deliver(self, method: str, headers: dict[str, str], body: bytes | None, reserved: bool) -> Exchange:
        """Send an admitted login request; count its success and release its reservation."""
        exchange = self.send(method, self.login_url, headers, body)
        self.budget.after_response(self.succeeded(exchange), reserved)
        return exchange

    def view(self) -> Target:
        """This client on the same connections and limits, counting its own usage and stalls (for :mod:`.concurrency`).

        Never closed itself: its connection pools are this Target's.
        """
        clone = copy.copy(self)
        clone.budget = self.budget.view()
        clone._stalled = dict(self._stalled)
        return clone

    def adopt_stall(self, exchange: Exchange) -> None:
        """Apply the stall rule for an exchange another view sent (the run reads it in order, as a sequential one)."""
        if exchange.timed_out:
            self._stall(exchange.request.url)

    def fetch_qr(self, url: str) -> tuple[Exchange, bool]:
        """GET qrCodeUrl without credentials; the exchange, and whether the image could not be fetched at all.

        Redirects are followed here, at most MAX_QR_REDIRECTS, all within one
        request timeout, each hop checked by the fetch policy. The body is kept
        only when it is a PNG image; otherwise only its size and Content-Type.
        """
        self._refuse_if_stalled(url)
        self.budget.before_request(may_succeed=False)
        started = time.perf_counter()
        deadline = time.monotonic() + self.config.request_timeout_s
        hops: list[str] = []
        current = url
        while True:
            exchange = self._fetch_hop(current, deadline)
            location = _redirect_location(exchange)
            if location is None:
                break
            if len(hops) == MAX_QR_REDIRECTS:
                exchange = replace(
                    exchange,
                    response=None,
                    error=f"more than {MAX_QR_REDIRECTS} redirects",
                    error_kind=ErrorKind.REDIRECT.value,
                )
                break
            try:
                current = urljoin(current, location)
            except ValueError:
                current = location  # the next hop tells why it cannot be fetched
            hops.append(current)
        error = exchange.error
        if error is not None and hops:
            error = f"{error} (after {len(hops)} redirect(s), at {hops[-1]})"[:ERROR_TEXT_LIMIT]
        fetched = replace(
            exchange,
            request=SentRequest("GET", url),
            response=_png_only(exchange.response),
            error=error,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            label=replace(exchange.label, redirects=tuple(hops)),
        )
        return fetched, fetched.response is None and fetched.error_kind in UNREACHABLE

    def stalled(self, url: str | None = None) -> str | None:
        """Why requests to the origin of ``url`` (default: the login URL) are no longer sent, if they are not."""
        return self._stalled.get(_origin(url or self.login_url))

    def _refuse_if_stalled(self, url: str) -> None:
        reason = self.stalled(url)
        if reason is not None:
            raise TargetStalled(reason)

    def _fetch_hop(self, url: str, deadline: float) -> Exchange:
        """One GET of the QR fetch, if the URL can be sent and the fetch policy allows it."""
        started = time.perf_counter()
        sent = SentRequest("GET", url)
        refusal = self._fetch_policy.refused_scheme(url)
        if refusal is not None:
            return self._failed(sent, started, ErrorKind.REFUSED, refusal)
        unsendable = _unsendable(url)
        if unsendable is not None:
            return self._failed(sent, started, ErrorKind.BAD_URL, f"not a URL the suite can fetch: {unsendable}")
        try:
            proxy = self._proxy(url)
        except ProxyError as error:
            return self._failed(sent, started, ErrorKind.PROXY, str(error))
        limit = self.config.max_qr_bytes
        if proxy is None:  # the wire checks the addresses it is about to connect to (no second lookup)
            return self.send(
                "GET", url, {}, None, limit=limit, deadline=deadline, address_check=self._fetch_policy.refused_addresses
            )
        refusal = self._refused_before_proxy(url, deadline)
        if refusal is not None:
            return self._failed(sent, started, ErrorKind.REFUSED, refusal)
        exchange = self.send("GET", url, {}, None, limit=limit, deadline=deadline)
        return replace(exchange, label=replace(exchange.label, proxy=proxy.shown))

    def _refused_before_proxy(self, url: str, deadline: float) -> str | None:
        """The proxy connects, not the suite: the host is looked up here (a name only the proxy resolves passes)."""
        host = urlsplit(url).hostname or ""
        try:
            return self._fetch_policy.refused_addresses(host, resolve(host, 0, max(0.0, deadline - time.monotonic())))
        except OSError:
            return None

    def send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        *,
        limit: int | None = None,
        deadline: float | None = None,
        address_check: AddressCheck | None = None,
    ) -> Exchange:
        """One request, read within the size cap and by the deadline (time.monotonic(); default: the request timeout from now)."""
        sent = SentRequest(method, url, tuple(headers.items()), body)
        started = time.perf_counter()
        limit = limit or self.config.max_body_bytes
        if deadline is None:
            deadline = time.monotonic() + self.config.request_timeout_s
        try:
            pool = self._pool(self._proxy(url))
            with self._wire.exchange(deadline, method, limit, address_check) as wire:
                response = pool.handle_request(self._request(method, url, headers, body))
                try:
                    received, timed_out, complete = self._read(response, started, limit)
                    # Before the pool takes the connection back (response.close), where a request in flight
                    # could pick it up: stray bytes, or none ruled out, are never read as the next answer.
                    excess = wire.excess() if complete else None
                    if excess != 0:
                        wire.discard()
                finally:
                    response.close()
        except TRANSPORT_ERRORS as error:
            kind, text = _failure(error)
            return self._failed(sent, started, kind, text, timed_out=kind is ErrorKind.TIMEOUT)
        elapsed_ms = (time.perf_counter() - started) * 1000
        if timed_out:
            self._stall(url)
            return Exchange(
                sent,
                received,
                error="timed out while reading the body",
                error_kind=ErrorKind.TIMEOUT.value,
                timed_out=True,
                elapsed_ms=elapsed_ms,
            )
        if excess:
            return Exchange(
                sent,
                received,
                error=_framing_error(received, excess),
                error_kind=ErrorKind.FRAMING.value,
                elapsed_ms=elapsed_ms,
            )
        return Exchange(sent, received, elapsed_ms=elapsed_ms)

    def _proxy(self, url: str) -> ProxyChoice | None:
        return proxy_for(url, self.config.proxy_environment())

    def _pool(self, proxy: ProxyChoice | None) -> httpcore.ConnectionPool:
        key = "" if proxy is None else proxy.url
        with self._pools_lock:
            if key not in self._pools:
                self._pools[key] = httpcore.ConnectionPool(
                    ssl_context=self._ssl_context,
                    proxy=None if proxy is None else httpcore.Proxy(*proxy.address_and_auth),
                    network_backend=self._wire,
                    keepalive_expiry=KEEPALIVE_S,
                )
            return self._pools[key]

    def _request(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> httpcore.Request:
        """The request as httpx would send it: httpx's reading of the URL (IDNA, percent-encoding), its headers,
        the test's, then the body's length."""
        parsed = httpx.URL(url)
        sent = [
            (b"Host", parsed.netloc),
            (b"Accept", b"*/*"),
            (b"Accept-Encoding", ACCEPT_ENCODING.encode()),
            (b"User-Agent", USER_AGENT.encode()),
        ]
        sent += [(name.encode("utf-8"), value.encode("utf-8")) for name, value in headers.items()]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            sent.append((b"Content-Length", str(len(body or b"")).encode()))
        timeout = self.config.request_timeout_s
        return httpcore.Request(
            method,
            httpcore.URL(scheme=parsed.raw_scheme, host=parsed.raw_host, port=parsed.port, target=parsed.raw_path),
            headers=sent,
            content=body,
            extensions={"timeout": {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}},
        )

    def _read(self, response: httpcore.Response, started: float, limit: int) -> tuple[ReceivedResponse, bool, bool]:
        """The body, inflated, cut at ``limit`` bytes (raw and inflated) or where the deadline passed.

        Also whether it timed out, and whether it was read to its end.
        """
        headers = tuple((name.decode("latin-1"), _header_text(value)) for name, value in response.headers)
        raw = _Metered(response.iter_stream(), limit)
        body = bytearray()
        for piece in decoded(raw, header(headers, "content-encoding")):
            body += piece[: limit + 1 - len(body)]
            if len(body) > limit:
                break
        truncated = len(body) > limit or raw.over_limit
        del body[limit:]
        received = ReceivedResponse(
            status=response.status,
            headers=headers,
            body=bytes(body),
            elapsed_ms=(time.perf_counter() - started) * 1000,
            truncated=truncated,
        )
        return received, raw.timed_out, raw.exhausted and not truncated

    def _stall(self, url: str) -> None:
        scheme, netloc = origin = _origin(url)
        reason = f"an earlier request to {scheme}://{netloc} got no complete answer within {self.config.request_timeout_s:g} s"
        self._stalled.setdefault(origin, reason)

    def _failed(
        self, sent: SentRequest, started: float, kind: ErrorKind, error: str, *, timed_out: bool = False
    ) -> Exchange:
        if timed_out:
            self._stall(sent.url)
        return Exchange(
            sent,
            None,
            error=error[:ERROR_TEXT_LIMIT],
            error_kind=kind.value,
            timed_out=timed_out,
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )


_WIRE_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), text)
    for pattern, text in (
        # h11 reports an answer whose first bytes are not text (a TLS port behind http://, say) as a *request* line.
        (r"illegal request line", "the answer does not start with an HTTP status line (its first bytes are not text)"),
        (r"illegal status line: bytearray\((.*)\)", r"the status line is not HTTP/1.x: \1"),
        (r"illegal header line: bytearray\((.*)\)", r"a header line is malformed: \1"),
        (r"illegal chunk header: bytearray\((.*)\)", r"the chunked body is malformed: \1"),
        (r"Server disconnected without sending a response\.", "the server closed the connection without an answer"),
        (
            r"peer closed connection without sending complete message body (.*)",
            r"the connection closed before the body was complete \1",
        ),
        (r".*Connection reset by peer", "the server reset the connection"),
    )
)


def _reworded(message: str) -> str | None:
    """What went wrong on the wire in words, where the client's own message misleads or mumbles."""
    for pattern, text in _WIRE_ERRORS:
        match = pattern.fullmatch(message)
        if match:
            return match.expand(text)
    return None


class _Metered:
    """Raw chunks of a body until it passes ``limit`` bytes or a read passes the deadline (:mod:`.wire` ends it there)."""

    def __init__(self, chunks: Iterator[bytes], limit: int) -> None:
        self._chunks = chunks
        self._limit = limit
        self.size = 0
        self.over_limit = self.timed_out = self.exhausted = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._chunks:
                self.size += len(chunk)
                yield chunk
                if self.size > self._limit:
                    self.over_limit = True
                    return
        except httpcore.ReadTimeout:
            self.timed_out = True
            return
        self.exhausted = True


def _failure(error: Exception) -> tuple[ErrorKind, str]:
    """What kind of failure an exception of a request is, and how to tell it (reworded where the client mumbles)."""
    raw = str(error) or type(error).__name__
    reworded = _reworded(raw)

    def told(prefix: str) -> str:
        return reworded or f"{prefix}: {raw}"

    if isinstance(error, httpcore.TimeoutException):
        return ErrorKind.TIMEOUT, told("timed out")
    if isinstance(error, HeadTooLarge):
        return ErrorKind.HEADERS_TOO_LARGE, told("refused the answer")
    if isinstance(error, AddressRefused):
        return ErrorKind.REFUSED, raw
    if isinstance(error, DecodingError):
        return ErrorKind.DECODING, raw
    if isinstance(error, (httpcore.ProxyError, ProxyError)):
        return ErrorKind.PROXY, told("proxy")
    if isinstance(error, httpcore.ConnectError):
        cause = error.__cause__
        if isinstance(cause, ssl.SSLError):
            return ErrorKind.TLS, f"TLS handshake failed: {getattr(cause, 'verify_message', None) or cause}"
        return ErrorKind.CONNECT, told("cannot connect")
    if isinstance(error, httpcore.RemoteProtocolError):
        if "status line" in raw or "request line" in raw:  # h11 calls non-text first bytes a request line
            return ErrorKind.BAD_STATUS_LINE, told("not an HTTP answer")
        if "disconnected" in raw or "peer closed" in raw:
            return ErrorKind.CONNECTION_CLOSED, told("connection closed")
        return ErrorKind.PROTOCOL, told("HTTP protocol error")
    if isinstance(error, (httpcore.ReadError, httpcore.WriteError)):
        return ErrorKind.CONNECTION_CLOSED, told("connection lost")
    if isinstance(error, ssl.SSLError):
        return ErrorKind.TLS, told("TLS error")
    if isinstance(error, (httpx.InvalidURL, httpcore.UnsupportedProtocol)):
        return ErrorKind.BAD_URL, told("not sent")
    return ErrorKind.PROTOCOL, told(type(error).__name__)


def _framing_error(response: ReceivedResponse, excess: int) -> str:
    length = header(response.headers, "content-length")
    if response.status in (204, 304):
        framing = f"an HTTP {response.status} answer has no body"
    elif length is not None:
        framing = f"Content-Length said {length[:20]}"
    else:
        framing = "its chunked body had ended"
    return (
        f"{excess} bytes followed the answer ({framing}): on a kept-alive connection they would pass for the "
        "next answer, so the suite closed the connection"
    )


def _unsendable(url: str) -> str | None:
    """Why ``url`` (a server's) cannot be sent, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port that is not a number in range
        httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as error:
        return str(error)
    return None if parts.hostname else "it names no host"


def _redirect_location(exchange: Exchange) -> str | None:
    response = exchange.response
    if response is None or response.status not in REDIRECT_STATUSES:
        return None
    return header(response.headers, "location")


def _png_only(response: ReceivedResponse | None) -> ReceivedResponse | None:
    """A QR answer as kept: its body only when it is a PNG image (a server may point the suite at anything)."""
    if response is None or response.body.startswith(PNG_SIGNATURE):
        return response
    return replace(response, body=b"", withheld=len(response.body))


def _header_text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _origin(url: str) -> tuple[str, str]:
    try:
        parts = urlsplit(url)
    except ValueError:  # a URL no request can go to: no origin that could have stalled
        return "", url
    return parts.scheme.lower(), parts.netloc.rpartition("@")[2].lower()
