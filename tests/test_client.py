"""The client in-process, against hostile loopback servers and hand-made bytes: caps, framing, where it may fetch.

tests/test_hostile.py runs the whole suite against such servers and holds
it to its time and memory bounds; these tests pin down the mechanisms
themselves: what the wire refuses, how a framing error is told apart from
a clean answer, which addresses a qrCodeUrl may be fetched from.
"""

from __future__ import annotations

import ipaddress
import socket

import hostile_servers as hostile
import pytest

from ipadlogin_conformance.checks import created_a_login, qr_image_decodes
from ipadlogin_conformance.client.fetch_policy import FetchPolicy, address_kind
from ipadlogin_conformance.client.target import MAX_QR_REDIRECTS, Target, TargetConfig
from ipadlogin_conformance.client.wire import HEAD_LIMIT, MAX_HEADER_LINES, ExchangeOnWire, HeadTooLarge
from ipadlogin_conformance.core.exchange import ErrorKind
from ipadlogin_conformance.core.verdict import Outcome

TOKEN = "client-test-token-2b7e"
BODY = b'{"type":2}'


def _target(url: str) -> Target:
    return Target(TargetConfig(url, TOKEN, request_timeout_s=2.0, use_proxy_env=False), succeeded=created_a_login)


def _answer(data: bytes, method: str = "POST") -> ExchangeOnWire:
    """An exchange that read ``data``, as the wire records it."""
    wire = ExchangeOnWire(deadline=float("inf"), method=method, capture_limit=1 << 20, address_check=None)
    wire.took(data)
    return wire


def honest_keep_alive(conn: socket.socket, ctx: hostile.Context) -> None:
    """Exact Content-Length, connection kept alive: the suite may reuse it."""
    while ctx.running():
        conn.sendall(
            hostile.response_head("200 OK", keep_alive=True, Content_Length=len(hostile.FAILURE)) + hostile.FAILURE
        )
        if ctx.next_request() is None:
            return


# --- the wire --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "excess"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", 0),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\n", 17),
        (b"HTTP/1.1 204 No Content\r\n\r\n{}", 2),
        (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 2\r\n\r\n{}", 2),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 0),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\nextra", 5),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", 0),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{}", None),  # not complete: cannot tell
        (b"HTTP/1.1 200 OK\r\n\r\n{}", None),  # delimited by the connection's end: cannot tell
    ],
)
def test_bytes_after_an_answer_are_counted_by_its_framing(data: bytes, excess: int | None) -> None:
    assert _answer(data).excess() == excess


def test_a_head_request_answer_has_no_body() -> None:
    assert _answer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", method="HEAD").excess() == 0


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * HEAD_LIMIT + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X: 1\r\n" * (MAX_HEADER_LINES + 1) + b"\r\n",
        b"HTTP/1.1 100 Continue\r\n" + b"X: 1\r\n" * 60 + b"\r\nHTTP/1.1 200 OK\r\n" + b"X: 1\r\n" * 60 + b"\r\n",
        b"HTTP/1.1 200 OK\r\nX-Endless: " + b"a" * (HEAD_LIMIT + 1),  # refused before its end comes
    ],
)
def test_a_header_block_past_the_limits_is_refused(head: bytes) -> None:
    with pytest.raises(HeadTooLarge):
        _answer(head)


def test_a_header_block_within_the_limits_passes_in_any_number_of_pieces() -> None:
    data = b"HTTP/1.1 200 OK\r\n" + b"X: 1\r\n" * 50 + b"Content-Length: 2\r\n\r\n{}"
    wire = ExchangeOnWire(deadline=float("inf"), method="POST", capture_limit=1 << 20, address_check=None)
    for i in range(len(data)):
        wire.took(data[i : i + 1])
    assert wire.head_complete and wire.excess() == 0


def test_a_header_flood_is_one_exchange_told_as_such() -> None:
    with hostile.HostileServer(hostile.header_flood) as server, _target(server.url) as client:
        exchange = client.login(BODY)
    assert (exchange.response, exchange.error_kind) == (None, ErrorKind.HEADERS_TOO_LARGE.value)
    assert f"longer than {HEAD_LIMIT} bytes" in exchange.error


def test_a_trickled_header_block_ends_at_the_deadline_and_stalls_the_target() -> None:
    with hostile.HostileServer(hostile.trickle_head) as server, _target(server.url) as client:
        exchange = client.login(BODY)
        assert client.stalled() is not None
    assert exchange.timed_out and (exchange.response, exchange.error_kind) == (None, ErrorKind.TIMEOUT.value)


def test_after_a_framing_error_the_next_request_gets_a_new_connection_and_its_own_answer() -> None:
    with hostile.HostileServer(hostile.short_content_length) as server, _target(server.url) as client:
        first, second = client.login(BODY), client.login(BODY)
    for exchange in (first, second):
        assert exchange.error_kind == ErrorKind.FRAMING.value and exchange.response.body == hostile.FAILURE
    assert server.reused == 0 and len(server.requests) == 2


def test_a_clean_answer_keeps_its_connection() -> None:
    with hostile.HostileServer(honest_keep_alive) as server, _target(server.url) as client:
        exchanges = [client.login(BODY) for _ in range(3)]
    assert [exchange.error for exchange in exchanges] == [None] * 3
    assert server.reused == 2


