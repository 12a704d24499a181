"""Servers that misbehave on purpose, on loopback, for tests/test_hostile.py.

Plain sockets in threads: each connection gets one behaviour, whatever the
method or path. Responses go out with TCP_NODELAY and, where complete, in one
write (PERF-FACTS: a stdlib server that writes headers and body apart stalls
40 ms per request). Every loop is bounded in bytes and time, and every server
stops when closed, so nothing outlives the test.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HOLD_S = 30.0
"""The longest any behaviour keeps a connection: far beyond the suite's timeout, still bounded."""
BLOCK = b" " * 65536
ENVELOPE_START = b'{"code":"1000","message":"ok","data":{"wId":"w","qrCodeUrl":"http://127.0.0.1:1/qr.png"},"pad":"'


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Context:
    """What a behaviour may use: the request, the stop signal, other servers' URLs."""

    request: Request
    stop: threading.Event
    deadline: float
    links: dict[str, str] = field(default_factory=dict)

    def running(self) -> bool:
        return not self.stop.is_set() and time.monotonic() < self.deadline


Behaviour = Callable[[socket.socket, Context], None]


def response_head(status: str, content_type: str | None = "application/json", **headers: str | int) -> bytes:
    lines = [f"HTTP/1.1 {status}"]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def silent(conn: socket.socket, ctx: Context) -> None:
    """Accepts, reads the request, never answers."""
    ctx.stop.wait(max(0.0, ctx.deadline - time.monotonic()))


def trickle(conn: socket.socket, ctx: Context) -> None:
    """Headers at once, then the body a byte a second."""
    conn.sendall(response_head("200 OK", Content_Length=64))
    for _ in range(64):
        if ctx.stop.wait(1.0) or not ctx.running():
            return
        conn.sendall(b" ")


def huge(conn: socket.socket, ctx: Context) -> None:
    """A 1 GiB body, streamed from one 64 KiB block."""
    size = 1 << 30
    conn.sendall(response_head("200 OK", Content_Length=size) + ENVELOPE_START)
    sent = len(ENVELOPE_START)
    while sent < size and ctx.running():
        conn.sendall(BLOCK[: size - sent])
        sent += len(BLOCK)


def endless_chunks(conn: socket.socket, ctx: Context) -> None:
    """Transfer-Encoding: chunked that never ends (until the client leaves or time is up)."""
    conn.sendall(response_head("200 OK", Transfer_Encoding="chunked") + b"%x\r\n%s\r\n" % (len(ENVELOPE_START), ENVELOPE_START))
    chunk = b"%x\r\n%s\r\n" % (len(BLOCK), BLOCK)
    for _ in range(1 << 15):  # 2 GiB at most
        if not ctx.running():
            return
        conn.sendall(chunk)


def reset_mid_body(conn: socket.socket, ctx: Context) -> None:
    """Promises 1000 bytes, sends a few, then resets the connection (RST, not FIN)."""
    conn.sendall(response_head("200 OK", Content_Length=1000) + ENVELOPE_START[:20])
    time.sleep(0.002)  # let the head arrive first: the reset must cut the body, not the headers
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def invalid_utf8(conn: socket.socket, ctx: Context) -> None:
    """A complete answer whose body is not UTF-8."""
    body = b'{"code":"1000","message":"\xff\xfe\xc3\x28","data":null}'
    conn.sendall(response_head("200 OK", Content_Length=len(body)) + body)


