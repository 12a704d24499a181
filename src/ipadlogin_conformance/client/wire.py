"""The network under the HTTP client: one deadline per exchange, a bounded header block, no desync.

httpcore bounds each connect, read and write on its own, so a server that
trickles its header block a byte at a time holds a request as long as it
likes; h11 takes up to 100 KiB of headers; and bytes that follow a complete
answer on a kept-alive connection are read as the answer to the next
request. The suite gives httpcore this network backend (:class:`Wire`)
instead of its default, and runs each exchange inside :meth:`Wire.exchange`:

- every operation (name resolution, connect, TLS handshake, each read and
  write) gets at most the time left until the exchange's deadline, so the
  whole exchange is over by then, whatever the server does;
- the header block is refused past :data:`HEAD_LIMIT` bytes or
  :data:`MAX_HEADER_LINES` lines (:class:`HeadTooLarge`), before h11 parses it;
- the bytes read are kept (up to the exchange's cap), so that once an answer
  is complete :meth:`ExchangeOnWire.excess` tells, with h11's own reading of
  the framing, whether more bytes followed it. Then, or when that cannot be
  told, the connection is closed (:meth:`ExchangeOnWire.discard`) and the
  pool opens a new one for the next request;
- an address check (the QR fetch's, see :mod:`.fetch_policy`) sees every
  address before a connection to it is attempted, and only checked
  addresses are connected to (a second lookup could answer otherwise).
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import h11
import httpcore

HEAD_LIMIT = 8 * 1024
"""Bytes of header block (status line and headers of every interim and the final answer): an envelope's are a few hundred."""
MAX_HEADER_LINES = 100
WRITE_PIECE = 16 * 1024
"""A write is split so that each piece waits at most for the time left."""
READ_AHEAD = 64 * 1024
"""What httpcore may read past the end of an answer in one go: kept too, so that it can be told."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressCheck = Callable[[str, list[IPAddress]], str | None]
"""(host name, its addresses) → why no connection may be made, or None."""

_DIRECT = httpcore.SyncBackend()
"""httpcore's own backend, given an address: it connects (no lookup for an IP literal) and sets TCP_NODELAY."""
_BLANK_LINE = re.compile(rb"\n\r?\n")
_STATUS_LINE = re.compile(rb"HTTP/\d\.\d (\d{3})")


class HeadTooLarge(Exception):
    """The answer's header block passed HEAD_LIMIT bytes or MAX_HEADER_LINES lines."""


class AddressRefused(Exception):
    """The address check refused every address of the host: nothing was sent."""


