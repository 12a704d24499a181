"""``python -m ipadlogin_conformance.server``: run the reference server.

``add_serve_arguments`` and ``serve`` are separate so the console tool can
offer the same options as ``ipadlogin-conformance serve``.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
from collections.abc import Sequence
from typing import TextIO

from .config import DEFAULT_DEV_TOKEN, TOKEN_ENV, ServerConfig, check_faults, check_token
from .faults import CATALOG

DEFAULT_PORT = 18081  # the port of the API page's example URL
READY_MARKER = "ready at "  # the parent process looks for this on stdout


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"invalid port: {text!r}")
    return int(text)


def _fault(name: str) -> str:
    try:
        return check_faults([name])[0]
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _token(text: str) -> str:
    try:
        return check_token(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_serve_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``serve`` options to ``parser`` (returned for chaining)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help="port, 0 for any free one (default: %(default)s)"
    )
    parser.add_argument(
        "--token",
        type=_token,
        action="append",
        default=[],
        metavar="T",
        help=f"accepted Authorization token, repeatable (default: ${TOKEN_ENV}, else the public dev token; "
        "prefer the variable: arguments show in ps)",
    )
    parser.add_argument(
        "--fault", type=_fault, action="append", default=[], metavar="NAME", help="break one requirement, repeatable"
    )
    parser.add_argument("--list-faults", action="store_true", help="list faults and variations, then exit")
    parser.add_argument("--no-access-log", action="store_true", help="do not log one line per request")
    parser.add_argument("--stop-on-stdin-eof", action="store_true", help=argparse.SUPPRESS)  # for process.py
    return parser


def list_faults(out: TextIO | None = None) -> None:
    """One line per catalog entry: name, kind, requirement IDs, description."""
    width = max(map(len, CATALOG))
    for fault in CATALOG.values():
        parts = [",".join(fault.breaks)] if fault.breaks else []
        parts += [f"(warns {','.join(fault.warns)})"] if fault.warns else []
        ids = " ".join(parts) or "-"
        print(f"{fault.name:<{width}}  {fault.kind:<9}  {ids:<22}  {fault.description}", file=out or sys.stdout)


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def token_note(config: ServerConfig) -> str:
    """Which token to send: the public development token is shown, a configured one never is (it is a secret)."""
    if config.uses_dev_token:
        return (
            f"accepting the public development token: Authorization: {DEFAULT_DEV_TOKEN} "
            f"(export {TOKEN_ENV}={DEFAULT_DEV_TOKEN} for the suite; set ${TOKEN_ENV} for anything shared)"
        )
    count = len(config.tokens)
    return f"accepting the {count} token{'s' if count > 1 else ''} given by --token or ${TOKEN_ENV} (not shown)"


def serve(args: argparse.Namespace) -> int:
    """Run until SIGINT/SIGTERM (or stdin EOF with --stop-on-stdin-eof); returns an exit code."""
    if args.list_faults:
        list_faults()
        return 0
    import uvicorn  # here, not at import: --list-faults and --help stay fast

    from .app import create_app

    try:
        config = ServerConfig.from_env(args.token, args.fault, access_log=not args.no_access_log)
    except ValueError as exc:
        print(f"error: {exc} (check ${TOKEN_ENV})", file=sys.stderr)
        return 2
    try:
        family = socket.getaddrinfo(args.host, args.port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.create_server((args.host, args.port), family=family)
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    url = _url(args.host, sock.getsockname()[1])
    faults = ", ".join(config.faults) or "none"

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if not self.should_exit:
                print(f"ipadlogin reference server {READY_MARKER}{url} (faults: {faults})", flush=True)

    server = Server(
        uvicorn.Config(
            create_app(config),
            log_level="warning",
            access_log=False,  # AccessLog replaces it
            lifespan="off",
            timeout_graceful_shutdown=1,  # a hanging fault must not block shutdown
        )
    )
    print(token_note(config), file=sys.stderr)
    if args.stop_on_stdin_eof:  # the parent closed our stdin or died: do not outlive it

        def watch() -> None:
            sys.stdin.buffer.read()
            server.should_exit = True

        threading.Thread(target=watch, daemon=True).start()
    server.run(sockets=[sock])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ipadlogin_conformance.server", description=__doc__.splitlines()[0])
    try:
        return serve(add_serve_arguments(parser).parse_args(argv))
    except BrokenPipeError:  # `--list-faults | head`: the reader has all it wanted
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - no flush error at exit
        return 0


if __name__ == "__main__":
    sys.exit(main())
