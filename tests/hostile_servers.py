"""Servers that misbehave on purpose, on loopback, for tests/test_hostile.py.

Plain sockets in threads: each connection gets one behaviour, whatever the
method or path. Responses go out with TCP_NODELAY and, where complete, in one
write (PERF-FACTS: a stdlib server that writes headers and body apart stalls
40 ms per request). Every loop is bounded in bytes and time, and every server
stops when closed, so nothing outlives the test.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import select
import socket
import ssl
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

HOLD_S = 30.0
"""The longest any behaviour keeps a connection: far beyond the suite's timeout, still bounded."""
BLOCK = b" " * 65536
ENVELOPE_START = b'{"code":"1000","message":"ok","data":{"wId":"w","qrCodeUrl":"http://127.0.0.1:1/qr.png"},"pad":"'
FAILURE = b'{"code":"1001","message":"refused","data":null}'
FORGED = (
    b'{"code":"1000","message":"FORGED-ANSWER","data":{"wId":"forged","qrCodeUrl":"http://127.0.0.1:1/forged.png"}}'
)
"""Bytes a desynchronising server appends: read as the next request's answer, they would be a success."""
CLOUD_KEYS = b"AccessKeyId=ASIAHOSTILETEST7EXAMPLE\nSecretAccessKey=hostile/secret+key/wJalrXUtnFEMI7K7MDENG\n"
"""What a metadata service would hand out: it must never reach a report."""


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
    next_request: Callable[[], Request | None] = lambda: None
    """Reads the next request on this connection (keep-alive), counted by the server as a reused connection."""

    def running(self) -> bool:
        return not self.stop.is_set() and time.monotonic() < self.deadline

    def client_left(self, conn: socket.socket, seconds: float) -> bool:
        """Wait up to ``seconds``; True at once when the client closed the connection (or the server stops).

        A stalling behaviour returns then, so the server sees when the suite let go of it, not a write later.
        """
        end = min(time.monotonic() + seconds, self.deadline)
        while not self.stop.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return False
            readable, _, _ = select.select([conn], [], [], min(left, 0.1))
            if readable:
                try:
                    if conn.recv(1, socket.MSG_PEEK) == b"":
                        return True
                except OSError:
                    return True
                time.sleep(min(left, 0.1))  # bytes of a next request: not our business here
        return True


Behaviour = Callable[[socket.socket, Context], None]


def response_head(
    status: str, content_type: str | None = "application/json", *, keep_alive: bool = False, **headers: str | int
) -> bytes:
    lines = [f"HTTP/1.1 {status}"]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    if not keep_alive:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def silent(conn: socket.socket, ctx: Context) -> None:
    """Accepts, reads the request, never answers."""
    ctx.client_left(conn, max(0.0, ctx.deadline - time.monotonic()))


def trickle(conn: socket.socket, ctx: Context) -> None:
    """Headers at once, then the body a byte a second."""
    conn.sendall(response_head("200 OK", Content_Length=64))
    for _ in range(64):
        if ctx.client_left(conn, 1.0) or not ctx.running():
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
    conn.sendall(
        response_head("200 OK", Transfer_Encoding="chunked") + b"%x\r\n%s\r\n" % (len(ENVELOPE_START), ENVELOPE_START)
    )
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


