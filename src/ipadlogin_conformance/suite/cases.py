"""Loads cases.yaml: the deterministic requests and the outcome each must get."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from ..checks import Expect
from ..client.concurrency import LoginCall
from ..client.target import VALID_TOKEN, Target
from ..core.exchange import Exchange, json_dumps

TOKENS = ("valid", "none", "empty", "unknown")
UNKNOWN_TOKEN = "ipadlogin-conformance-unknown-token-0000"


@dataclass(frozen=True)
class Case:
    id: str
    requirements: tuple[str, ...]
    expect: Expect
    body: bytes | None
    token: str = "valid"
    token_header: str = "Authorization"
    content_type: str | None = "application/json"
    content_type_header: str = "Content-Type"
    description: str = ""


def _expand(value: Any) -> Any:
    """Replace {$repeat: [text, n]} by the text repeated n times."""
    if isinstance(value, dict):
        if set(value) == {"$repeat"}:
            text, times = value["$repeat"]
            return text * times
        return {key: _expand(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand(item) for item in value]
    return value


def _body(request: dict[str, Any]) -> bytes | None:
    if "json" in request:
        return json_dumps(_expand(request["json"]))
    if "raw" in request:
        return request["raw"].encode("utf-8", "surrogatepass")
    if "raw_hex" in request:
        return bytes.fromhex(request["raw_hex"])
    return None


def parse_cases(text: str) -> list[Case]:
    cases = []
    for raw in yaml.safe_load(text)["cases"]:
        request = raw["request"]
        token = request.get("token", "valid")
        if token not in TOKENS:
            raise ValueError(f"{raw['id']}: token must be one of {TOKENS}")
        cases.append(
            Case(
                id=raw["id"],
                requirements=tuple(raw["requirements"]),
                expect=Expect(raw["expect"]),
                body=_body(request),
                token=token,
                token_header=request.get("token_header", "Authorization"),
                content_type=request.get("content_type", "application/json"),
                content_type_header=request.get("content_type_header", "Content-Type"),
                description=raw.get("description", ""),
            )
        )
    return cases


@cache
def load_cases() -> tuple[Case, ...]:
    return tuple(parse_cases(resources.files(__package__).joinpath("cases.yaml").read_text("utf-8")))


def login_call(case: Case) -> LoginCall:
    """The request of a case (the suite's test and the vendor guide's examples alike)."""
    tokens = {"valid": VALID_TOKEN, "none": None, "empty": "", "unknown": UNKNOWN_TOKEN}
    return LoginCall(
        case.body,
        token=tokens[case.token],
        token_header=case.token_header,
        content_type=case.content_type,
        content_type_header=case.content_type_header,
        may_succeed=case.expect is not Expect.FAILURE,
    )


def send(case: Case, target: Target) -> Exchange:
    """Send a case through the target."""
    return login_call(case).send(target)
