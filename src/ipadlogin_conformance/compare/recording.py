"""A recorded run (the HAR cassette of ``run``) as the OLD side of a comparison.

Each recorded request is re-sent as recorded, with the token (which the
cassette holds as ``$IPADLOGIN_TOKEN``) filled in from the settings, and its
answer is diffed against the recorded one. A recorded QR fetch is not re-sent
as recorded (its URL is the recorded server's): the live side fetches the
qrCodeUrl of its own answer to the login that preceded it.

Both sides are judged by today's rules: a hand-written case by today's
``cases.yaml`` entry of the same id, a generated case by today's request
classes. A cassette recorded by another version of the spec, catalog or suite
is compared all the same, with a note that says so.

A cassette recorded with requests in flight (``_run.inFlight`` above 1, or
not stated) measured each latency with the time it queued behind the others;
the live side sends one at a time, so only a slowdown is told (see
:mod:`.diff`), and a note says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import __version__
from ..checks import Expect
from ..client.target import VALID_TOKEN, Target
from ..contract.catalog import load_catalog
from ..contract.spec import spec_sha256, spec_version
from ..core.exchange import Exchange, header
from ..core.label import Judgement
from ..core.redaction import PLACEHOLDER
from ..reports.cassette import RecordedEntry, read_cassette
from ..results.judgement import label_qr
from ..suite.cases import load_cases
from ..suite.generation import expectation
from ..suite.probes import qr_code_url
from .requests import ComparedRequest, numbered

_TEST_ID = re.compile(r"::(?P<function>[^\[]+)(\[(?P<parameter>.*)\])?$")


@dataclass
class Recording:
    path: Path
    requests: list[ComparedRequest]
    answers: dict[str, Exchange]
    """Request id → the recorded exchange, labeled by today's rules."""
    notes: list[str] = field(default_factory=list)
    latency_slowdown_only: bool = False
    """The recorded latencies were measured with other requests in flight (or the cassette does not say)."""


def read_recording(path: Path) -> Recording:
    """The requests and answers of a cassette (raises CassetteError for a file that is not one)."""
    cassette = read_cassette(path)
    notes = version_notes(cassette.run)
    in_flight = cassette.run.get("inFlight")
    slowdown_only = in_flight != 1
    if slowdown_only:
        notes.append(in_flight_note(in_flight))
    entries = [entry for entry in cassette.entries if entry.exchange.label.judgement is not None]
    ids = numbered(_name(entry.test_id) for entry in entries)
    requests, answers = [], {}
    dropped: set[str] = set()
    previous_login: dict[str, Exchange] = {}
    for request_id, entry in zip(ids, entries):
        exchange = _relabeled(entry, dropped)
        if exchange.label.judgement is Judgement.QR:
            login = previous_login.get(entry.test_id)
            if login is None:
                continue  # a QR fetch without its login: nothing to re-send
            send = _fetch_qr_after(login)
            requirements: tuple[str, ...] = ("DATA-3",)
        else:
            previous_login[entry.test_id] = entry.exchange
            send = _resender(exchange)
            requirements = exchange.label.requirements or ("METH-1",)
        requests.append(ComparedRequest(request_id, requirements, f"recorded by {entry.test_id}", send))
        answers[request_id] = exchange
    if dropped:
        notes.append(
            f"requirement IDs unknown to today's catalog were dropped from the recorded labels: {', '.join(sorted(dropped))}"
        )
    return Recording(Path(path), requests, answers, notes, slowdown_only)


def in_flight_note(in_flight: Any) -> str:
    """Why the recording's latencies are compared one way only."""
    how = (
        f"with up to {in_flight} requests in flight"
        if isinstance(in_flight, int)
        else "without saying how many requests were in flight"
    )
    return (
        f"the cassette's latencies were measured {how}, NEW's one request at a time: "
        "only a slower NEW counts as a latency difference"
    )


