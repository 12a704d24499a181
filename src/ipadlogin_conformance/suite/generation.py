"""Generated cases: schemathesis reads openapi.yaml, this module turns its cases into our requests.

The suite sends every case with its own client (one transport, one budget)
and judges it with the same checks as the hand-written cases.
The expectation of a case comes from its body (:func:`~.checks.request_class.classify`),
not from schemathesis's positive/negative label: what matters is what this
API promises for that body. Schemathesis's status-code checks presume REST
errors (4xx); the envelope-aware checks registered here replace them for the
schemathesis CLI too (``SCHEMATHESIS_HOOKS=ipadlogin_conformance.suite.generation``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import schemathesis
from schemathesis.generation.meta import REQUEST_SHAPE_PROBES, coverage_scenario

from ..checks import Expect, judge_login
from ..checks.request_class import classify
from ..client.concurrency import LoginCall
from ..client.target import VALID_TOKEN, Target
from ..contract.spec import spec_path
from ..core.exchange import Exchange, ReceivedResponse, SentRequest
from ..core.policy import Policy
from ..core.redaction import PLACEHOLDER
from ..core.verdict import Outcome


@dataclass(frozen=True)
class GeneratedRequest:
    body: bytes | None
    content_type: str | None
    with_token: bool
    """False for the coverage phase's "missing Authorization" probe."""
    case_id: str
    expect: Expect
    requirements: tuple[str, ...]
    phase: str
    """The schemathesis phase that generated it: examples, coverage or fuzzing."""


SHARDS = 2
"""The generated cases are split into this many tests, so `pytest -n 2` keeps both
cores busy (one test runs in one worker). Shard 0 also runs the examples and
coverage phases; every shard fuzzes its share with a seed derived from the run's."""


def shard_seed(run_seed: int, shard: int) -> int:
    return run_seed + shard


def fuzzing_cases(examples: int) -> int:
    """The cases each shard's fuzzing phase generates at most (``--examples`` split over the shards)."""
    return max(1, -(-examples // SHARDS))


def load_schema(*, examples: int, run_seed: int, shard: int = 0, positive: bool = True) -> Any:
    """openapi.yaml as a schemathesis schema for one shard of the generated cases.

    The token never reaches schemathesis: it sees a placeholder, which the
    sender swaps for the real token. Method probes are off (METH-1 has its
    own tests) and the Content-Type probes are filtered out (REQ-10 has its
    own cases): both send valid bodies, which judge nothing here.
    """
    phases = ["examples", "coverage", "fuzzing"] if shard == 0 else ["fuzzing"]
    config = {
        "headers": {"Authorization": PLACEHOLDER},
        # The judge fixture deliberately collects findings across all generated
        # cases of the test: Hypothesis's function-scoped-fixture warning
        # does not apply, and schemathesis can only suppress all checks.
        "suppress-health-check": ["all"],
        "seed": shard_seed(run_seed, shard),
        "generation": {
            "max-examples": fuzzing_cases(examples),
            "database": "none",
            "mode": "all" if positive else "negative",
            "no-shrink": True,
        },
        "phases": {
            "stateful": {"enabled": False},
            "coverage": {"enabled": "coverage" in phases, "unexpected-methods": []},
            "examples": {"enabled": "examples" in phases},
        },
    }
    schema = schemathesis.openapi.from_path(spec_path(), config=schemathesis.Config.from_dict(config))
    schema.hook("filter_case")(_not_a_request_shape_probe)
    return schema


def _not_a_request_shape_probe(ctx: Any, case: Any) -> bool:
    # schemathesis's own test for the probes its checks skip (it reads the case's
    # metadata without validating the case again, as case.meta would).
    return coverage_scenario(case) not in REQUEST_SHAPE_PROBES


def to_request(case: Any) -> GeneratedRequest:
    """What to send for a case, and the outcome the API must give it."""
    kwargs = case.as_transport_kwargs(base_url="http://generated.invalid")
    headers = kwargs["headers"]
    if "json" in kwargs:
        body: bytes | None = json.dumps(kwargs["json"], allow_nan=False).encode("utf-8")
    else:
        data = kwargs.get("data")
        body = data.encode("utf-8") if isinstance(data, str) else data
    with_token = "Authorization" in headers
    expect, requirements = expectation(body, with_token)
    return GeneratedRequest(
        body, headers.get("Content-Type"), with_token, case.id, expect, requirements, case._meta.phase.name.value
    )


def expectation(body: bytes | None, with_token: bool) -> tuple[Expect, tuple[str, ...]]:
    """The outcome a generated request must get and the requirements saying so (a recorded one too)."""
    if not with_token:
        return Expect.FAILURE, ("AUTH-1",)
    return classify(_parsed(body))


def login_call(request: GeneratedRequest) -> LoginCall:
    """What a generated case sends (the property test and ``compare`` alike)."""
    return LoginCall(
        request.body,
        token=VALID_TOKEN if request.with_token else None,
        content_type=request.content_type,
        may_succeed=request.expect is not Expect.FAILURE,
    )


def labeled(exchange: Exchange, request: GeneratedRequest) -> Exchange:
    """The exchange of a generated case, labeled with the case (its id and phase)."""
    return replace(exchange, label=replace(exchange.label, case_id=request.case_id, phase=request.phase))


def send(request: GeneratedRequest, target: Target) -> Exchange:
    """Send a generated case through the target."""
    return labeled(login_call(request).send(target), request)


def generated_requests(
    *, examples: int, run_seed: int, positive: bool, shards: Iterable[int] = range(SHARDS)
) -> list[GeneratedRequest]:
    """Every shard's generated cases as the property tests get them, without pytest (for ``compare``).

    Schemathesis's own builder of the pytest test runs the same phases with
    the same seeds; the cases are collected, not sent, so both targets of a
    comparison get the very same list.
    """
    from schemathesis.generation.feedback import FeedbackSources
    from schemathesis.pytest._test_builder import build_operation_test

    found: list[GeneratedRequest] = []
    for shard in shards:
        schema = load_schema(examples=examples, run_seed=run_seed, shard=shard, positive=positive)
        for operation in schema.get_all_operations():
            test = build_operation_test(
                config=schema.config,
                operation=operation.ok(),
                test_func=lambda case: found.append(to_request(case)),
                given_kwargs={},
                feedback=FeedbackSources(),
            )
            test()
    return found


_UNPARSABLE = object()


def _parsed(body: bytes | None) -> Any:
    try:
        return json.loads(body) if body else _UNPARSABLE
    except ValueError:
        return _UNPARSABLE


@schemathesis.check
def outcome_fits_request_class(ctx: Any, response: Any, case: Any) -> None:
    """The envelope-aware replacement of negative_data_rejection and positive_data_acceptance.

    For the schemathesis CLI: the same judgement as the suite's, on its response.
    Method and Content-Type probes are not login calls: METH-1 and REQ-10 judge those.
    """
    if case.method.upper() != "POST" or not _not_a_request_shape_probe(None, case):
        return
    request = to_request(case)
    exchange = Exchange(
        SentRequest(case.method, case.path, (), request.body),
        ReceivedResponse(
            response.status_code,
            tuple((k, v[0]) for k, v in response.headers.items()),
            response.content or b"",
            response.elapsed * 1000,
        ),
        elapsed_ms=response.elapsed * 1000,
    )
    findings = judge_login(exchange, request.expect, request.requirements, Policy())
    broken = [f"{f.requirement}: {f.detail}" for f in findings if f.outcome is Outcome.FAIL]
    if broken:
        raise AssertionError("\n".join(broken))