# --- where a qrCodeUrl may be fetched ----------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("fd12::1", "private"),
        ("169.254.10.1", "link-local"),
        ("169.254.169.254", "cloud metadata"),
        ("::ffff:169.254.169.254", "cloud metadata"),
        ("100.100.100.200", "cloud metadata"),
        ("0.0.0.0", "private"),
        ("100.64.0.1", "non-public"),
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
    ],
)
def test_address_kinds(address: str, kind: str | None) -> None:
    assert address_kind(ipaddress.ip_address(address)) == kind


def test_a_base_url_on_a_kind_of_address_allows_that_kind_only() -> None:
    public, loopback = FetchPolicy.for_base_url("http://8.8.8.8:1"), FetchPolicy.for_base_url("http://127.0.0.1:1")
    home = [ipaddress.ip_address("127.0.0.1")]
    assert "a loopback address" in public.refused_addresses("localhost", home)
    assert loopback.refused_addresses("localhost", home) is None
    assert "a private address" in loopback.refused_addresses("10.0.0.1", [ipaddress.ip_address("10.0.0.1")])
    assert public.refused_addresses("example.com", [ipaddress.ip_address("93.184.216.34")]) is None


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://10.255.255.1/qr.png", "a private address"),
        ("http://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
        ("file:///etc/passwd", "file scheme"),
        ("ftp://127.0.0.1/qr.png", "ftp scheme"),
    ],
)
def test_a_qr_url_into_the_runners_network_is_refused_without_a_connection(url: str, words: str) -> None:
    with _target("http://127.0.0.1:9") as client:
        exchange, unreachable = client.fetch_qr(url)
    assert unreachable and exchange.error_kind == ErrorKind.REFUSED.value and words in exchange.error
    assert qr_image_decodes(exchange, unreachable=unreachable).outcome is Outcome.NOT_VERIFIED


def test_a_target_on_a_public_address_cannot_send_the_suite_to_loopback() -> None:
    with (
        hostile.HostileServer(hostile.png_bomb) as qr,
        Target(TargetConfig("http://8.8.8.8:9", TOKEN, use_proxy_env=False), succeeded=created_a_login) as client,
    ):
        exchange, unreachable = client.fetch_qr(f"{qr.url}/qr.png")
    assert unreachable and "a loopback address" in exchange.error
    assert qr.requests == [], "the address was checked before a connection was made"


def test_every_redirect_hop_is_checked() -> None:
    redirect = hostile.redirect_to("http://169.254.169.254/latest/meta-data/")
    with hostile.HostileServer(redirect) as qr, _target(qr.url) as client:
        exchange, unreachable = client.fetch_qr(f"{qr.url}/qr.png")
    assert unreachable and "cloud metadata" in exchange.error
    assert exchange.request.url == f"{qr.url}/qr.png" and exchange.label.redirects == (
        "http://169.254.169.254/latest/meta-data/",
    )


def test_qr_redirects_stop_after_a_few_hops() -> None:
    with hostile.HostileServer(hostile.redirect_loop) as qr, _target(qr.url) as client:
        exchange, unreachable = client.fetch_qr(f"{qr.url}/qr.png")
    assert not unreachable and exchange.error_kind == ErrorKind.REDIRECT.value
    assert len(qr.requests) == MAX_QR_REDIRECTS + 1


def test_a_qr_answer_that_is_no_png_keeps_only_its_size() -> None:
    with hostile.HostileServer(hostile.qr_secret) as qr, _target(qr.url) as client:
        exchange, _ = client.fetch_qr(f"{qr.url}/latest/meta-data/")
    assert (exchange.response.body, exchange.response.withheld) == (b"", len(hostile.CLOUD_KEYS))
    assert qr_image_decodes(exchange).outcome is Outcome.WARN


def test_a_png_of_huge_dimensions_is_refused_before_decoding() -> None:
    with hostile.HostileServer(hostile.png_bomb) as qr, _target(qr.url) as client:
        exchange, _ = client.fetch_qr(f"{qr.url}/qr.png")
    finding = qr_image_decodes(exchange)
    assert finding.outcome is Outcome.WARN and "4096 × 4096 pixels of 4 channel(s)" in finding.detail


@pytest.mark.parametrize(
    "url", ["http://[::1:80/qr.png", "http://127.0.0.1:99999/qr.png", "http://127.0.0.1:port/qr.png", "http:///qr.png"]
)
def test_a_qr_url_that_cannot_be_sent_is_the_servers_fault_not_a_crash(url: str) -> None:
    with _target("http://127.0.0.1:9") as client:
        exchange, unreachable = client.fetch_qr(url)
    assert not unreachable and exchange.error_kind == ErrorKind.BAD_URL.value
    assert qr_image_decodes(exchange, unreachable=unreachable).outcome is Outcome.WARN


def test_a_redirect_to_a_url_that_cannot_be_sent_is_told_with_its_hop() -> None:
    with hostile.HostileServer(hostile.redirect_to("http://[::1:80/x")) as qr, _target(qr.url) as client:
        exchange, _ = client.fetch_qr(f"{qr.url}/qr.png")
    assert (
        exchange.error_kind == ErrorKind.BAD_URL.value and "after 1 redirect(s), at http://[::1:80/x" in exchange.error
    )


def test_a_qr_url_with_unicode_is_sent_percent_encoded() -> None:
    with hostile.HostileServer(hostile.png_bomb) as qr, _target(qr.url) as client:
        client.fetch_qr(f"{qr.url}/二维码.png?a b")
    assert qr.requests[0].path == "/%E4%BA%8C%E7%BB%B4%E7%A0%81.png?a%20b"
