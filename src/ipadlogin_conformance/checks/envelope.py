"""The response envelope: ENV-1 to ENV-8, and the success payload's form (DATA-1, DATA-2).

The *decision* a response announces (accepted or rejected) is read
tolerantly, so that a malformed envelope is blamed on the requirement about
its form and not also on every requirement about which requests must succeed.
The *form* is judged strictly against the schemas of openapi.yaml.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any

from ..contract import spec
from ..core.exchange import ErrorKind, Exchange, excerpt, header
from ..core.policy import Profile
from ..core.verdict import Finding, passed, violated

SUCCESS_CODE = "1000"
DOCUMENTED_FAILURE_CODES = ("1001", "10001")


class Decision(str, enum.Enum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNKNOWN = "unknown"
    """No envelope could be read: not JSON, no code, or no response."""


@dataclass
class Envelope:
    """A response body read once for all the checks of one exchange."""

    body: Any = None
    parse_error: str | None = None
    decision: Decision = Decision.UNKNOWN
    code: Any = None
    """The code as sent, under any key case: what the decision was read from."""
    errata: list[Finding] = field(default_factory=list)
    """Warnings for the page's errata that the lenient profile accepted."""


def created_a_login(exchange: Exchange) -> bool:
    """Whether the server accepted the request (code 1000): each such answer is a WeChat instance, which the
    client's success budget counts."""
    return read_envelope(exchange).decision is Decision.ACCEPTED


