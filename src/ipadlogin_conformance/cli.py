"""The console tool: ``ipadlogin-conformance run | serve | requirements | replay | docs``.

``run`` is pytest over the packaged suite with the plugin loaded, so the
installed tool and a clone's ``pytest`` run the very same tests with the same
options (one table: :data:`.settings.OPTIONS`). Arguments after ``--`` go to
pytest unchanged (``-- -n 2`` with the ``parallel`` extra, ``-- -k auth``).
Usage errors are one line and exit 4, as pytest's own.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, NoReturn

from . import __version__

SUITE_PACKAGE = "ipadlogin_conformance.suite"
PLUGIN = "ipadlogin_conformance.plugin"
PACKAGE_DIR = Path(__file__).resolve().parent
USAGE_ERROR = 4
"""pytest's exit status for a usage error; the tool uses it for every one."""


class UsageError(Exception):
    """Shown as one line; exit status 4."""


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line (no usage block) and exits 4."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


# --- run ----------------------------------------------------------------------------------


def add_run_arguments(parser: argparse.ArgumentParser, only: Sequence[str] | None = None,
                      defaults: dict[str, str] | None = None) -> argparse.ArgumentParser:
    """The suite's options, from the one table (:data:`.settings.OPTIONS`).

    ``only`` restricts them by name; ``defaults`` replaces the defaults shown (a replay records its own).
    """
    from .settings import OPTIONS

    for option in OPTIONS:
        if only is not None and option.name not in only:
            continue
        shown = (defaults or {}).get(option.name, option.default)
        default = f" (default: {shown})" if shown and not option.is_flag else ""
        env = "" if defaults is not None else f" [${option.env}]"
        kwargs: dict[str, Any] = {"dest": option.dest, "help": f"{option.help}{default}{env}"}
        if option.is_flag:
            kwargs["action"] = "store_true"
        else:
            kwargs["metavar"] = option.name.split("-")[-1].upper()
        parser.add_argument(f"--{option.name}", **kwargs)
    return parser


