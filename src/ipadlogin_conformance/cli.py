"""The console tool: ``ipadlogin-conformance run | serve | requirements``.

``run`` is pytest over the packaged suite with the plugin loaded, so the
installed tool and a clone's ``pytest`` run the very same tests with the same
options; everything after ``run`` that the tool does not know is passed to pytest.
"""

from __future__ import annotations

import argparse
import sys

import pytest

from . import __version__

SUITE_PACKAGE = "ipadlogin_conformance.suite"
PLUGIN = "ipadlogin_conformance.plugin"


def run(pytest_args: list[str]) -> int:
    """The conformance job; pytest's exit status (0 pass, 1 failed, 4 usage error)."""
    return int(pytest.main(["--pyargs", SUITE_PACKAGE, "-p", PLUGIN, *pytest_args]))


def build_parser() -> argparse.ArgumentParser:
    from .server.__main__ import add_serve_arguments

    parser = argparse.ArgumentParser(prog="ipadlogin-conformance", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the conformance suite (options: see `run --help`)", add_help=False)
    add_serve_arguments(commands.add_parser("serve", help="start the reference server"))
    commands.add_parser("requirements", help="list the requirement catalog")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["run"]:
        return run(argv[1:])
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        from .server.__main__ import serve

        return serve(args) or 0
    if args.command == "requirements":
        from .catalog import load_catalog

        for requirement in load_catalog():
            print(f"{requirement.id:<8} {requirement.level.value:<7} {requirement.statement}")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
