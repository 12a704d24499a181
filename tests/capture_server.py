"""A loopback HTTP server that keeps every request exactly as it arrived (raw header lines, body bytes).

The curl-fidelity tests send the suite's curl lines here and compare what came
with the cassette. It answers each request with a fixed failure envelope and
closes the connection; it never sends "100 Continue", so a client that waits
for one is caught (its request shows an Expect header the cassette lacks).
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

ANSWER = b'{"code":"1001","message":"captured","data":null}'


@dataclass(frozen=True)
class Captured:
    method: str
    target: str
    """The request target as sent (path and query)."""
    headers: tuple[tuple[str, bytes], ...]
    """(name, raw value bytes) in the order sent."""
    body: bytes


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        request_line = self.rfile.readline(65537).rstrip(b"\r\n")
        method, target, _version = request_line.decode("latin-1").split(" ", 2)
        headers: list[tuple[str, bytes]] = []
        while True:
            line = self.rfile.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.rstrip(b"\r\n").partition(b":")
            headers.append((name.decode("latin-1"), value.strip(b" \t")))
        length = next((int(value) for name, value in headers if name.lower() == "content-length"), 0)
        body = self.rfile.read(length) if length else b""
        self.server.captured.append(Captured(method, target, tuple(headers), body))  # type: ignore[attr-defined]
        self.wfile.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(ANSWER)}\r\n\r\n".encode()
            + ANSWER
        )


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()


@contextmanager
def capture_server() -> Iterator[tuple[int, list[Captured]]]:
    """A running capture server on a free loopback port: (port, the requests it got, in order)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.captured = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], server.captured  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