def trickle_head(conn: socket.socket, ctx: Context) -> None:
    """A header block a byte every half second that never ends (httpx's per-read timeout never fires)."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    while not ctx.client_left(conn, 0.5) and ctx.running():
        conn.sendall(b"a")


def header_flood(conn: socket.socket, ctx: Context) -> None:
    """10,000 headers (about 90 KB, under h11's 100 KiB limit), then a valid envelope."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % len(FAILURE)
    conn.sendall(
        head + b"".join(b"X-Flood-%d: v\r\n" % i for i in range(10_000)) + b"Connection: close\r\n\r\n" + FAILURE
    )


def _desync(first_head: bytes, first_body: bytes) -> Behaviour:
    def behaviour(conn: socket.socket, ctx: Context) -> None:
        forged = response_head("200 OK", keep_alive=True, Content_Length=len(FORGED)) + FORGED
        while ctx.running():
            conn.sendall(first_head + first_body + forged)  # one write: the forged answer arrives with the first
            if ctx.next_request() is None:
                return

    return behaviour


short_content_length = _desync(response_head("200 OK", keep_alive=True, Content_Length=len(FAILURE)), FAILURE)
short_content_length.__doc__ = (
    "Kept-alive answers whose Content-Length stops short: what follows is a forged second answer."
)
no_content_with_body = _desync(response_head("204 No Content", None, keep_alive=True), FAILURE)
no_content_with_body.__doc__ = "A 204 that carries a body, followed by a forged answer, on a kept-alive connection."


def echo_token(conn: socket.socket, ctx: Context) -> None:
    """Echoes the Authorization value back in every form: headers, body, the qrCodeUrl, an error text.

    Its QR path answers 404 with the path it was asked for (the token, URL-encoded, in its query).
    """
    token = ctx.request.headers.get("authorization", "")
    raw = token.encode()
    if ctx.request.path.startswith("/qr/"):
        body = json.dumps({"code": "1001", "message": f"no such image: {ctx.request.path}", "data": None}).encode()
        conn.sendall(response_head("404 Not Found", Content_Length=len(body)) + body)
        return
    if ctx.request.headers.get("content-type") == "text/plain":  # the REQ-10 text case: a status line h11 rejects
        conn.sendall(b"HTTP/1.1 2x0 " + raw + b"\r\n\r\n")
        return
    forms = [
        token,
        base64.b64encode(raw).decode(),
        base64.b64encode(b"u:" + raw).decode(),
        quote(token, safe=""),
        raw.hex(),
    ]
    qr_url = f"{ctx.links['self']}/qr/w-1.png?t={quote(token, safe='')}"
    body = json.dumps(
        {"code": "1000", "message": " ".join(forms), "data": {"wId": token, "qrCodeUrl": qr_url}}
    ).replace("/", "\\/")
    data = body.encode()
    conn.sendall(
        response_head(
            "200 OK",
            Content_Length=len(data),
            X_Echo=token,
            X_Echo_B64=forms[1],
            Set_Cookie=f"s={quote(token, safe='')}",
        )
        + data
    )


def qr_secret(conn: socket.socket, ctx: Context) -> None:
    """A metadata-style service: credentials as text to whoever asks."""
    conn.sendall(response_head("200 OK", "text/plain", Content_Length=len(CLOUD_KEYS)) + CLOUD_KEYS)


def redirect_to(location: str, delay_s: float = 0.0) -> Behaviour:
    """A 302 to ``location`` (``{path}`` is the request's path), after ``delay_s`` seconds."""

    def redirect(conn: socket.socket, ctx: Context) -> None:
        if ctx.stop.wait(delay_s):
            return
        target = location.format(path=ctx.request.path)
        conn.sendall(response_head("302 Found", None, Location=target, Content_Length=0))

    return redirect


def _png_bomb() -> bytes:
    """A PNG of 4096 × 4096 RGBA pixels (64 MiB decoded) in about 70 KB: zeros compress well."""
    width = height = 4096
    deflater = zlib.compressobj(9)
    row = bytes(1 + 4 * width)  # filter byte 0, then black transparent pixels
    idat = b"".join(deflater.compress(row) for _ in range(height)) + deflater.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def png_bomb(conn: socket.socket, ctx: Context) -> None:
    image = _png_bomb()
    conn.sendall(response_head("200 OK", "image/png", Content_Length=len(image)) + image)


def slow_failure(conn: socket.socket, ctx: Context) -> None:
    """A failure envelope after 0.3 s: a long run that is well under way when it is stopped."""
    if not ctx.stop.wait(0.3):
        conn.sendall(response_head("200 OK", Content_Length=len(FAILURE)) + FAILURE)


def forward_proxy(conn: socket.socket, ctx: Context) -> None:
    """An HTTP proxy that answers for every host itself: a success to POST, 404 to anything else."""
    if ctx.request.method == "POST":
        login_pointing_at(ctx.request.path.replace("/iPadLogin", "/qr/w-1.png"))(conn, ctx)
    else:
        not_found(conn, ctx)


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
        self.last_activity: float | None = None
        """time.monotonic() when the client last let go of a connection (closed it, or the exchange ended)."""
        self.reused = 0
        """Requests that came on a connection that had carried one before."""
        self._stop = threading.Event()
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(0.2)
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        port = self._listener.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://{host}:{port}"
        self.links["self"] = self.url
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

            def next_request() -> Request | None:
                following = _read_request(conn)
                if following is not None:
                    with self._lock:
                        self.requests.append(following)
                        self.reused += 1
                return following

            self.behaviour(conn, Context(request, self._stop, time.monotonic() + HOLD_S, self.links, next_request))
        except (OSError, ValueError):
            pass  # the client left, or spoke no HTTP: nothing to do either way
        finally:
            _close_quietly(conn)
            with self._lock:
                self.last_activity = time.monotonic()


def _read_request(conn: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = conn.recv(65536)
        except OSError:  # the client closed or reset the connection
            return None
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
