"""The run's cassette: every judged exchange as HAR 1.2 (``reports/exchanges.har``).

HAR, so browsers' dev tools, HAR viewers and proxies open it as it is; the
suite's own labels ride in underscore-prefixed custom fields, which HAR 1.2
allows: on each entry how it was judged (``_judgement``, ``_expect``,
``_requirements``, ...), the test (``_testId``) and the Hypothesis seed
(``_seed``); on the log the run's settings (``_run``), each test's counts and
the findings it stated itself (``_tests``) and the verdicts (``_verdicts``).

The writer streams entries to disk as the tests' records arrive, so memory
does not grow with the run. Bodies are capped (:data:`REQUEST_BODY_LIMIT`,
:data:`RESPONSE_BODY_LIMIT`), as the target caps what it reads; an entry whose
response body had to be cut also keeps the findings judged from it
(``_recordedFindings``), so a replay gives the same verdict without the body.
Every exchange and finding is redacted as it is written (the token reads
``$IPADLOGIN_TOKEN``, see :mod:`.redaction`), and the file is strict JSON.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, urlsplit

from .. import __version__
from ..contract.catalog import load_catalog
from ..contract.spec import spec_sha256, spec_version
from ..core.exchange import Exchange, ReceivedResponse, SentRequest, header
from ..core.label import Label
from ..core.redaction import Redactor
from ..core.settings import Settings
from ..core.strict_json import dumps
from ..core.verdict import Finding
from ..results.overall import run_verdict
from ..results.records import RunResults, TestRecord
from .run import RunInfo

CASSETTE_NAME = "exchanges.har"
REQUEST_BODY_LIMIT = 64 * 1024
"""Bytes of a request body kept: the suite's own requests (its largest case is 48 KiB) stay whole."""
RESPONSE_BODY_LIMIT = 8 * 1024
"""Bytes of a response body kept: an envelope is a few hundred bytes, a QR PNG a few KiB. A longer
body is cut, and its entry keeps the findings judged live, so 2,000 hostile answers stay ~20 MB."""


# --- one exchange <-> one HAR entry --------------------------------------------------


def _pairs(headers: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers]