def _run_parser() -> _Parser:
    parser = _Parser(
        prog="ipadlogin-conformance run",
        description="Run the conformance suite: against --base-url, or the embedded reference server without one.",
        epilog=_run_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--base-url", metavar="URL", help="the server under test; none: the embedded reference server [$IPADLOGIN_BASE_URL]")
    add_run_arguments(parser)
    parser.add_argument("--hypothesis-seed", metavar="SEED", help="seed of the generated cases (replays a run exactly) [$IPADLOGIN_SEED]")
    return parser


PARALLEL_EXTRA = 'pip install "ipadlogin-conformance[parallel]"'
"""pytest-xdist, for `-- -n 2`: an extra, since a single run needs one process."""


def _run_epilog() -> str:
    import pytest

    from .reports.run import EXIT_MEANINGS

    also = {USAGE_ERROR: ", an unreachable --base-url or a reports dir that cannot be written",
            int(pytest.ExitCode.NO_TESTS_COLLECTED): " (e.g. `-- -k` matched nothing)"}
    codes = "\n".join(f"  {code}  {meaning}{also.get(code, '')}" for code, meaning in EXIT_MEANINGS.items())
    return ("Arguments after -- go to pytest unchanged, e.g. `-- -k auth`, or `-- -n 2` for two worker\n"
            f"processes, which needs pytest-xdist: {PARALLEL_EXTRA}\n\n"
            f"Exit status (pytest's):\n{codes}")


def _require_xdist_for(passthrough: Sequence[str]) -> None:
    """`-n` without pytest-xdist: say which extra brings it, not pytest's "unrecognized arguments"."""
    import importlib.util

    wants = any(arg.startswith("--numprocesses") or (arg.startswith("-n") and not arg.startswith("--")) for arg in passthrough)
    if wants and importlib.util.find_spec("xdist") is None:
        raise UsageError(f"-n needs pytest-xdist, which is not installed: {PARALLEL_EXTRA}")


def pytest_arguments(args: argparse.Namespace) -> list[str]:
    """The suite's options as pytest's command line (the plugin declares the same names)."""
    from .settings import OPTIONS

    argv: list[str] = []
    for option in OPTIONS:
        value = getattr(args, option.dest)
        if option.is_flag and value:
            argv.append(f"--{option.name}")
        elif not option.is_flag and value is not None:
            argv += [f"--{option.name}", value]
    if args.base_url:
        argv += ["--base-url", args.base_url]
    if args.hypothesis_seed:
        argv += ["--hypothesis-seed", args.hypothesis_seed]
    return argv


def run(argv: Sequence[str]) -> int:
    """The conformance job; pytest's exit status (see the epilog of ``run --help``)."""
    import pytest

    from . import plugin
    from .progress import Progress
    from .settings import SettingsError, resolve
    from .target import TargetConfig, Unreachable, require_reachable

    ours, passthrough = _split(argv)
    args = _run_parser().parse_args(ours)
    _require_xdist_for(passthrough)
    try:  # a wrong value or an unreachable target: one line here, before pytest starts
        settings = resolve(vars(args))
        if not settings.embedded:
            require_reachable(TargetConfig.for_settings(settings, settings.base_url, settings.token))
    except (SettingsError, Unreachable) as error:
        raise UsageError(str(error)) from None
    verbose = any(arg in ("-v", "-vv", "--verbose") for arg in passthrough)
    command = [
        "--pyargs", SUITE_PACKAGE, "-p", PLUGIN,
        # The suite's own settings, whatever directory this runs in: no user ini, conftest or cache.
        "-c", os.devnull, "--rootdir", str(PACKAGE_DIR), "--confcutdir", str(PACKAGE_DIR), "-p", "no:cacheprovider",
        "-o", "junit_family=xunit1",  # as pyproject.toml's: the family whose schema has per-test <properties>
        # The suite's tests never assert; rewriting the asserts of every plugin
        # module (schemathesis, hypothesis) would cost a second at each start.
        "--assert=plain",
        *([] if verbose else ["-q"]),
        *pytest_arguments(args), *passthrough,
    ]
    # The plugin module goes in as an object too: registered before "-p" is read, pytest does not
    # try to rewrite it (it is imported already); xdist workers load it by "-p".
    plugins = [plugin] if verbose else [plugin, Progress()]
    with hypothesis_storage():
        return int(pytest.main(command, plugins=plugins))


def user_cache_dir() -> Path:
    """The tool's folder in the user's cache directory (XDG on Linux, as pip's)."""
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "ipadlogin-conformance"


@contextmanager
def hypothesis_storage() -> Iterator[None]:
    """Hypothesis's storage in the user's cache directory while the tool runs, not in the working one.

    The tool runs in the user's directory and leaves only its reports there. Hypothesis
    keeps no examples (no database), but it caches what it derives once, above all the
    Unicode tables, whose first computation peaks at about 150 MB: a fresh folder per run
    made every run pay it. A HYPOTHESIS_STORAGE_DIRECTORY of the user's is left alone.
    """
    if "HYPOTHESIS_STORAGE_DIRECTORY" in os.environ:
        yield
        return
    with ExitStack() as stack:
        storage = user_cache_dir() / "hypothesis"
        try:
            storage.mkdir(parents=True, exist_ok=True)
        except OSError:  # no writable home (some CI containers): a temporary folder, cold at every run
            storage = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ipadlogin-hypothesis-")))
        os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = str(storage)
        try:
            yield
        finally:
            del os.environ["HYPOTHESIS_STORAGE_DIRECTORY"]


def _split(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    argv = list(argv)
    if "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1:]
    return argv, []


# --- replay -------------------------------------------------------------------------------


def replay_command(args: argparse.Namespace) -> int:
    """Judge a cassette again and write the reports; the exit status the replayed verdicts give."""
    from .cassette import CassetteError, read_cassette
    from .plugin import write_table
    from .replay import PlainReporter, replay, run_info, settings_of, write_run_reports
    from .reports import ReportsDirError
    from .settings import SettingsError

    try:
        cassette = read_cassette(Path(args.cassette))
        settings = settings_of(cassette.run, vars(args), Path(args.cassette).parent / "replay")
        replayed = replay(cassette, settings)
    except (CassetteError, SettingsError, ValueError) as error:
        raise UsageError(str(error)) from None
    run = run_info(replayed, cassette.run_info)
    try:
        written = write_run_reports(replayed, run)
    except ReportsDirError as error:
        raise UsageError(str(error)) from None
    write_table(PlainReporter(), replayed.results, settings)
    changed = replayed.changed()
    if changed:
        print("changed since the recording: " + ", ".join(f"{rid} {was} → {now}" for rid, (was, now) in changed.items()))
    else:
        print("every verdict as recorded")
    print(f"reports: {', '.join(str(path) for path in written)}")
    return run.exit_status


# --- requirements, docs, version ----------------------------------------------------------


def requirements_command(fmt: str) -> int:
    from .catalog import load_catalog

    catalog = load_catalog()
    if fmt == "json":
        rows = [{"id": r.id, "level": r.level.value, "area": r.area, "statement": r.statement,
                 "should": r.should, "errata": r.errata, "seed": r.seed} for r in catalog]
        print(json.dumps({"version": catalog.version, "requirements": rows}, ensure_ascii=False, indent=2))
    elif fmt == "markdown":
        print("| ID | level | area | requirement |\n|---|---|---|---|")
        for r in catalog:
            statement = (r.statement + (f" SHOULD: {r.should}" if r.should else "")).replace("|", "\\|")
            print(f"| {r.id} | {r.level.value} | {r.area} | {statement} |")
    else:
        for r in catalog:
            print(f"{r.id:<8} {r.level.value:<7} {r.statement}")
    return 0


def version_text() -> str:
    from .catalog import load_catalog
    from .spec import spec_sha256, spec_version

    catalog = load_catalog()
    return (f"ipadlogin-conformance {__version__} · spec (openapi.yaml) {spec_version()} sha256 {spec_sha256()[:12]}"
            f" · catalog version {catalog.version} ({len(catalog)} requirements)")


class _Version(argparse.Action):
    """--version, computed only when asked (it reads the spec)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="print suite, spec and catalog versions")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> NoReturn:
        print(version_text())
        parser.exit()


def build_parser() -> _Parser:
    from .server.__main__ import add_serve_arguments

    parser = _Parser(prog="ipadlogin-conformance", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action=_Version)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    commands.add_parser("run", help="run the conformance suite (options: run --help)", add_help=False)
    add_serve_arguments(commands.add_parser("serve", help="start the reference server (--fault NAME breaks one requirement)"))
    listing = commands.add_parser("requirements", help="print the requirement catalog")
    listing.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    again = commands.add_parser("replay", help="judge a saved cassette (reports/exchanges.har) again, offline")
    again.add_argument("cassette", metavar="CASSETTE", help="a HAR file written by a run")
    from .replay import REPLAY_OPTIONS

    add_run_arguments(again, only=REPLAY_OPTIONS, defaults={
        "profile": "as recorded", "latency-budget": "as recorded", "reports-dir": "replay/ beside the cassette"})
    docs = commands.add_parser("docs", help="generate documentation")
    docs.add_argument("document", choices=("vendors",), help="vendors: the vendor guide (docs/vendors.md)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["run"]:
            return run(argv[1:])
        args = build_parser().parse_args(argv)
        if args.command == "serve":
            from .server.__main__ import serve

            return serve(args) or 0
        if args.command == "requirements":
            return requirements_command(args.format)
        if args.command == "replay":
            return replay_command(args)
        from .vendor_docs import vendor_guide

        notes: list[str] = []
        sys.stdout.write(vendor_guide(notes))
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        return 0
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 2
    except BrokenPipeError:  # `... | head`: the reader has all it wanted
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - no flush error at exit
        return 0


if __name__ == "__main__":
    sys.exit(main())