def read_envelope(exchange: Exchange, profile: Profile = Profile.STRICT) -> Envelope:
    """Parse the body; in the lenient profile, accept the table's errata with a warning."""
    response = exchange.response
    if response is None:
        return Envelope(parse_error=exchange.error or "no response")
    try:
        body = json.loads(response.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        code = _code(_leading_value(response.body))
        return Envelope(parse_error=f"not JSON: {error}", decision=_decision(code), code=code)
    code = _code(body)
    envelope = Envelope(body=body, decision=_decision(code), code=code)
    if profile is Profile.LENIENT and isinstance(body, dict):
        envelope.body, envelope.errata = _accept_errata(body, exchange)
    return envelope


def _leading_value(raw: bytes) -> Any:
    """The JSON value a body that is not JSON starts with (an envelope, then a debug comment, say).

    Such a body still breaks ENV-1; but its code says what the server decided,
    and a requirement about that decision is not broken by the bytes after it.
    """
    try:
        value, _ = json.JSONDecoder().raw_decode(raw.decode("utf-8", "replace").lstrip())
    except (ValueError, RecursionError):
        return None
    return value


def _code(body: Any) -> Any:
    if not isinstance(body, dict):
        return None
    return next((value for key, value in body.items() if key.lower() == "code"), None)


def _decision(code: Any) -> Decision:
    if code is None or isinstance(code, bool):
        return Decision.UNKNOWN
    return Decision.ACCEPTED if str(code) == SUCCESS_CODE else Decision.REJECTED


def _accept_errata(body: dict[str, Any], exchange: Exchange) -> tuple[dict[str, Any], list[Finding]]:
    body = dict(body)
    errata = []
    if isinstance(body.get("code"), int) and not isinstance(body["code"], bool):
        body["code"] = str(body["code"])
        errata.append(
            violated(
                "ENV-3",
                "erratum accepted (lenient): code is an integer, as the table types it",
                exchange,
                should_clause=True,
            )
        )
    if "message" not in body and "msg" in body:
        body["message"] = body.pop("msg")
        errata.append(
            violated(
                "ENV-2",
                "erratum accepted (lenient): the message field is msg, as the table names it",
                exchange,
                should_clause=True,
            )
        )
    return body, errata


def json_object_body(exchange: Exchange, envelope: Envelope) -> Finding:
    """ENV-1: a JSON object, sent as application/json, and nothing after it (no bytes past its framing)."""
    response = exchange.response
    assert response is not None
    problems = []
    content_type = header(response.headers, "content-type") or ""
    if content_type.split(";")[0].strip().lower() != "application/json":
        problems.append(f"Content-Type is {content_type or 'missing'!r}, not application/json")
    if exchange.error_kind == ErrorKind.FRAMING.value:
        problems.append(f"framing: {exchange.error}")
    if response.truncated:
        problems.append(f"body longer than the {len(response.body)} bytes the suite reads")
    elif envelope.parse_error:
        problems.append(f"body is {envelope.parse_error}: {excerpt(response.body, 120)!r}")
    elif not isinstance(envelope.body, dict):
        problems.append(f"body is a JSON {type(envelope.body).__name__}, not an object")
    if problems:
        return violated("ENV-1", "; ".join(problems), exchange)
    return passed("ENV-1", exchange)


def envelope_matches_schema(exchange: Exchange, envelope: Envelope) -> list[Finding]:
    """ENV-2..5, ENV-7 (its SHOULD clause), DATA-1, DATA-2: the openapi.yaml schema of the outcome.

    Only the violations at a location are reported where a type error stands,
    since the type is their cause (an integer code is ENV-3, not also ENV-5).
    """
    component = "SuccessEnvelope" if envelope.decision is Decision.ACCEPTED else "FailureEnvelope"
    if spec.fast_validator(component).is_valid(envelope.body):
        return [passed(rid, exchange) for rid in spec.requirements_in(component)]
    errors = list(spec.validator(component).iter_errors(envelope.body))
    typed = {tuple(error.absolute_path) for error in errors if error.validator == "type"}
    broken: dict[str, list[str]] = {}
    should_only: dict[str, bool] = {}
    for error in errors:
        if tuple(error.absolute_path) in typed and error.validator != "type":
            continue
        for requirement_id in spec.requirements_of(error):
            broken.setdefault(requirement_id, []).append(f"{error.json_path}: {error.message}")
            should_only[requirement_id] = should_only.get(requirement_id, True) and spec.is_should_clause(error)
    findings = [
        violated(
            rid,
            f"{'; '.join(broken[rid])} (schema {component} of openapi.yaml)",
            exchange,
            should_clause=should_only[rid],
        )
        for rid in broken
    ]
    findings += [passed(rid, exchange) for rid in spec.requirements_in(component) if rid not in broken]
    return findings


def failure_code_documented(exchange: Exchange, envelope: Envelope) -> Finding:
    """ENV-6: a failure code the page documents.

    Only a string code is compared: a code of another type, or none, is
    ENV-3's or ENV-2's (the same rule as the schema's: the type is the cause).
    """
    code = envelope.body.get("code")
    if not isinstance(code, str) or code in DOCUMENTED_FAILURE_CODES:
        return passed("ENV-6", exchange)
    return violated("ENV-6", f"failure code {code!r} is not one of the documented {DOCUMENTED_FAILURE_CODES}", exchange)


def failure_carries_no_success_payload(exchange: Exchange, envelope: Envelope) -> Finding:
    """ENV-7 (MUST clause): no wId or qrCodeUrl in a failure's data."""
    data = envelope.body.get("data")
    leaked = [key for key in ("wId", "qrCodeUrl") if isinstance(data, dict) and key in data]
    if leaked:
        return violated(
            "ENV-7", f"failure (code {envelope.body.get('code')!r}) carries {', '.join(leaked)} in data", exchange
        )
    return passed("ENV-7", exchange)


def status_fits_outcome(exchange: Exchange, envelope: Envelope) -> Finding:
    """ENV-8: never a 5xx; a success is HTTP 200; a failure should be HTTP 200 too."""
    status = exchange.response.status
    if status >= 500:
        return violated("ENV-8", f"HTTP {status}: a server error", exchange)
    if envelope.decision is Decision.ACCEPTED:
        if status != 200:
            return violated("ENV-8", f"a success answered with HTTP {status}, not 200", exchange)
        return passed("ENV-8", exchange)
    if status != 200:
        return violated(
            "ENV-8",
            f"a failure answered with HTTP {status}; the API reports failures in a 200 body",
            exchange,
            should_clause=True,
        )
    return passed("ENV-8", exchange)


def judge_envelope(exchange: Exchange, envelope: Envelope) -> list[Finding]:
    """Every envelope requirement that applies to one response of POST /iPadLogin.

    A 5xx is a crash, not an answer: it breaks ENV-8 (and the request's own
    requirement, see decision.py), and the form of its body is not judged.
    """
    if exchange.response.status >= 500:
        return [status_fits_outcome(exchange, envelope)]
    findings = [json_object_body(exchange, envelope), status_fits_outcome(exchange, envelope)]
    findings += envelope.errata
    if not isinstance(envelope.body, dict):
        return findings
    findings += envelope_matches_schema(exchange, envelope)
    if envelope.decision is Decision.REJECTED:
        findings += [
            failure_code_documented(exchange, envelope),
            failure_carries_no_success_payload(exchange, envelope),
        ]
    return findings
