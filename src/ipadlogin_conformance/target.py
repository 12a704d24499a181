"""The client towards a target: the only code that sends requests.

It reads at most ``max_body_bytes`` of an answer to POST /iPadLogin and
``max_qr_bytes`` of the QR image (counted after inflating, see :mod:`.decoding`),
gives up at the request timeout even on a server that trickles bytes, never
follows a redirect of the POST, never sends the token to another host, and
turns every transport error into an Exchange the checks can judge. Secrets
are redacted before the Exchange is built.

Once a request to an origin got no complete answer within the timeout, no
further request is sent there (:class:`TargetStalled`): TIME-1 has failed,
and a stalled server would otherwise hold the run for a timeout per request.
"""

from __future__ import annotations

import re
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from . import __version__
from .budget import Budget, BudgetExhausted
from .checks.envelope import Decision, read_envelope
from .decoding import ACCEPT_ENCODING, DecodingError, decoded
from .exchange import Exchange, ReceivedResponse, SentRequest
from .redaction import Redactor
from .settings import Settings

LOGIN_PATH = "/iPadLogin"
VALID_TOKEN = object()
"""Marker for "send the configured token" (so tests never hold the secret)."""


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
    max_body_bytes: int = 64 * 1024
    """An envelope is a few hundred bytes. Every judged exchange stays in its test's
    record until the run ends, so this cap, times the requests, bounds the memory."""
    max_qr_bytes: int = 1 << 20

    @classmethod
    def for_settings(cls, settings: Settings, base_url: str, token: str) -> TargetConfig:
        return cls(base_url, token, settings.request_timeout_s, settings.verify_tls, settings.ca_bundle)


class Unreachable(Exception):
    """The target cannot be reached at all: a one-line usage error, before any test runs."""


def require_reachable(config: TargetConfig) -> None:
    """A TCP connection, and for https the TLS handshake, only: the suite sends no request but POST /iPadLogin and GET qrCodeUrl."""
    parts = urlsplit(config.base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=min(config.request_timeout_s, 10)) as sock:
            if parts.scheme == "https":
                context = httpx.create_ssl_context(verify=tls_verify(config))
                context.wrap_socket(sock, server_hostname=parts.hostname).close()
    except ssl.SSLCertVerificationError as error:
        raise Unreachable(
            f"cannot reach {config.base_url}: its TLS certificate is not trusted ({error.verify_message}); "
            "give --ca-bundle FILE, or --insecure to skip the check"
        ) from None
    except OSError as error:
        raise Unreachable(f"cannot reach {config.base_url}: {error.strerror or error}") from None


def tls_verify(config: TargetConfig) -> bool | ssl.SSLContext:
    """How the target's certificate is checked: httpx's default CAs, the given bundle, or not at all."""
    if config.verify_tls and config.ca_bundle:
        return ssl.create_default_context(cafile=config.ca_bundle)
    return config.verify_tls


