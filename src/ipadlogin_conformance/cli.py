"""The console tool: ``ipadlogin-conformance run | serve | requirements | replay | resend | compare``.

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
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .runner.console import UsageError, add_run_arguments, hypothesis_storage

SUITE_PACKAGE = "ipadlogin_conformance.suite"
PLUGIN = "ipadlogin_conformance.runner.plugin"
PACKAGE_DIR = Path(__file__).resolve().parent
USAGE_ERROR = 4
"""pytest's exit status for a usage error; the tool uses it for every one."""
DESCRIPTION = "The iPadLogin conformance suite and its reference server."
"""--help is plain text: the module docstring is reST for the next engineer, not for the terminal."""


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line (no usage block) and exits 4."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


# --- run ----------------------------------------------------------------------------------


def _run_parser() -> _Parser:
    parser = _Parser(
        prog="ipadlogin-conformance run",
        description="Run the conformance suite: against --base-url, or the embedded reference server without one.",
        epilog=_run_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="the server under test; none: the embedded reference server "
        "[$IPADLOGIN_BASE_URL or $PYTEST_BASE_URL; two sources that disagree are an error]",
    )
    add_run_arguments(parser)
    parser.add_argument(
        "--hypothesis-seed",
        metavar="SEED",
        help="seed of the generated cases (replays a run exactly) [$IPADLOGIN_SEED]",
    )
    return parser


PARALLEL_EXTRA = 'pip install "ipadlogin-conformance[parallel]"'
"""pytest-xdist, for `-- -n 2`: an extra, since a single run needs one process."""


def _run_epilog() -> str:
    import pytest

    from .reports.run import EXIT_MEANINGS

    also = {
        USAGE_ERROR: ", an unreachable --base-url or a reports dir that cannot be written",
        int(pytest.ExitCode.NO_TESTS_COLLECTED): " (e.g. -- -k matched nothing)",
    }
    codes = "\n".join(f"  {code}  {meaning}{also.get(code, '')}" for code, meaning in EXIT_MEANINGS.items())
    return (
        "Arguments after -- go to pytest unchanged, e.g. '-- -k auth', or '-- -n 2' for two worker\n"
        f"processes, which needs pytest-xdist: {PARALLEL_EXTRA}\n\n"
        f"Exit status (pytest's):\n{codes}"
    )


def _require_xdist_for(passthrough: Sequence[str]) -> None:
    """`-n` without pytest-xdist: say which extra brings it, not pytest's "unrecognized arguments"."""
    import importlib.util

    wants = any(
        arg.startswith("--numprocesses") or (arg.startswith("-n") and not arg.startswith("--")) for arg in passthrough
    )
    if wants and importlib.util.find_spec("xdist") is None:
        raise UsageError(f"-n needs pytest-xdist, which is not installed: {PARALLEL_EXTRA}")


def pytest_arguments(args: argparse.Namespace) -> list[str]:
    """The suite's options as pytest's command line (the plugin declares the same names).

    Each value is joined to its option (``--opt=value``): a value that starts
    with a dash, or names an existing path, then reaches the option it belongs to.
    """
    from .core.settings import OPTIONS

    argv: list[str] = []
    for option in OPTIONS:
        value = getattr(args, option.dest)
        if option.is_flag and value:
            argv.append(f"--{option.name}")
        elif not option.is_flag and value is not None:
            argv.append(f"--{option.name}={value}")
    if args.base_url:
        argv.append(f"--base-url={args.base_url}")
    if args.hypothesis_seed:
        argv.append(f"--hypothesis-seed={args.hypothesis_seed}")
    return argv


