"""``ipadlogin-conformance compare``: its options and the command.

Two forms:

- ``compare --base-url NEW --against OLD``: the suite's requests go to both targets.
- ``compare CASSETTE --against URL``: the requests of a recorded run (its
  ``exchanges.har``) are re-sent to URL, and the recording is the OLD side.

The suite's options come from the one table (:data:`~ipadlogin_conformance.core.settings.OPTIONS`)
and are resolved per live side by :func:`~ipadlogin_conformance.core.settings.resolve`, so each
side has its own settings (URL, token) and its own rate cap and success budget. Exit
status: 0 same, 1 different or incomplete, 4 usage error (one line).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.redaction import Redactor
from ..runner.console import UsageError, add_run_arguments, hypothesis_storage
from .diff import KINDS

if TYPE_CHECKING:  # imported where used: `ipadlogin-conformance --help` needs none of them
    from ..client.target import Target
    from ..core.settings import Settings
    from .recording import Recording

COMPARE_OPTIONS = (
    "auth-token",
    "profile",
    "warnings-as-errors",
    "known-wcid",
    "request-timeout",
    "latency-budget",
    "examples",
    "rate-limit",
    "success-budget",
    "insecure",
    "ca-bundle",
    "reports-dir",
)
"""The suite's options that mean something to a comparison (each side gets them; the token is NEW's)."""
AGAINST_ENV = "IPADLOGIN_AGAINST"
AGAINST_TOKEN_ENV = "IPADLOGIN_AGAINST_TOKEN"
IGNORE_ENV = "IPADLOGIN_COMPARE_IGNORE"
COMPARE_JSON = "compare.json"
COMPARE_HTML = "compare.html"


@dataclass(frozen=True)
class Plan:
    """What to compare, checked: each live side's settings (URL, token, caps) and the recording if any."""

    new: Settings
    old: Settings | None
    """None: the OLD side is the recording."""
    recording: Recording | None


def add_compare_arguments(parser: argparse.ArgumentParser) -> None:
    from .requests import COMPARE_EXAMPLES, COMPARE_SEED

    parser.description = (
        "Send the suite's requests to two implementations of POST /iPadLogin (or re-send a recorded run) "
        "and report every difference a client could notice. Each target gets its own --rate-limit and --success-budget."
    )
    parser.epilog = (
        "Exit status: 0 no difference, 1 a difference (or requests that could not be compared), 4 usage error. "
        f"Kinds of difference: {', '.join(KINDS)}."
    )
    parser.add_argument(
        "cassette",
        nargs="?",
        metavar="CASSETTE",
        help="a HAR file written by a run (reports/exchanges.har): re-send its requests to --against and diff against the recording",
    )
    parser.add_argument("--base-url", metavar="URL", help="NEW: the implementation under test [$IPADLOGIN_BASE_URL]")
    parser.add_argument(
        "--against",
        metavar="URL",
        help=f"OLD: the implementation to compare with; with a CASSETTE, the target its requests are re-sent to [${AGAINST_ENV}]",
    )
    parser.add_argument(
        "--against-token",
        metavar="TOKEN",
        help=f"token of the --against target (default: the --auth-token; never written anywhere) [${AGAINST_TOKEN_ENV}]",
    )
    parser.add_argument(
        "--ignore",
        metavar="KIND",
        action="append",
        help=f"a kind of difference the team accepts, repeatable or comma-separated: {', '.join(KINDS)} [${IGNORE_ENV}]",
    )
    add_run_arguments(parser, only=COMPARE_OPTIONS, defaults={"examples": str(COMPARE_EXAMPLES)}, environment=True)
    parser.add_argument(
        "--hypothesis-seed",
        metavar="SEED",
        help=f"seed of the generated cases (default: {COMPARE_SEED}, the same every time) [$IPADLOGIN_SEED]",
    )


def compare_command(args: argparse.Namespace, environ: dict[str, str] | None = None) -> int:
    """Run the comparison, write compare.json and compare.html, print the table; the exit status."""
    from ..client.target import Unreachable
    from ..core.settings import SettingsError
    from ..reports import ReportsDirError, prepare_reports_dir
    from ..reports.cassette import CassetteError

    environ = dict(os.environ if environ is None else environ)
    ignored = _ignored(args.ignore, environ.get(IGNORE_ENV))
    try:
        plan = _plan(args, environ)
        prepare_reports_dir(plan.new.reports_dir)
        with hypothesis_storage():
            return _compare(plan, ignored)
    except (SettingsError, Unreachable, CassetteError, ReportsDirError) as error:
        raise UsageError(str(error)) from None


def _ignored(given: list[str] | None, from_env: str | None) -> frozenset[str]:
    names = [
        name.strip() for item in (given or ([from_env] if from_env else [])) for name in item.split(",") if name.strip()
    ]
    unknown = [name for name in names if name not in KINDS]
    if unknown:
        raise UsageError(f"--ignore {', '.join(unknown)}: not a kind of difference (one of {', '.join(KINDS)})")
    return frozenset(names)


