"""The servers the benchmark measures, all on one stack: Starlette on uvicorn, the same flags.

``python -m bench.servers APP`` binds a free loopback port, prints ``ready at URL``
and serves until its stdin closes. APP is:

- ``reference``: the reference server's app, exactly as ``ipadlogin_conformance.server`` runs it;
- ``counted``: the same app behind a counter, so the benchmark can read how many
  requests a client sent and over which span (``GET /__bench__``), measured
  the same way for the suite and for schemathesis's CLI;
- ``hello``: a minimal hello-world Starlette app, the stack's own ceiling.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from typing import Any

STATS_PATH = "/__bench__"


def hello_app() -> Any:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def hello(request: Any) -> PlainTextResponse:
        return PlainTextResponse("hello, world")

    return Starlette(routes=[Route("/iPadLogin", hello, methods=["POST"])])


class Counted:
    """Counts HTTP requests and the span from the first one's start to the last one's end."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.first: float | None = None
        self.last: float | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == STATS_PATH:
            body = json.dumps({"requests": self.requests, "first": self.first, "last": self.last}).encode()
            if scope["method"] == "DELETE":
                self.reset()
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
            )
            await send({"type": "http.response.body", "body": body})
            return
        self.requests += 1
        if self.first is None:
            self.first = time.monotonic()
        try:
            await self.app(scope, receive, send)
        finally:
            self.last = time.monotonic()


def build(name: str) -> Any:
    if name == "hello":
        return hello_app()
    from ipadlogin_conformance.server import ServerConfig, create_app

    app = create_app(ServerConfig.from_env(access_log=False))
    return Counted(app) if name == "counted" else app


def main(argv: list[str]) -> int:
    import uvicorn

    sock = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    # The flags of ipadlogin_conformance.server's serve(): the same for every app measured.
    server = uvicorn.Server(uvicorn.Config(build(argv[0]), log_level="warning", access_log=False, lifespan="off"))

    def stop_on_eof() -> None:
        sys.stdin.buffer.read()
        server.should_exit = True

    threading.Thread(target=stop_on_eof, daemon=True).start()
    original_startup = server.startup

    async def startup(sockets: Any = None) -> None:
        await original_startup(sockets)
        print(f"ready at {url}", flush=True)

    server.startup = startup  # type: ignore[method-assign]
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