def run(argv: Sequence[str]) -> int:
    """The conformance job; pytest's exit status (see the epilog of ``run --help``)."""
    import pytest

    from .client.target import TargetConfig, Unreachable, require_reachable
    from .core.settings import SettingsError, resolve
    from .runner import plugin
    from .runner.progress import Progress

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
        "--pyargs",
        SUITE_PACKAGE,
        "-p",
        PLUGIN,
        # The suite's own settings, whatever directory this runs in: no user ini, conftest or cache.
        "-c",
        os.devnull,
        "--rootdir",
        str(PACKAGE_DIR),
        "--confcutdir",
        str(PACKAGE_DIR),
        "-p",
        "no:cacheprovider",
        "-o",
        "junit_family=xunit1",  # as pyproject.toml's: the family whose schema has per-test <properties>
        # The suite's tests never assert; rewriting the asserts of every plugin
        # module (schemathesis, hypothesis) would cost a second at each start.
        "--assert=plain",
        # Quiet: the progress lines say it all, and its short summary replaces pytest's (-rN): pytest's names
        # each test by its path into site-packages.
        *([] if verbose else ["-q", "-rN"]),
        *pytest_arguments(args),
        *passthrough,
    ]
    # The plugin module goes in as an object too: registered before "-p" is read, pytest does not
    # try to rewrite it (it is imported already); xdist workers load it by "-p".
    plugins = [plugin] if verbose else [plugin, Progress()]
    with hypothesis_storage():
        return int(pytest.main(command, plugins=plugins))


