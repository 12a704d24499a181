"""``ipadlogin-conformance resend CASSETTE ID``: send one recorded request again and judge the answer.

The curl lines need a POSIX shell; this needs only the console tool, so a
vendor's engineer on Windows reproduces a finding too. The request is the
cassette entry's, byte for byte (method, headers as recorded, body), with
``$IPADLOGIN_TOKEN`` filled in; the answer is judged by the entry's own
label, as the run judged it. ``--base-url`` sends it to another server (a
fixed build on a laptop), keeping the path.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from ..checks import created_a_login
from ..client.target import Target, TargetConfig
from ..core.exchange import Exchange
from ..core.label import Judgement
from ..core.redaction import PLACEHOLDER
from ..core.reproduce import request_id
from ..core.verdict import Finding
from ..reports.cassette import Cassette, RecordedEntry, read_cassette
from ..results.judgement import judge_labeled
from .replay import settings_of


class ResendError(ValueError):
    """A request that cannot be resent as asked: one line for the user."""


@dataclass(frozen=True)
class Resent:
    test_id: str
    """The test that sent the request in the recorded run."""
    exchange: Exchange
    findings: list[Finding]


def resend(
    cassette_path: Path,
    wanted: str,
    *,
    base_url: str | None = None,
    token: str | None = None,
    verify_tls: bool | None = None,
    ca_bundle: str | None = None,
) -> Resent:
    """Send the entry whose request id (:func:`.reproduce.request_id`) is ``wanted`` again and judge the answer.

    TLS is checked as in the recorded run unless ``verify_tls`` says otherwise.
    """
    cassette = read_cassette(cassette_path)
    entry = find_request(cassette, wanted)
    recorded = entry.exchange
    request = recorded.request
    url = rebased(request.url, cassette.run.get("target"), base_url) if base_url else request.url
    if any(PLACEHOLDER in value for _name, value in request.headers) and not token:
        raise ResendError("this request carries the token: give --auth-token or set IPADLOGIN_TOKEN")
    headers = {name: value.replace(PLACEHOLDER, token or "") for name, value in request.headers}
    settings = settings_of(cassette.run, {})
    origin = urlsplit(url)
    config = TargetConfig(
        f"{origin.scheme}://{origin.netloc}",
        token or "",
        settings.request_timeout_s,
        settings.verify_tls if verify_tls is None else verify_tls,
        ca_bundle,
    )
    label = replace(recorded.label, sent_at=None)
    with Target(config, succeeded=created_a_login) as target:
        if label.judgement is Judgement.QR:  # as the run fetched it: redirects followed, image-sized cap
            sent, unreachable = target.fetch_qr(url)
            label = replace(label, unreachable=unreachable, redirects=sent.label.redirects, proxy=sent.label.proxy)
        else:
            sent = target.send(request.method, url, headers, request.body)
    exchange = replace(sent, label=label)
    return Resent(entry.test_id, exchange, judge_labeled(exchange, settings.policy))


def find_request(cassette: Cassette, wanted: str) -> RecordedEntry:
    """The cassette entry whose request has the id ``wanted``."""
    for entry in cassette.entries:
        if request_id(entry.exchange.request) == wanted.strip().lower():
            return entry
    raise ResendError(f"no request {wanted!r} in the cassette (the ids are in the reports' resend lines)")


def rebased(url: str, recorded_base: str | None, base_url: str) -> str:
    """``url`` with the run's base URL (or its origin) replaced by ``base_url``."""
    parts = urlsplit(url)
    base = (recorded_base or f"{parts.scheme}://{parts.netloc}").rstrip("/")
    rest = url[len(base) :] if url.startswith(base) else url[len(f"{parts.scheme}://{parts.netloc}") :]
    return base_url.rstrip("/") + rest