def _bomb(size: int = 10 * 1024 * 1024) -> bytes:
    """About ``size`` bytes of gzip that inflate to about a thousand times more (zeros).

    Made by repeating one fully flushed deflate block, so it costs
    milliseconds, not the minutes of compressing gigabytes. The trailer never
    comes: a client must stop long before it would.
    """
    deflater = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(1 << 20)
    head = deflater.compress(zeros) + deflater.flush(zlib.Z_FULL_FLUSH)
    unit = deflater.compress(zeros) + deflater.flush(zlib.Z_FULL_FLUSH)
    return head + unit * ((size - len(head)) // len(unit))


BOMB = _bomb()


def gzip_bomb(conn: socket.socket, ctx: Context) -> None:
    """Content-Encoding: gzip, 10 MB on the wire, gigabytes once inflated."""
    conn.sendall(response_head("200 OK", Content_Length=len(BOMB), Content_Encoding="gzip"))
    view = memoryview(BOMB)
    for start in range(0, len(BOMB), len(BLOCK)):
        if not ctx.running():
            return
        conn.sendall(view[start : start + len(BLOCK)])


def redirect_loop(conn: socket.socket, ctx: Context) -> None:
    """307 back to the same URL, forever."""
    conn.sendall(response_head("307 Temporary Redirect", None, Location=ctx.request.path, Content_Length=0))


def redirect_away(conn: socket.socket, ctx: Context) -> None:
    """307 to another host (the witness), which must never see the token."""
    location = ctx.links["witness"] + ctx.request.path
    conn.sendall(response_head("307 Temporary Redirect", None, Location=location, Content_Length=0))


def not_found(conn: socket.socket, ctx: Context) -> None:
    body = b'{"code":"1001","message":"not found","data":null}'
    conn.sendall(response_head("404 Not Found", Content_Length=len(body)) + body)


def login_pointing_at(qr_url: str) -> Behaviour:
    """A correct-looking login that succeeds with ``qrCodeUrl`` set to ``qr_url``."""

    def login(conn: socket.socket, ctx: Context) -> None:
        body = b'{"code":"1000","message":"ok","data":{"wId":"w-1","qrCodeUrl":"%s"}}' % qr_url.encode()
        conn.sendall(response_head("200 OK", Content_Length=len(body)) + body)

    return login


class HostileServer:
    """Listens on ``host``, runs ``behaviour`` on every request, records what it was sent."""

    def __init__(self, behaviour: Behaviour, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.behaviour = behaviour
        self.tls = tls
        self.links: dict[str, str] = {}
        self.requests: list[Request] = []
        self.first_request: float | None = None
        """time.monotonic() when the first complete request head arrived (a bare TCP probe is no request)."""
        self._stop = threading.Event()
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(0.2)
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        port = self._listener.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://{host}:{port}"
        self._thread = threading.Thread(target=self._accept, daemon=True, name=f"hostile-{behaviour.__name__}")

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()
        with self._lock:
            for conn in self._connections:
                _close_quietly(conn)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._connections.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.settimeout(HOLD_S)
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            request = _read_request(conn)
            if request is None:
                return
            with self._lock:
                self.first_request = self.first_request or time.monotonic()
                self.requests.append(request)
            self.behaviour(conn, Context(request, self._stop, time.monotonic() + HOLD_S, self.links))
        except (OSError, ValueError):
            pass  # the client left, or spoke no HTTP: nothing to do either way
        finally:
            _close_quietly(conn)


def _read_request(conn: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk or len(data) > 1 << 16:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path = lines[0].split(" ")[:2]
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    remaining = int(headers.get("content-length", "0")) - len(body)
    while remaining > 0:
        chunk = conn.recv(min(remaining, 65536))
        if not chunk:
            break
        remaining -= len(chunk)
    return Request(method, path, headers)


def _close_quietly(conn: socket.socket) -> None:
    try:
        conn.close()
    except OSError:
        pass


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 and localhost, signed by itself: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ipadlogin hostile test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


class TlsReferenceServer:
    """The reference app on uvicorn in a thread, over TLS with the given certificate."""

    def __init__(self, token: str, cert: Path, key: Path) -> None:
        import uvicorn

        from ipadlogin_conformance.server import ServerConfig, create_app

        self._socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(
            create_app(ServerConfig(tokens=(token,), access_log=False)),
            log_level="warning",
            lifespan="off",
            ssl_certfile=str(cert),
            ssl_keyfile=str(key),
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    def __enter__(self) -> TlsReferenceServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.should_exit = True
        self._thread.join(5)
        self._socket.close()