def version_notes(run: dict[str, Any]) -> list[str]:
    """What differs between the versions that recorded the cassette and today's."""
    spec = run.get("spec") or {}
    recorded = (
        f"spec {spec.get('version')} (sha256 {str(spec.get('sha256'))[:12]}), catalog v{run.get('catalog')}, "
        f"suite {run.get('suite')}"
    )
    today = (
        f"spec {spec_version()} (sha256 {spec_sha256()[:12]}), catalog v{load_catalog().version}, suite {__version__}"
    )
    if recorded == today:
        return []
    return [
        f"the cassette was recorded with {recorded}; this is {today}: its requests are re-sent as recorded "
        "and both sides are judged by today's contract"
    ]


def _name(test_id: str) -> str:
    """A short request name from the recorded test id: the case id, method-GET, generated, qr, known-relogin."""
    match = _TEST_ID.search(test_id)
    if match is None:
        return test_id or "recorded"
    function, parameter = match["function"], match["parameter"]
    if function == "test_case" and parameter:
        return parameter
    if function.startswith("test_other_method") and parameter:
        return f"method-{parameter}"
    if function.startswith("test_generated_cases"):
        return "generated"
    if function.startswith("test_qr"):
        return "qr"
    if function.startswith("test_known_wcid"):
        return "known-relogin"
    return function.removeprefix("test_")


def _relabeled(entry: RecordedEntry, dropped: set[str]) -> Exchange:
    """The recorded exchange with today's judgement label (requirement IDs of today's catalog and cases)."""
    exchange = entry.exchange
    if exchange.label.judgement is not Judgement.LOGIN:
        return exchange
    match = _TEST_ID.search(entry.test_id)
    function, parameter = (match["function"], match["parameter"]) if match else ("", None)
    cases = {case.id: case for case in load_cases()}
    if function == "test_case" and parameter in cases:
        expect, requirements = cases[parameter].expect, cases[parameter].requirements
    elif function.startswith("test_generated_cases"):
        expect, requirements = expectation(exchange.request.body, _token_header(exchange) is not None)
    else:
        expect, requirements = exchange.label.expect, exchange.label.requirements
    catalog = load_catalog()
    dropped.update(rid for rid in requirements if rid not in catalog)
    kept = tuple(rid for rid in requirements if rid in catalog)
    return replace(exchange, label=replace(exchange.label, expect=expect, requirements=kept))


def _token_header(exchange: Exchange) -> tuple[str, str] | None:
    """(name, value) of the Authorization header as recorded: the redacted token, another value, or None."""
    for name, value in exchange.request.headers:
        if value == PLACEHOLDER or name.lower() == "authorization":
            return name, value
    return None


def _resender(recorded: Exchange) -> Callable[[Target], Exchange]:
    """Re-sends a recorded login or other-method request with the live token, labeled as the recording."""
    request = recorded.request
    token = _token_header(recorded)
    content_type_header = next((name for name, _ in request.headers if name.lower() == "content-type"), "Content-Type")
    label = recorded.label

    def send(target: Target) -> Exchange:
        exchange = target.login(
            request.body,
            token=None if token is None else VALID_TOKEN if token[1] == PLACEHOLDER else token[1],
            token_header="Authorization" if token is None else token[0],
            content_type=header(request.headers, "content-type"),
            content_type_header=content_type_header,
            method=request.method,
            may_succeed=label.expect is not Expect.FAILURE,
        )
        return replace(exchange, label=exchange.label.judged_as(label))

    return send


def _fetch_qr_after(login: Exchange) -> Callable[[Target], Exchange | None]:
    """The recorded login again, then GET the qrCodeUrl of this target's answer."""
    resend = _resender(login)

    def send(target: Target) -> Exchange | None:
        url, _why_not = qr_code_url(resend(target))
        if url is None:
            return None
        exchange, unreachable = target.fetch_qr(url)
        return label_qr(exchange, unreachable=unreachable, base_url=target.config.base_url)

    return send