def _split(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    argv = list(argv)
    if "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1 :]
    return argv, []


# --- replay -------------------------------------------------------------------------------


def replay_command(args: argparse.Namespace) -> int:
    """Judge a cassette again and write the reports; the exit status the replayed verdicts give."""
    from .core.redaction import Redactor
    from .core.reproduce import Reproduction
    from .core.settings import SettingsError
    from .reports import ReportsDirError
    from .reports.cassette import CassetteError, read_cassette
    from .results.overall import run_verdict
    from .runner.findings import write_findings
    from .runner.replay import PlainReporter, replay, run_info, settings_of, write_run_reports
    from .runner.terminal import write_table

    try:
        cassette = read_cassette(Path(args.cassette))
        settings = settings_of(cassette.run, vars(args), Path(args.cassette).parent / "replay")
        replayed = replay(cassette, settings)
    except (CassetteError, SettingsError, ValueError) as error:
        raise UsageError(str(error)) from None
    run = run_info(replayed, cassette.run_info)
    try:
        written = write_run_reports(replayed, run, Path(args.cassette))
    except ReportsDirError as error:
        raise UsageError(str(error)) from None
    write_findings(
        PlainReporter(),
        replayed.results,
        Reproduction.in_reports(settings.reports_dir, Path(args.cassette)),
        Redactor(settings.token),
    )
    write_table(
        PlainReporter(),
        replayed.results,
        settings,
        run_verdict(replayed.results, settings.warnings_as_errors, run.incomplete_reasons),
    )
    changed = replayed.changed()
    if changed:
        print(
            "changed since the recording: " + ", ".join(f"{rid} {was} → {now}" for rid, (was, now) in changed.items())
        )
    else:
        print("every verdict as recorded")
    print(f"reports: {', '.join(str(path) for path in written)}")
    return run.exit_status


# --- resend -------------------------------------------------------------------------------

RESEND_OPTIONS = ("auth-token", "insecure", "ca-bundle")


def resend_command(args: argparse.Namespace) -> int:
    """Send one recorded request again; 1 when the answer breaks a MUST, as a run would exit."""
    from .core.settings import OPTIONS
    from .core.verdict import Outcome
    from .reports.cassette import CassetteError
    from .reports.evidence import describe_exchange, shown
    from .runner.progress import short_test_id
    from .runner.resend import ResendError, resend

    given: dict[str, Any] = {}
    for option in OPTIONS:
        if option.name in RESEND_OPTIONS:
            raw = getattr(args, option.dest) or os.environ.get(option.env) or None
            try:
                given[option.name] = option.parse(raw) if isinstance(raw, str) else raw
            except ValueError as error:
                raise UsageError(f"--{option.name}={raw!r}: {error}") from None
    try:
        resent = resend(
            Path(args.cassette),
            args.request_id,
            base_url=args.base_url,
            token=given["auth-token"],
            verify_tls=False if given["insecure"] else None,
            ca_bundle=given["ca-bundle"],
        )
    except (CassetteError, ResendError) as error:
        raise UsageError(str(error)) from None
    print(f"request {args.request_id} of {short_test_id(resent.test_id)}, sent again:")
    print("\n".join(describe_exchange(resent.exchange)))
    problems = [finding for finding in resent.findings if finding.is_problem]
    for finding in problems:
        print(f"{finding.requirement} {finding.outcome.value}: {shown(finding.detail)}")
    held = sorted({finding.requirement for finding in resent.findings} - {finding.requirement for finding in problems})
    if held:
        print(f"pass: {', '.join(held)}")
    return 1 if any(finding.outcome is Outcome.FAIL for finding in problems) else 0


# --- requirements, docs, version ----------------------------------------------------------


def requirements_command(fmt: str) -> int:
    from .contract.catalog import load_catalog

    catalog = load_catalog()
    if fmt == "json":
        rows = [
            {
                "id": r.id,
                "level": r.level.value,
                "area": r.area,
                "statement": r.statement,
                "should": r.should,
                "errata": r.errata,
                "seed": r.seed,
            }
            for r in catalog
        ]
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
    from .contract.catalog import load_catalog
    from .contract.spec import spec_sha256, spec_version

    catalog = load_catalog()
    return (
        f"ipadlogin-conformance {__version__} · spec (openapi.yaml) {spec_version()} sha256 {spec_sha256()[:12]}"
        f" · catalog version {catalog.version} ({len(catalog)} requirements)"
    )


class _Version(argparse.Action):
    """--version, computed only when asked (it reads the spec)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="print suite, spec and catalog versions"
        )

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> NoReturn:
        print(version_text())
        parser.exit()


def build_parser() -> _Parser:
    from .server.__main__ import add_serve_arguments

    parser = _Parser(prog="ipadlogin-conformance", description=DESCRIPTION)
    parser.add_argument("--version", action=_Version)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    commands.add_parser("run", help="run the conformance suite (options: run --help)", add_help=False)
    add_serve_arguments(
        commands.add_parser("serve", help="start the reference server (--fault NAME breaks one requirement)")
    )
    listing = commands.add_parser("requirements", help="print the requirement catalog")
    listing.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    again = commands.add_parser("replay", help="judge a saved cassette (reports/exchanges.har) again, offline")
    again.add_argument("cassette", metavar="CASSETTE", help="a HAR file written by a run")
    from .runner.replay import REPLAY_OPTIONS

    add_run_arguments(
        again,
        only=REPLAY_OPTIONS,
        defaults={
            "profile": "as recorded",
            "latency-budget": "as recorded",
            "reports-dir": "replay/ beside the cassette",
        },
    )
    from .compare.command import add_compare_arguments

    add_compare_arguments(
        commands.add_parser(
            "compare",
            help="send the suite's requests to two implementations (or re-send a cassette) and diff the answers",
        )
    )
    resending = commands.add_parser(
        "resend",
        help="send one recorded request again and judge the answer (no POSIX shell needed)",
        description="Send one request of a cassette again, byte for byte, and judge the answer as the run did. "
        'The reports name each request\'s id ("or: ipadlogin-conformance resend ...").',
    )
    resending.add_argument("cassette", metavar="CASSETTE", help="a HAR file written by a run (reports/exchanges.har)")
    resending.add_argument("request_id", metavar="ID", help="the request's id, as the reports print it")
    resending.add_argument("--base-url", metavar="URL", help="send it to this server instead (the path is kept)")
    add_run_arguments(resending, only=RESEND_OPTIONS)
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
        if args.command == "compare":
            from .compare.command import compare_command

            return compare_command(args)
        return resend_command(args)
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
