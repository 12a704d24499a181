"""compare: the same requests to two implementations, every difference a client could notice.

The reference server's catalog proves it: the reference against itself shows
no difference; against each variation exactly the kinds of difference that
variation makes (a variation that changes only per-call values, none); a
few faults pin the other kinds. Then the bad inputs of issue 17: different
tokens, a target down, a target that stalls mid-run, a cassette against a
live target, a cassette from an older spec and catalog. Pure tests pin the
shape and latency rules without a server.
"""

from __future__ import annotations

import io
import json
import re
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ipadlogin_conformance import cli
from ipadlogin_conformance.compare.diff import (
    KINDS,
    LATENCY_FLOOR_MS,
    POOLED,
    diff_answers,
    latency_classes,
    latency_difference,
)
from ipadlogin_conformance.compare.html import render_html
from ipadlogin_conformance.compare.recording import in_flight_note, read_recording
from ipadlogin_conformance.compare.shape import shape_of
from ipadlogin_conformance.compare.summary import compare_schema
from ipadlogin_conformance.compare.text import render_text
from ipadlogin_conformance.core.exchange import Exchange, ReceivedResponse, SentRequest
from ipadlogin_conformance.core.label import Judgement, Label
from ipadlogin_conformance.reports.cassette import CASSETTE_NAME
from ipadlogin_conformance.server import VARIATIONS, start_reference_server
from ipadlogin_conformance.suite.cases import load_cases
from ipadlogin_conformance.suite.probes import STANDARD_METHODS
from tools.vendor_examples import InProcessServer

TOKEN = "compare-test-token-7f3a"
OTHER_TOKEN = "compare-other-token-91c2"
EXAMPLES = "5"
"""Generated cases per property test: enough to send generated requests, few enough to stay quick."""

EXPECTED_KINDS: dict[str, set[str]] = {
    # catalog entry: the kinds of difference it makes against the reference server
    "extra-fields": {"shape"},
    "failure-code-10001": {"code"},
    "pretty-json": {"content-type"},  # application/json;charset=utf-8; indentation and key order are no difference
    "english-messages": {"message"},
    "wid-uuid": set(),  # wId is per call: compared by type only
    "wid-hex": set(),
    "qr-url-query": {"value"},  # the qrCodeUrl gains a query parameter; its path is per call
    "latency-20ms": set(),  # under the 50 ms floor
    "auth-401": {"status", "verdict"},  # ENV-8's SHOULD clause warns on NEW
    "connection-close": set(),
    # REQ-4: either outcome conforms (no verdict); {"type": null, "wcId": ...} is now refused for its wcId instead
    "type-missing-accepted": {"decision", "code", "message"},
    "qr-foreign-host": {"decision", "value", "verdict"},  # qrCodeUrl on another host: not fetched, DATA-3 not verified
    # faults: a flipped decision (the one kind no variation makes), and a broken requirement as a verdict
    "type-string-accepted": {"decision", "verdict"},
    "malformed-json-500": {"decision", "verdict"},
    "code-int": {"code", "verdict"},
}


# --- running compare -------------------------------------------------------------------


def compare(tmp_path: Path, *args: str, token: str = TOKEN) -> tuple[int, dict[str, Any] | None, str, str]:
    """cli.main(["compare", ...]) in-process: (exit status, compare.json or None, stdout, stderr)."""
    reports = tmp_path / "reports"
    shutil.rmtree(reports, ignore_errors=True)  # each call's reports are its own
    command = [
        "compare",
        "--auth-token",
        token,
        "--rate-limit",
        "0",
        "--success-budget",
        "0",
        "--examples",
        EXAMPLES,
        "--request-timeout",
        "2",
        "--reports-dir",
        str(reports),
        *args,
    ]
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = cli.main(command)
    path = reports / "compare.json"
    document = json.loads(path.read_text("utf-8")) if path.exists() else None
    if document is not None:
        jsonschema.validate(document, compare_schema())
        html = (reports / "compare.html").read_text("utf-8")
        everything = path.read_text("utf-8") + html + out.getvalue() + err.getvalue()
        assert TOKEN not in everything and OTHER_TOKEN not in everything
        assert "<script" not in html and not re.search(r"""(src|href)=["']?[a-z]+:""", html)  # self-contained
    return status, document, out.getvalue(), err.getvalue()