def _plan(args: argparse.Namespace, environ: dict[str, str]) -> Plan:
    """Each live side's settings, resolved through the suite's one table and reachable, or the recording."""
    from ..client.target import TargetConfig, require_reachable
    from ..core.settings import BASE_URL_ENVS, SettingsError, resolve
    from .recording import read_recording
    from .requests import COMPARE_EXAMPLES, COMPARE_SEED

    given = vars(args)
    # Each side's URL is named here; the environment's base URL must not disagree with it.
    given_base_url = environ.get("IPADLOGIN_BASE_URL")
    environ = {key: value for key, value in environ.items() if key not in BASE_URL_ENVS}
    against = args.against or environ.get(AGAINST_ENV)
    if not against:
        raise UsageError(
            "compare needs --against URL: `compare --base-url NEW --against OLD` or `compare CASSETTE --against URL`"
        )
    if args.cassette and args.base_url:
        raise UsageError("with a CASSETTE, --against names the target its requests are re-sent to: give no --base-url")
    new_url = against if args.cassette else args.base_url or given_base_url
    if not new_url:
        raise UsageError("compare needs --base-url NEW (or IPADLOGIN_BASE_URL) with --against OLD, or a CASSETTE")
    new_token = (args.against_token or environ.get(AGAINST_TOKEN_ENV)) if args.cassette else None
    new = resolve({**given, "base_url": new_url, **({"ipadlogin_auth_token": new_token} if new_token else {})}, environ)
    if given.get("ipadlogin_examples") is None and "IPADLOGIN_EXAMPLES" not in environ:
        new = replace(new, examples=COMPARE_EXAMPLES)
    if new.seed is None:
        new = replace(new, seed=COMPARE_SEED)
    if args.cassette:
        plan = Plan(new, None, read_recording(Path(args.cassette)))
        if not plan.recording.requests:
            raise UsageError(f"{args.cassette}: the cassette holds no request to re-send")
    else:
        old_token = args.against_token or environ.get(AGAINST_TOKEN_ENV) or new.token
        try:
            old = resolve({**given, "base_url": against, "ipadlogin_auth_token": old_token}, environ)
        except SettingsError as error:
            raise SettingsError(str(error).replace("--base-url=", "--against=")) from None
        plan = Plan(new, replace(old, examples=new.examples, seed=new.seed), None)
    for settings in (plan.old, plan.new):
        if settings is not None:
            require_reachable(TargetConfig.for_settings(settings, settings.base_url, settings.token))
    return plan


def _compare(plan: Plan, ignored: frozenset[str]) -> int:
    from ..reports import _write_atomically as write_atomically
    from .html import render_html
    from .requests import suite_requests
    from .runner import NEW, OLD, Side, run_comparison
    from .summary import build_summary, to_json
    from .text import render_text

    new, recording = plan.new, plan.recording
    if recording is not None:
        requests, notes = recording.requests, recording.notes
    else:
        requests, notes = suite_requests(examples=new.examples, seed=new.seed, known_wcid=new.known_wcid), []
    with ExitStack() as targets:
        new_side = Side(
            NEW, new.base_url, new.policy, new.warnings_as_errors, target=targets.enter_context(_target(new))
        )
        if plan.old is not None:
            old_side = Side(
                OLD,
                plan.old.base_url,
                new.policy,
                new.warnings_as_errors,
                target=targets.enter_context(_target(plan.old)),
            )
        else:
            old_side = Side(OLD, str(recording.path), new.policy, new.warnings_as_errors, recorded=recording.answers)
        print(
            f"compare: {len(requests)} requests to NEW {new.base_url} and OLD {old_side.where}",
            file=sys.stderr,
            flush=True,
        )
        run = run_comparison(requests, old_side, new_side, _progress if sys.stderr.isatty() else None)
    summary = build_summary(
        run,
        ignored=ignored,
        notes=notes,
        latency_slowdown_only=recording is not None and recording.latency_slowdown_only,
        settings={
            "examples": new.examples,
            "seed": new.seed,
            "rate_limit_per_s": new.rate_limit,
            "success_budget": new.success_budget,
            "request_timeout_s": new.request_timeout_s,
            "profile": new.profile.value,
            "warnings_as_errors": new.warnings_as_errors,
        },
    )
    scrub = _scrubber(plan)
    written = []
    for name, text in ((COMPARE_JSON, to_json(summary)), (COMPARE_HTML, render_html(summary))):
        path = new.reports_dir / name
        write_atomically(path, scrub(text))
        written.append(str(path))
    sys.stdout.write(scrub(render_text(summary)))
    print(f"reports: {', '.join(written)}")
    return int(summary["exit_status"]["code"])


def _target(settings: Settings) -> Target:
    """A side's client: its own TargetConfig and its own Budget (rate cap, success budget)."""
    from ..checks import created_a_login
    from ..client.budget import Budget
    from ..client.target import Target, TargetConfig

    config = TargetConfig.for_settings(settings, settings.base_url, settings.token)
    return Target(config, Budget(settings.rate_limit, settings.success_budget), succeeded=created_a_login)


def _scrubber(plan: Plan) -> Callable[[str], str]:
    """A last pass over each output with both tokens, behind the redaction of every exchange at its source."""
    redactors = [Redactor(settings.token) for settings in (plan.old, plan.new) if settings is not None]

    def scrub(text: str) -> str:
        for redactor in redactors:
            text = redactor.text(text)
        return text

    return scrub


def _progress(done: int, total: int) -> None:
    print(f"\rcompare: {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)