class Target:
    """Sends POST /iPadLogin (and GET qrCodeUrl) to one server, within a budget."""

    def __init__(self, config: TargetConfig, budget: Budget | None = None) -> None:
        self.config = config
        self.budget = budget or Budget()
        self.redactor = Redactor(config.token)
        self.login_url = urljoin(config.base_url.rstrip("/") + "/", LOGIN_PATH.lstrip("/"))
        self._client = httpx.Client(
            timeout=httpx.Timeout(config.request_timeout_s),
            verify=tls_verify(config),
            follow_redirects=False,
            headers={"User-Agent": f"ipadlogin-conformance/{__version__}", "Accept-Encoding": ACCEPT_ENCODING},
        )
        self._stalled: dict[tuple[str, str], str] = {}
        """Origin (scheme, host:port) -> why no more requests go there."""

    def close(self) -> None:
        self._client.close()

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
        headers: dict[str, str] = {}
        if content_type is not None:
            headers[content_type_header] = content_type
        if token is VALID_TOKEN:
            headers[token_header] = self.config.token
        elif token is not None:
            headers[token_header] = str(token)
        self._refuse_if_stalled(self.login_url)
        reserved = self.budget.before_request(may_succeed)
        exchange = self.send(method, self.login_url, headers, body)
        self.budget.after_response(read_envelope(exchange).decision is Decision.ACCEPTED, reserved)
        return exchange

    def fetch_qr(self, url: str) -> tuple[Exchange, bool]:
        """GET qrCodeUrl without credentials; returns the exchange and whether the host was unreachable."""
        self._refuse_if_stalled(url)
        self.budget.before_request(may_succeed=False)
        exchange = self.send("GET", url, {}, None, follow_redirects=True, limit=self.config.max_qr_bytes)
        unreachable = exchange.response is None and exchange.labels.get("connect_error", False)
        return exchange, unreachable

    def stalled(self, url: str | None = None) -> str | None:
        """Why requests to the origin of ``url`` (default: the login URL) are no longer sent, if they are not."""
        return self._stalled.get(_origin(url or self.login_url))

    def _refuse_if_stalled(self, url: str) -> None:
        reason = self.stalled(url)
        if reason is not None:
            raise TargetStalled(reason)

    def send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        *,
        follow_redirects: bool = False,
        limit: int | None = None,
    ) -> Exchange:
        """One request, read within the size cap and the total deadline, as a redacted Exchange."""
        sent = SentRequest(method, url, self.redactor.headers(list(headers.items())), body)
        started = time.perf_counter()
        deadline = started + self.config.request_timeout_s
        try:
            request = self._client.build_request(method, url, headers=headers, content=body)
            response = self._client.send(request, stream=True, follow_redirects=follow_redirects)
            try:
                received, timed_out = self._read(response, started, deadline, limit or self.config.max_body_bytes)
            finally:
                response.close()
        except httpx.TimeoutException as error:
            return self._failed(sent, started, f"timed out: {error or type(error).__name__}", timed_out=True)
        except httpx.ConnectError as error:
            return self._failed(sent, started, f"cannot connect: {error}", connect_error=True)
        except httpx.TooManyRedirects as error:
            return self._failed(sent, started, f"redirect loop: {error}")
        except DecodingError as error:
            return self._failed(sent, started, str(error))
        except (httpx.HTTPError, ssl.SSLError, OSError, ValueError) as error:
            return self._failed(sent, started, wire_error(error))
        elapsed_ms = (time.perf_counter() - started) * 1000
        if timed_out:
            self._stall(url)
        return Exchange(sent, received, timed_out=timed_out, elapsed_ms=elapsed_ms,
                        error="timed out while reading the body" if timed_out else None)

    def _read(self, response: httpx.Response, started: float, deadline: float, limit: int) -> tuple[ReceivedResponse, bool]:
        """The body, inflated, cut at ``limit`` bytes (raw and inflated) and at the deadline."""
        raw = _Metered(response.iter_raw(), limit, deadline)
        body = bytearray()
        for piece in decoded(raw, response.headers.get("content-encoding")):
            body += piece[: limit + 1 - len(body)]
            if len(body) > limit:
                break
        truncated = len(body) > limit or raw.over_limit
        del body[limit:]
        received = ReceivedResponse(
            status=response.status_code,
            headers=self.redactor.headers(response.headers.multi_items()),
            body=self.redactor.data(bytes(body)),
            elapsed_ms=(time.perf_counter() - started) * 1000,
            truncated=truncated,
        )
        return received, raw.timed_out

    def _stall(self, url: str) -> None:
        scheme, netloc = origin = _origin(url)
        reason = f"an earlier request to {scheme}://{netloc} got no complete answer within {self.config.request_timeout_s:g} s"
        self._stalled.setdefault(origin, reason)

    def _failed(self, sent: SentRequest, started: float, error: str, *, timed_out: bool = False, connect_error: bool = False) -> Exchange:
        if timed_out:
            self._stall(sent.url)
        return Exchange(
            sent,
            None,
            error=self.redactor.text(error),
            timed_out=timed_out,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            labels={"connect_error": True} if connect_error else {},
        )


_WIRE_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(pattern, re.DOTALL), text) for pattern, text in (
    # h11 reports an answer whose first bytes are not text (a TLS port behind http://, say) as a *request* line.
    (r"illegal request line", "the answer does not start with an HTTP status line (its first bytes are not text)"),
    (r"illegal status line: bytearray\((.*)\)", r"the status line is not HTTP/1.x: \1"),
    (r"illegal header line: bytearray\((.*)\)", r"a header line is malformed: \1"),
    (r"illegal chunk header: bytearray\((.*)\)", r"the chunked body is malformed: \1"),
    (r"Server disconnected without sending a response\.", "the server closed the connection without an answer"),
    (r"peer closed connection without sending complete message body (.*)", r"the connection closed before the body was complete \1"),
    (r".*Connection reset by peer", "the server reset the connection"),
))


def wire_error(error: Exception) -> str:
    """What went wrong on the wire, in words; the client's own message where no rewording fits."""
    for pattern, text in _WIRE_ERRORS:
        match = pattern.fullmatch(str(error))
        if match:
            return match.expand(text)
    return f"{type(error).__name__}: {error}"


class _Metered:
    """Raw chunks of a body until it passes ``limit`` bytes or the deadline."""

    def __init__(self, chunks: Iterator[bytes], limit: int, deadline: float) -> None:
        self._chunks = chunks
        self._limit = limit
        self._deadline = deadline
        self.size = 0
        self.over_limit = self.timed_out = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.size += len(chunk)
            yield chunk
            if self.size > self._limit:
                self.over_limit = True
                return
            if time.perf_counter() > self._deadline:
                self.timed_out = True
                return


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.rpartition("@")[2].lower()