def _headers(pairs: list[dict[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((pair["name"], pair["value"]) for pair in pairs)


def _body_fields(body: bytes, limit: int) -> tuple[dict[str, Any], bool]:
    """HAR text (base64 when not UTF-8), cut at ``limit`` bytes; and whether it was cut."""
    kept = body[:limit]
    try:
        fields: dict[str, Any] = {"text": kept.decode("utf-8")}
    except UnicodeDecodeError:
        fields = {"text": base64.b64encode(kept).decode("ascii"), "encoding": "base64"}
    return fields, len(body) > limit


def _body_of(fields: dict[str, Any], encoding_key: str) -> bytes:
    text = fields.get("text", "")
    return base64.b64decode(text) if fields.get(encoding_key) == "base64" else text.encode("utf-8")


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _epoch(iso: str | None) -> float | None:
    return None if not iso else datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def to_entry(exchange: Exchange, test_id: str, seed: int | None, findings: list[Finding]) -> dict[str, Any]:
    """A HAR entry; ``findings`` (those judged from this exchange) are kept only if a body is cut."""
    request, response = exchange.request, exchange.response
    har_request: dict[str, Any] = {
        "method": request.method,
        "url": request.url,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _pairs(request.headers),
        "queryString": [
            {"name": k, "value": v} for k, v in parse_qsl(urlsplit(request.url).query, keep_blank_values=True)
        ],
        "headersSize": -1,
        "bodySize": -1 if request.body is None else len(request.body),
    }
    if request.body is not None:
        fields, cut = _body_fields(request.body, REQUEST_BODY_LIMIT)
        if "encoding" in fields:
            fields["_encoding"] = fields.pop("encoding")  # HAR's postData has no encoding field
        har_request["postData"] = {"mimeType": header(request.headers, "content-type") or "", **fields}
        if cut:
            har_request["postData"]["_cut"] = True
    response_cut = False
    if response is None:
        har_response: dict[str, Any] = {
            "status": 0,
            "statusText": "",
            "content": {"size": 0, "mimeType": "x-unknown"},
            "bodySize": -1,
        }
    else:
        fields, response_cut = _body_fields(response.body, RESPONSE_BODY_LIMIT)
        content = {"size": len(response.body), "mimeType": header(response.headers, "content-type") or "", **fields}
        if response_cut:
            content["_cut"] = True
        if response.withheld is not None:
            content["_withheldBytes"] = response.withheld
        har_response = {
            "status": response.status,
            "statusText": "",
            "content": content,
            "bodySize": len(response.body),
            "_elapsedMs": response.elapsed_ms,
            "_truncated": response.truncated,
        }
    har_response.update(
        httpVersion="HTTP/1.1",
        cookies=[],
        headers=[] if response is None else _pairs(response.headers),
        redirectURL="",
        headersSize=-1,
    )
    entry: dict[str, Any] = {
        "startedDateTime": _iso(exchange.label.sent_at or 0.0),
        "time": exchange.elapsed_ms,
        "request": har_request,
        "response": har_response,
        "cache": {},
        "timings": {"send": 0, "wait": exchange.elapsed_ms, "receive": 0},
        **exchange.label.to_har(),
        "_testId": test_id,
        "_seed": seed,
        "_error": exchange.error,
        "_errorKind": exchange.error_kind,
        "_timedOut": exchange.timed_out,
    }
    if response_cut:
        entry["_recordedFindings"] = [Finding.to_dict(finding) for finding in findings]
    return entry


def from_entry(entry: dict[str, Any]) -> Exchange:
    """The exchange of a HAR entry, with its label (test id and seed are the entry's ``_testId``/``_seed``)."""
    har_request, har_response = entry["request"], entry["response"]
    post = har_request.get("postData")
    request = SentRequest(
        method=har_request["method"],
        url=har_request["url"],
        headers=_headers(har_request["headers"]),
        body=None if post is None else _body_of(post, "_encoding"),
    )
    response = None
    if har_response["status"] != 0:
        response = ReceivedResponse(
            status=har_response["status"],
            headers=_headers(har_response["headers"]),
            body=_body_of(har_response["content"], "encoding"),
            elapsed_ms=har_response.get("_elapsedMs", entry["time"]),
            truncated=har_response.get("_truncated", False),
            withheld=har_response["content"].get("_withheldBytes"),
        )
    return Exchange(
        request,
        response,
        error=entry.get("_error"),
        error_kind=entry.get("_errorKind"),
        timed_out=entry.get("_timedOut", False),
        elapsed_ms=entry["time"],
        label=Label.from_har(entry, _epoch(entry.get("startedDateTime"))),
    )


# --- the writer (controller side of a run) -----------------------------------------------


def run_info(settings: Settings) -> dict[str, Any]:
    """What a replay needs besides the entries: versions and the judging settings (never the token)."""
    return {
        "suite": __version__,
        "spec": {"version": spec_version(), "sha256": spec_sha256()},
        "catalog": load_catalog().version,
        **settings.recorded(),
    }


class CassetteWriter:
    """Streams a run's judged exchanges into a HAR file; the file appears complete on :meth:`close`."""

    def __init__(self, path: Path, settings: Settings, in_flight: int) -> None:
        self.path = path
        self.in_flight = in_flight
        """Requests in flight at most while recording (``_run.inFlight``): compare judges the latencies by it."""
        self._absolute = path.absolute()  # the working directory may change before the run ends
        self.settings = settings
        self._redactor = Redactor(settings.token)
        self._file: IO[str] | None = None
        self._entries = 0
        self._tests: list[dict[str, Any]] = []

    def _open(self) -> IO[str]:
        if self._file is None:
            self._absolute.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self._partial, "w", encoding="utf-8")  # noqa: SIM115 (closed in close())
            head = {
                "version": "1.2",
                "creator": {"name": "ipadlogin-conformance", "version": __version__},
                "_run": {**run_info(self.settings), "inFlight": self.in_flight},
                "pages": [],
            }
            self._file.write(
                '{"log": ' + self._redactor.text(dumps(head, ensure_ascii=False))[:-1] + ', "entries": [\n'
            )
        return self._file

    @property
    def _partial(self) -> Path:
        return self._absolute.with_name(self._absolute.name + ".partial")

    def add(self, record: TestRecord) -> None:
        """One test's exchanges as entries, and its counts and own findings for ``_tests``, redacted."""
        out = self._open()
        redact = self._redactor
        first = self._entries
        by_exchange: dict[int, list[Finding]] = {}
        for finding in record.findings:
            if finding.exchange is not None:
                by_exchange.setdefault(id(finding.exchange), []).append(finding)
        for exchange in record.exchanges:
            findings = [redact.finding(finding) for finding in by_exchange.get(id(exchange), [])]
            entry = to_entry(redact.exchange(exchange), record.test_id, record.seed, findings)
            # One write per entry: an interruption (SIGTERM, Ctrl-C) never leaves half of one in the file.
            out.write((",\n" if self._entries else "") + redact.text(dumps(entry, ensure_ascii=False)))
            self._entries += 1
        positions = {id(exchange): first + i for i, exchange in enumerate(record.exchanges)}
        own = []
        for i in record.direct:
            finding = record.findings[i]
            data = Finding.to_dict(redact.finding(finding))
            if finding.exchange is not None:
                position = positions.get(id(finding.exchange))
                data.update(
                    {"entry": position}
                    if position is not None
                    else {"exchange": redact.exchange(finding.exchange).to_dict()}
                )
            own.append(data)
        self._tests.append(
            {
                "testId": record.test_id,
                "seed": record.seed,
                "requests": record.requests,
                "successes": record.successes,
                "refused": record.refused,
                "findings": own,
            }
        )

    def close(self, results: RunResults, run: RunInfo | None = None) -> Path | None:
        """Finish the file with the tests, how the run went and the verdicts; None when it could not be written.

        A run stopped before its first test reported still gets its cassette (no entries, marked incomplete):
        summary.json points to it, and a stopped run writes every report.
        """
        try:
            out = self._open()
        except OSError as error:  # the reports dir went away during the run
            print(f"ipadlogin-conformance: cassette not written: {error}", file=sys.stderr)
            return None
        overall = run_verdict(results, self.settings.warnings_as_errors, () if run is None else run.incomplete_reasons)
        tail = {
            "_tests": self._tests,
            "_runInfo": None if run is None else run_info_to_dict(run),
            "_verdicts": {rid: result.outcome.value for rid, result in results.requirements.items()},
            "_overall": overall.outcome.value,
        }
        out.write("\n], " + self._redactor.text(dumps(tail, ensure_ascii=False))[1:] + "}\n")
        out.close()
        self._file = None
        try:
            os.replace(self._partial, self._absolute)
        except OSError as error:  # the reports dir went away during the run
            print(f"ipadlogin-conformance: cassette not written: {error}", file=sys.stderr)
            return None
        return self.path


def run_info_to_dict(run: RunInfo) -> dict[str, Any]:
    return {
        "started": run.started.isoformat(),
        "finished": run.finished.isoformat(),
        "exitStatus": run.exit_status,
        "testsCollected": run.tests_collected,
        "testsRun": run.tests_run,
        "crashed": list(run.crashed),
        "incompleteReasons": list(run.incomplete_reasons),
        "targetUrls": list(run.target_urls),
        "seeds": list(run.seeds),
    }


def run_info_from_dict(data: dict[str, Any]) -> RunInfo:
    return RunInfo(
        started=datetime.fromisoformat(data["started"]),
        finished=datetime.fromisoformat(data["finished"]),
        exit_status=data["exitStatus"],
        tests_collected=data["testsCollected"],
        tests_run=data["testsRun"],
        crashed=tuple(data["crashed"]),
        incomplete_reasons=tuple(data["incompleteReasons"]),
        target_urls=tuple(data["targetUrls"]),
        seeds=tuple(data["seeds"]),
    )


# --- the reader ----------------------------------------------------------------------------


@dataclass
class RecordedTest:
    test_id: str
    seed: int | None
    requests: int
    successes: int
    refused: int
    findings: list[Finding] = field(default_factory=list)
    """The findings the test stated itself (kept as recorded)."""


@dataclass
class RecordedEntry:
    exchange: Exchange
    test_id: str
    seed: int | None
    recorded_findings: list[Finding] | None
    """Set when a body was cut: the findings judged live, used instead of judging again."""


@dataclass
class Cassette:
    run: dict[str, Any]
    entries: list[RecordedEntry]
    tests: list[RecordedTest]
    verdicts: dict[str, str]
    overall: str | None
    run_info: RunInfo | None
    """How the recorded run went (complete or not, exit status), as its reports said."""


class CassetteError(ValueError):
    """Not a cassette this tool wrote: shown as one line."""


def _recorded_entry(har: dict[str, Any]) -> RecordedEntry:
    recorded = har.get("_recordedFindings")
    exchange = from_entry(har)
    findings = None if recorded is None else [Finding.from_dict(item, exchange) for item in recorded]
    return RecordedEntry(exchange, har["_testId"], har.get("_seed"), findings)


def _recorded_test(har: dict[str, Any], entries: list[RecordedEntry]) -> RecordedTest:
    own = []
    for item in har["findings"]:
        if "entry" in item:
            exchange: Exchange | None = entries[item["entry"]].exchange
        else:
            exchange = Exchange.from_dict(item["exchange"]) if item.get("exchange") else None
        own.append(Finding.from_dict(item, exchange))
    return RecordedTest(har["testId"], har.get("seed"), har["requests"], har["successes"], har["refused"], own)


def read_cassette(path: Path) -> Cassette:
    try:
        log = json.loads(Path(path).read_text("utf-8"))["log"]
        run = log["_run"]
        entries = [_recorded_entry(har) for har in log["entries"]]
        tests = [_recorded_test(har, entries) for har in log["_tests"]]
    except OSError as error:
        raise CassetteError(f"{path}: {error.strerror or error}") from None
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as error:
        raise CassetteError(
            f"{path}: not a cassette of ipadlogin-conformance ({type(error).__name__}: {error})"
        ) from None
    info = log.get("_runInfo")
    return Cassette(
        run,
        entries,
        tests,
        log.get("_verdicts", {}),
        log.get("_overall"),
        None if info is None else run_info_from_dict(info),
    )