def kinds(document: dict[str, Any]) -> set[str]:
    return set(document["counts"])


@pytest.fixture(scope="module")
def reference() -> Iterator[str]:
    """OLD: the reference server in its own process, as a deployed build runs."""
    with start_reference_server(token=TOKEN) as server:
        yield server.url


@contextmanager
def in_thread(*faults: str, token: str = TOKEN) -> Iterator[str]:
    """NEW: the reference app with faults, in a thread (a process per catalog entry would cost seconds each)."""
    server = InProcessServer(faults, token)
    try:
        yield server.url
    finally:
        server.stop()


# --- the catalog -----------------------------------------------------------------------


def test_the_reference_against_itself_shows_no_difference(reference: str, tmp_path: Path) -> None:
    with start_reference_server(token=TOKEN) as other:
        status, document, out, _ = compare(tmp_path, "--base-url", other.url, "--against", reference)
    assert status == 0 and document is not None
    assert document["result"] == "same" and document["groups"] == [] and document["differences"] == []
    counts = document["requests"]
    hand_written = len(load_cases()) + len(STANDARD_METHODS) + 1 + 1  # the cases, the other methods, the QR fetch
    assert counts["total"] == counts["compared"] > hand_written and counts["not_compared"] == 0  # and generated ones
    for side in ("old", "new"):
        assert document[side]["verdict"] == "pass" and document[side]["kind"] == "live"
        assert document[side]["successes"] > 0 and document[side]["requests_sent"] >= counts["total"]
    assert "no difference" in out and "result: SAME" in out


def test_every_variation_of_the_catalog_is_pinned() -> None:
    assert set(VARIATIONS) <= set(EXPECTED_KINDS)
    assert set().union(*EXPECTED_KINDS.values()) == set(KINDS) - {"latency"}  # latency: see the pure tests


@pytest.mark.parametrize("entry", list(EXPECTED_KINDS))
def test_each_catalog_entry_shows_exactly_its_kinds_of_difference(entry: str, reference: str, tmp_path: Path) -> None:
    with in_thread(entry) as new:
        status, document, out, _ = compare(tmp_path, "--base-url", new, "--against", reference)
    assert document is not None
    assert kinds(document) == EXPECTED_KINDS[entry], document["groups"]
    assert status == (1 if EXPECTED_KINDS[entry] else 0)
    assert document["result"] == ("different" if EXPECTED_KINDS[entry] else "same")
    assert document["requests"]["not_compared"] == 0
    for item in document["differences"]:  # both sides' curl lines for every difference of a request
        if item["request"] is not None:
            assert (
                "curl -sS " in item["curl"]["old"] and "curl -sS " in item["curl"]["new"]
            )  # a NUL body is piped in by printf
            if "/iPadLogin" in item["curl"]["old"]:  # a QR fetch names the URL each server announced
                assert reference in item["curl"]["old"] and new in item["curl"]["new"]
    for group in document["groups"]:
        assert group["sentence"] in out


def test_a_flip_from_refused_to_accepted_is_one_group_per_class(reference: str, tmp_path: Path) -> None:
    with in_thread("type-other-int-accepted") as new:
        _, document, out, _ = compare(tmp_path, "--base-url", new, "--against", reference)
    assert document is not None
    decision = [group for group in document["groups"] if group["kind"] == "decision"]
    assert len(decision) == 1, decision
    group = decision[0]
    assert group["class"] == "REQ-6" and group["old"] == 'refused (code "10001")' and group["new"] == "accepted"
    assert {"type-one", "type-three", "type-zero", "type-negative"} <= set(group["requests"])
    assert group["sentence"].startswith(
        f"{group['count']} requests of class REQ-6 (type-one, type-three, type-zero, …): "
    )
    assert group["sentence"].endswith('OLD refused (code "10001"), NEW accepted')
    assert document["new"]["verdicts"]["REQ-6"] == "warn" and document["old"]["verdicts"]["REQ-6"] == "pass"
    assert "contract: OLD pass · NEW warn (REQ-6 warn)" in out


