"""The client towards a target: the only code that sends requests.

It reads at most ``max_body_bytes`` of any answer and gives up at the request
timeout even on a server that trickles bytes, never follows a redirect of the
POST, never sends the token to another host, and turns every transport error
into an Exchange the checks can judge. Secrets are redacted before the
Exchange is built.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from . import __version__
from .budget import Budget
from .checks.envelope import Decision, read_envelope
from .exchange import Exchange, ReceivedResponse, SentRequest
from .redaction import Redactor

LOGIN_PATH = "/iPadLogin"
VALID_TOKEN = object()
"""Marker for "send the configured token" (so tests never hold the secret)."""


@dataclass(frozen=True)
class TargetConfig:
    base_url: str
    token: str
    request_timeout_s: float = 10.0
    verify_tls: bool = True
    ca_bundle: str | None = None
    max_body_bytes: int = 1 << 20


class Target:
    """Sends POST /iPadLogin (and GET qrCodeUrl) to one server, within a budget."""

    def __init__(self, config: TargetConfig, budget: Budget | None = None) -> None:
        self.config = config
        self.budget = budget or Budget()
        self.redactor = Redactor(config.token)
        self.login_url = urljoin(config.base_url.rstrip("/") + "/", LOGIN_PATH.lstrip("/"))
        verify: bool | ssl.SSLContext = config.verify_tls
        if config.verify_tls and config.ca_bundle:
            verify = ssl.create_default_context(cafile=config.ca_bundle)
        self._client = httpx.Client(
            timeout=httpx.Timeout(config.request_timeout_s),
            verify=verify,
            follow_redirects=False,
            headers={"User-Agent": f"ipadlogin-conformance/{__version__}"},
        )

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
        self.budget.before_request(may_succeed)
        exchange = self.send(method, self.login_url, headers, body)
        self.budget.after_response(read_envelope(exchange).decision is Decision.ACCEPTED)
        return exchange

    def fetch_qr(self, url: str) -> tuple[Exchange, bool]:
        """GET qrCodeUrl without credentials; returns the exchange and whether the host was unreachable."""
        self.budget.before_request(may_succeed=False)
        exchange = self.send("GET", url, {}, None, follow_redirects=True)
        unreachable = exchange.response is None and exchange.labels.get("connect_error", False)
        return exchange, unreachable

    def send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, *, follow_redirects: bool = False
    ) -> Exchange:
        """One request, read within the size cap and the total deadline, as a redacted Exchange."""
        sent = SentRequest(method, url, self.redactor.headers(list(headers.items())), body)
        started = time.perf_counter()
        deadline = started + self.config.request_timeout_s
        try:
            request = self._client.build_request(method, url, headers=headers, content=body)
            response = self._client.send(request, stream=True, follow_redirects=follow_redirects)
            try:
                received, timed_out = self._read(response, started, deadline)
            finally:
                response.close()
        except httpx.TimeoutException as error:
            return self._failed(sent, started, f"timed out: {error or type(error).__name__}", timed_out=True)
        except httpx.ConnectError as error:
            return self._failed(sent, started, f"cannot connect: {error}", connect_error=True)
        except httpx.TooManyRedirects as error:
            return self._failed(sent, started, f"redirect loop: {error}")
        except (httpx.HTTPError, ssl.SSLError, OSError, ValueError) as error:
            return self._failed(sent, started, f"{type(error).__name__}: {error}")
        elapsed_ms = (time.perf_counter() - started) * 1000
        return Exchange(sent, received, timed_out=timed_out, elapsed_ms=elapsed_ms,
                        error="timed out while reading the body" if timed_out else None)

    def _read(self, response: httpx.Response, started: float, deadline: float) -> tuple[ReceivedResponse, bool]:
        chunks: list[bytes] = []
        size = 0
        truncated = timed_out = False
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > self.config.max_body_bytes:
                truncated = True
                break
            if time.perf_counter() > deadline:
                timed_out = True
                break
        body = b"".join(chunks)[: self.config.max_body_bytes]
        received = ReceivedResponse(
            status=response.status_code,
            headers=self.redactor.headers(response.headers.multi_items()),
            body=self.redactor.data(body),
            elapsed_ms=(time.perf_counter() - started) * 1000,
            truncated=truncated,
        )
        return received, timed_out

    def _failed(self, sent: SentRequest, started: float, error: str, *, timed_out: bool = False, connect_error: bool = False) -> Exchange:
        return Exchange(
            sent,
            None,
            error=self.redactor.text(error),
            timed_out=timed_out,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            labels={"connect_error": True} if connect_error else {},
        )