class ExchangeOnWire:
    """One exchange as the network sees it: its deadline, the bytes of its answer, the streams it used."""

    def __init__(self, deadline: float, method: str, capture_limit: int, address_check: AddressCheck | None) -> None:
        self.deadline = deadline
        self.method = method
        self.address_check = address_check
        self._capture_limit = capture_limit
        self.received = bytearray()
        self.overflow = False
        """More was read than kept: whether the answer ended cleanly cannot be told."""
        self.head_complete = False
        self._head_start = self._search_from = 0
        self._streams: list[httpcore.NetworkStream] = []

    def remaining(self, timeout_error: type[httpcore.TimeoutException]) -> float:
        """Seconds left until the deadline; ``timeout_error`` once there are none."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise timeout_error("the request timeout ran out")
        return left

    def used(self, stream: httpcore.NetworkStream) -> None:
        if stream not in self._streams:
            self._streams.append(stream)

    def sent(self) -> None:
        """A request goes out (a proxy's CONNECT, then the request itself): its answer starts afresh."""
        if self.received:
            self.received.clear()
            self.overflow = self.head_complete = False
            self._head_start = self._search_from = 0

    def took(self, data: bytes) -> None:
        if self.overflow or len(self.received) + len(data) > self._capture_limit:
            self.overflow = True
            return
        self.received += data
        if not self.head_complete:
            self._check_head()

    def _check_head(self) -> None:
        """Find where the final header block ends (interim 1xx answers come before it), within the limits."""
        while True:
            blank = _BLANK_LINE.search(self.received, self._search_from)
            end = len(self.received) if blank is None else blank.end()
            if end > HEAD_LIMIT:
                raise HeadTooLarge(f"the header block is longer than {HEAD_LIMIT} bytes")
            if self.received.count(b"\n", 0, end) > MAX_HEADER_LINES + 2:
                raise HeadTooLarge(f"the header block has more than {MAX_HEADER_LINES} lines")
            if blank is None:
                self._search_from = max(self._head_start, len(self.received) - 2)
                return
            status = _STATUS_LINE.match(self.received, self._head_start)
            self._head_start = self._search_from = end
            if status is None or not status.group(1).startswith(b"1") or status.group(1) == b"101":
                self.head_complete = True
                return

    def excess(self) -> int | None:
        """Bytes read after the complete answer, by h11's reading of its framing; None when that cannot be told."""
        if self.overflow or not self.head_complete:
            return None
        shadow = h11.Connection(our_role=h11.CLIENT)
        shadow.send(h11.Request(method=self.method, target="/", headers=[("Host", "shadow")]))
        shadow.send(h11.EndOfMessage())
        shadow.receive_data(bytes(self.received))
        try:
            while True:
                event = shadow.next_event()
                if isinstance(event, h11.EndOfMessage):
                    return len(shadow.trailing_data[0])
                if event is h11.NEED_DATA or event is h11.PAUSED or isinstance(event, h11.ConnectionClosed):
                    return None
        except h11.ProtocolError:
            return None

    def discard(self) -> None:
        """Close the connection(s) this exchange used: the pool drops a closed one and never reuses it."""
        for stream in self._streams:
            stream.close()


class GuardedStream(httpcore.NetworkStream):
    """A connection whose every operation ends by the current exchange's deadline, and whose reads are kept."""

    def __init__(self, inner: httpcore.NetworkStream, wire: Wire) -> None:
        self._inner = inner
        self._wire = wire

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        exchange = self._wire.current()
        exchange.used(self)
        data = self._inner.read(max_bytes, _within(timeout, exchange.remaining(httpcore.ReadTimeout)))
        exchange.took(data)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        exchange = self._wire.current()
        exchange.used(self)
        exchange.sent()
        for start in range(0, len(buffer), WRITE_PIECE):
            self._inner.write(
                buffer[start : start + WRITE_PIECE], _within(timeout, exchange.remaining(httpcore.WriteTimeout))
            )

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        # CPython's handshake keeps to the socket's timeout as a whole, not per read.
        left = _within(timeout, self._wire.current().remaining(httpcore.ConnectTimeout))
        return GuardedStream(self._inner.start_tls(ssl_context, server_hostname, left), self._wire)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class Wire(httpcore.NetworkBackend):
    """httpcore's network backend for the suite's client (see the module's docstring)."""

    def __init__(self) -> None:
        self._local = threading.local()

    @contextmanager
    def exchange(
        self, deadline: float, method: str, capture_limit: int, address_check: AddressCheck | None = None
    ) -> Iterator[ExchangeOnWire]:
        """The network use of one exchange (this thread's), until ``deadline`` (time.monotonic())."""
        current = ExchangeOnWire(deadline, method, capture_limit + HEAD_LIMIT + READ_AHEAD, address_check)
        self._local.current = current
        try:
            yield current
        finally:
            self._local.current = None

    def current(self) -> ExchangeOnWire:
        current = getattr(self._local, "current", None)
        if current is None:
            raise RuntimeError("the network was used outside Wire.exchange()")
        return current

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        exchange = self.current()

        def left() -> float:
            return _within(timeout, exchange.remaining(httpcore.ConnectTimeout))

        try:
            addresses = resolve(host, port, left())
        except TimeoutError as error:
            raise httpcore.ConnectTimeout(str(error)) from error
        except OSError as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error.strerror or error}") from error
        if exchange.address_check is not None:
            refusal = exchange.address_check(host, addresses)
            if refusal is not None:
                raise AddressRefused(refusal)
        return GuardedStream(_connect(addresses, port, left), self)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        raise httpcore.UnsupportedProtocol("the suite connects over TCP only")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def resolve(host: str, port: int, timeout: float) -> list[IPAddress]:
    """The addresses of ``host``, looked up within ``timeout`` seconds (a resolver may take far longer)."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return [literal]
    found: list[Any] = []
    done = threading.Event()

    def look_up() -> None:
        try:
            found.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as error:
            found.append(error)
        finally:
            done.set()

    threading.Thread(target=look_up, daemon=True, name=f"resolve-{host}").start()
    if not done.wait(timeout):
        raise TimeoutError(f"looking up {host} took longer than the request timeout")
    if found and isinstance(found[0], OSError):
        raise found[0]
    addresses: list[IPAddress] = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def _connect(addresses: list[IPAddress], port: int, left: Callable[[], float]) -> httpcore.NetworkStream:
    """A connection to the first of the (checked) addresses that answers; no second lookup."""
    error: httpcore.ConnectError | httpcore.ConnectTimeout = httpcore.ConnectError("the host has no address")
    for address in addresses:
        try:
            return _DIRECT.connect_tcp(str(address), port, timeout=left())
        except (httpcore.ConnectError, httpcore.ConnectTimeout) as failure:
            error = failure
    raise error


def _within(timeout: float | None, left: float) -> float:
    return left if timeout is None else min(timeout, left)