def test_ignore_removes_a_kind(reference: str, tmp_path: Path) -> None:
    with in_thread("english-messages", "failure-code-10001") as new:
        status, document, _, _ = compare(tmp_path, "--base-url", new, "--against", reference, "--ignore", "message")
        assert document is not None and status == 1 and kinds(document) == {"code"}
        assert document["ignored"]["message"] > 0 and document["ignored_kinds"] == ["message"]
        hostile = dict(document, groups=[dict(document["groups"][0], sentence="\x1b[2J\u202eevil")])
        assert "\x1b" not in render_text(hostile) + render_html(hostile) and "\u202e" not in render_text(hostile)
        status, document, out, _ = compare(
            tmp_path, "--base-url", new, "--against", reference, "--ignore", "code,message"
        )
    assert document is not None and status == 0 and document["result"] == "same" and document["groups"] == []
    assert "ignored (--ignore): " in out


# --- bad input -------------------------------------------------------------------------


def test_two_targets_with_different_tokens(reference: str, tmp_path: Path) -> None:
    with in_thread(token=OTHER_TOKEN) as new:
        status, document, _, _ = compare(
            tmp_path, "--base-url", new, "--against", reference, "--against-token", TOKEN, token=OTHER_TOKEN
        )
        assert status == 0 and document is not None and document["result"] == "same"
        # Without --against-token OLD gets NEW's token, which it does not know: every valid login flips.
        status, document, _, _ = compare(tmp_path, "--base-url", new, "--against", reference, token=OTHER_TOKEN)
    assert status == 1 and document is not None
    flips = {group["class"] for group in document["groups"] if group["kind"] == "decision"}
    assert {"AUTH-3, REQ-1", "REQ-2", "REQ-3", "REQ-10"} <= flips
    assert document["old"]["verdicts"]["AUTH-3"] == "fail" and document["new"]["verdicts"]["AUTH-3"] == "pass"


def test_a_target_down_is_one_line_and_exit_4(reference: str, tmp_path: Path) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{unused.getsockname()[1]}"
    for args in (("--base-url", reference, "--against", down), ("--base-url", down, "--against", reference)):
        status, document, out, err = compare(tmp_path, *args)
        assert status == 4 and document is None and out == ""
        assert err.count("\n") == 1 and err.startswith(f"error: cannot reach {down}") and "Traceback" not in err


def test_a_target_that_stalls_mid_run_stops_its_side(reference: str, tmp_path: Path) -> None:
    """The first re-login hangs: NEW stops sending, as a suite run does; the rest is listed as not compared."""
    with in_thread("relogin-hang") as new:
        status, document, out, _ = compare(
            tmp_path,
            "--base-url",
            new,
            "--against",
            reference,
            "--request-timeout",
            "1",
            "--known-wcid",
            "wxid_wl9qchkanp9u22",
        )
    assert status == 1 and document is not None
    assert (
        document["new"]["stopped"].endswith("got no complete answer within 1 s") and document["old"]["stopped"] is None
    )
    decision = [group for group in document["groups"] if group["kind"] == "decision"]
    assert [(group["requests"], group["old"], group["new"][:10]) for group in decision] == [
        (["relogin-seed-example"], "accepted", "no answer ")
    ]
    not_compared = {item["request"]: item for item in document["not_compared"]}
    assert {"relogin-unknown-account", "method-GET", "qr-fetch", "known-relogin", "generated-1"} <= set(not_compared)
    assert "first-login" not in not_compared and "auth-missing" not in not_compared
    assert all(
        item["why"].startswith("NEW not sent: ") and item["curl"]["new"] is None for item in not_compared.values()
    )
    assert document["requests"]["not_compared"] == len(not_compared) > 40
    assert document["new"]["verdicts"]["TIME-1"] == "fail"
    assert f"not compared: {len(not_compared)} requests" in out and "NEW stopped sending" in out


def test_usage_errors_are_one_line_and_exit_4(reference: str, tmp_path: Path) -> None:
    cassette = tmp_path / "not-a-cassette.har"
    cassette.write_text("{}", "utf-8")
    for args in (
        ("--base-url", reference),  # no --against
        ("--against", reference),  # no --base-url nor cassette
        (str(cassette), "--against", reference, "--base-url", reference),
        (str(cassette), "--against", reference),
        (str(tmp_path / "missing.har"), "--against", reference),
        ("--base-url", reference, "--against", "ftp://example.test"),
        ("--base-url", reference, "--against", reference, "--ignore", "colour"),
        ("--base-url", reference, "--against", reference, "--rate-limit", "-1"),
    ):
        status, document, out, err = compare(tmp_path, *args)
        assert status == 4 and document is None and out == "", args
        assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err, (args, err)
    assert (
        "--against='ftp://example.test'"
        in compare(tmp_path, "--base-url", reference, "--against", "ftp://example.test")[3]
    )


# --- a recorded run as OLD ---------------------------------------------------------------


@pytest.fixture(scope="module")
def recording(reference: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cassette of a real conformance run against the reference server."""
    reports = tmp_path_factory.mktemp("recorded") / "reports"
    command = [
        sys.executable,
        "-m",
        "ipadlogin_conformance.cli",
        "run",
        "--base-url",
        reference,
        "--auth-token",
        TOKEN,
        "--examples",
        "2",
        "--rate-limit",
        "0",
        "--success-budget",
        "0",
        "--reports-dir",
        str(reports),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return reports / CASSETTE_NAME


def test_a_cassette_against_a_live_target(recording: Path, tmp_path: Path) -> None:
    entries = json.loads(recording.read_text("utf-8"))["log"]["entries"]
    with in_thread() as same:
        status, document, _, _ = compare(tmp_path, str(recording), "--against", same)
    assert status == 0 and document is not None and document["result"] == "same", document and document["groups"]
    assert document["old"]["kind"] == "recording" and document["old"]["where"] == str(recording)
    assert document["new"]["where"] == same
    # Recorded with 8 requests in flight (a live target's default): its latencies queued behind each other's.
    assert document["notes"] == [in_flight_note(8)] and document["settings"]["latency"]["slowdown_only"] is True
    assert document["requests"]["total"] == document["requests"]["compared"] == len(entries)
    cassette = json.loads(recording.read_text("utf-8"))
    cassette["log"]["_run"]["inFlight"] = 1
    (tmp_path / "one-at-a-time.har").write_text(json.dumps(cassette), "utf-8")
    one_at_a_time = read_recording(tmp_path / "one-at-a-time.har")
    assert one_at_a_time.notes == [] and not one_at_a_time.latency_slowdown_only  # both ways, as live sides
    with in_thread("failure-code-10001") as new:
        status, document, _, _ = compare(tmp_path, str(recording), "--against", new)
    assert status == 1 and document is not None and kinds(document) == {"code"}
    curls = document["differences"][0]["curl"]
    assert "$IPADLOGIN_TOKEN" in json.dumps(document) and new in curls["new"] and new not in curls["old"]


def test_a_cassette_from_an_older_spec_and_catalog_is_compared_with_a_note(
    recording: Path, tmp_path: Path, reference: str
) -> None:
    cassette = json.loads(recording.read_text("utf-8"))
    log = cassette["log"]
    log["_run"]["spec"] = {"version": "0.9.0", "sha256": "0" * 64}
    log["_run"]["catalog"] = 0
    del log["_run"]["inFlight"]  # older cassettes do not say how many requests were in flight
    null_type = next(entry for entry in log["entries"] if entry["_testId"].endswith("test_case[type-null]"))
    null_type.update(_requirements=["REQ-5"], _expect="success")  # an expectation today's cases.yaml does not hold
    qr_login = next(
        entry for entry in log["entries"] if "test_qr" in entry["_testId"] and entry["_judgement"] == "login"
    )
    qr_login["_requirements"] = ["AUTH-3", "REQ-99"]  # an ID today's catalog does not know
    old = tmp_path / "old.har"
    old.write_text(json.dumps(cassette), "utf-8")
    status, document, out, _ = compare(tmp_path, str(old), "--against", reference)
    assert status == 0 and document is not None and document["result"] == "same", document and document["groups"]
    assert (
        document["old"]["verdict"] == document["new"]["verdict"] == "pass"
    )  # judged by today's case, not the recorded label
    notes = " ".join(document["notes"])
    assert "recorded with spec 0.9.0" in notes and "catalog v0" in notes and "REQ-99" in notes
    assert in_flight_note(None) in document["notes"] and document["settings"]["latency"]["slowdown_only"] is True
    assert "note: the cassette was recorded with spec 0.9.0" in out


# --- the rules, without a server ---------------------------------------------------------


def login(
    body: dict[str, Any] | str,
    *,
    host: str = "http://old.test",
    status: int = 200,
    content_type: str = "application/json",
    elapsed_ms: float = 3.0,
) -> Exchange:
    text = body if isinstance(body, str) else json.dumps(body)
    sent = SentRequest("POST", f"{host}/iPadLogin", (("Authorization", "$IPADLOGIN_TOKEN"),), b'{"type":2}')
    response = ReceivedResponse(status, (("Content-Type", content_type),), text.encode(), elapsed_ms)
    return Exchange(sent, response, elapsed_ms=elapsed_ms, label=Label(Judgement.LOGIN))


def success(host: str, wid: str, qr: str, **extra: Any) -> Exchange:
    return login({"code": "1000", "message": "ok", "data": {"wId": wid, "qrCodeUrl": qr, **extra}}, host=host)


def test_per_call_values_compare_by_type_only() -> None:
    old = success(
        "http://old.test",
        "0000016e-63ef-3a9c-0001-ed3311628ef4",
        "http://old.test/qr/a.png",
        createdAt="2026-01-01T00:00:00Z",
        ts=1767225600000,
        requestId="abc",
        expiresIn=120,
    )
    new = success(
        "http://new.test:8080",
        "5d0c",
        "http://new.test:8080/static/5d0c.png",
        createdAt="2026-12-24T10:11:12+08:00",
        ts=1798000000,
        requestId="def",
        expiresIn=120,
    )
    assert diff_answers(shape_of(old), shape_of(new)) == []


def test_what_is_not_per_call_differs() -> None:
    old = success("http://old.test", "w1", "http://old.test/qr/w1.png", expiresIn=120)
    changed = {
        "value": success("http://new.test", "w2", "http://cdn.test/qr/w2.png", expiresIn=120),  # another host
        "shape": success("http://new.test", 2, "http://new.test/qr/2.png", expiresIn=120),  # wId an integer
    }
    assert [d.kind for d in diff_answers(shape_of(old), shape_of(changed["value"]))] == ["value"]
    assert [d.kind for d in diff_answers(shape_of(old), shape_of(changed["shape"]))] == ["shape"]
    more = success("http://new.test", "w2", "http://new.test/qr/w2.png", expiresIn=60)
    [difference] = diff_answers(shape_of(old), shape_of(more))
    assert (difference.kind, difference.old, difference.new) == ("value", "$.data.expiresIn 120", "$.data.expiresIn 60")


def test_a_different_decision_is_the_one_difference_of_its_request() -> None:
    refused = login({"code": "1001", "message": "缺少参数type", "data": None})
    crashed = login("Internal Server Error", status=500, content_type="text/plain")
    accepted = success("http://old.test", "w", "http://old.test/qr/w.png")
    [difference] = diff_answers(shape_of(refused), shape_of(accepted))
    assert (difference.kind, difference.old, difference.new) == ("decision", 'refused (code "1001")', "accepted")
    [difference] = diff_answers(shape_of(refused), shape_of(crashed))
    assert (difference.kind, difference.new) == ("decision", "crashed (HTTP 500)")


def test_code_and_message_types_are_their_own_kinds_not_the_shapes() -> None:
    text = login({"code": "1001", "message": "bad", "data": None})
    number = login({"code": 1001, "message": "bad", "data": None})
    assert [(d.kind, d.old, d.new) for d in diff_answers(shape_of(text), shape_of(number))] == [
        ("code", '"1001"', "1001")
    ]
    renamed = login({"code": "1001", "msg": "bad", "data": None})
    [difference] = diff_answers(shape_of(text), shape_of(renamed))
    assert (difference.kind, difference.old, difference.new) == ("shape", "$.message (present)", "$.msg (string)")


def test_content_type_compares_as_a_client_parses_it() -> None:
    body = {"code": "1001", "message": "bad", "data": None}
    spaced = login(body, content_type="application/json; charset=UTF-8")
    tight = login(body, content_type="Application/JSON;charset=utf-8")
    plain = login(body, content_type="application/json")
    assert diff_answers(shape_of(spaced), shape_of(tight)) == []
    assert [d.kind for d in diff_answers(shape_of(spaced), shape_of(plain))] == ["content-type"]


@pytest.mark.parametrize(
    ("old_ms", "new_ms", "differs"),
    [
        ([2.0] * 20, [60.0] * 20, True),  # 30× and 58 ms
        ([2.0] * 20, [40.0] * 20, False),  # 20×, but only 38 ms: under the floor
        ([100.0] * 20, [180.0] * 20, False),  # 80 ms, but under 2×
        ([100.0] * 20, [201.0 + LATENCY_FLOOR_MS] * 20, True),
        ([300.0] * 20, [3.0] * 20, True),  # faster counts too: the class moved
        ([2.0] * 19 + [500.0], [2.0] * 19 + [3.0], False),  # one hiccup among 20 moves no p95
        ([2.0] * 18 + [500.0] * 2, [2.0] * 20, True),  # two among 20 are a tail of 10%
        ([2.0] * 19, [400.0] * 19, False),  # 19 requests: their p95 is their slowest call, judged only pooled
    ],
)
def test_latency_differs_only_when_a_class_p95_moves_2x_and_50_ms(
    old_ms: list[float], new_ms: list[float], differs: bool
) -> None:
    assert (latency_difference(old_ms, new_ms) is not None) == differs


@pytest.mark.parametrize(
    ("old_ms", "new_ms", "differs"),
    [
        ([2.0] * 20, [60.0] * 20, True),  # a real slowdown is caught all the same
        ([100.0] * 20, [201.0 + LATENCY_FLOOR_MS] * 20, True),
        ([2.0] * 20, [40.0] * 20, False),  # the floor still holds
        ([65.0] * 20, [10.0] * 20, False),  # OLD queued behind its own requests in flight: no news
        ([300.0] * 20, [3.0] * 20, False),
    ],
)
def test_against_a_recording_made_with_requests_in_flight_only_a_slowdown_differs(
    old_ms: list[float], new_ms: list[float], differs: bool
) -> None:
    assert (latency_difference(old_ms, new_ms, slowdown_only=True) is not None) == differs


def test_small_classes_are_judged_pooled() -> None:
    classes = {"REQ-8": list(range(25)), "AUTH-1": [1, 2], "REQ-6": list(range(12)), "METH-1": list(range(6))}
    assert latency_classes(classes) == {"REQ-8": list(range(25)), POOLED: [1, 2, *range(12), *range(6)]}
    assert latency_classes({"AUTH-1": [1, 2], "REQ-6": list(range(12))}) == {}  # 14 requests: too few even pooled


def test_the_readmes_compare_commands_parse() -> None:
    """The README's examples (and its CI job) use options that exist."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    section = readme[readme.index("## Comparing two implementations") : readme.index("## CI\n")]
    commands = [
        line.split("run: ", 1)[-1].split("#")[0]
        for line in section.splitlines()
        if "ipadlogin-conformance compare" in line
    ]
    assert len(commands) == 3
    for command in commands:
        args = cli.build_parser().parse_args(shlex.split(command)[1:])
        assert args.command == "compare" and args.against
    documented = {
        kind.strip("` ")
        for line in section.splitlines()
        if line.startswith("| `")
        for kind in line.split("|")[1].split(",")
    }
    assert set(KINDS) <= documented
