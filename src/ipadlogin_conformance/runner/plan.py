"""The run's plan, shown before the first request: about how many requests, and how long the rate cap makes that.

A QA engineer waiting for a verdict from staging wants to know at once what
the run will cost the target. The deterministic tests send a known number of
requests; the property tests' share is counted by generating their cases
beforehand against a live target, where alike cases are sent once (see
:mod:`.alike`), and estimated from ``--examples`` against the embedded server,
where it costs nothing and generating twice would slow the run.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..core.settings import Settings

REQUESTS_PER_TEST = {"test_cases.py": 1, "test_methods.py": 1, "test_qr.py": 2, "test_relogin.py": 1}
"""Requests a test of each deterministic module sends (the QR test: a login, then the image)."""
PROPERTIES = "test_properties.py"
EXPLICIT_PHASE_CASES = 20
"""Cases of the examples and coverage phases (shard 1 only), about as many whatever --examples (measured)."""


def planned_requests(nodeids: Iterable[str], settings: Settings) -> int:
    """About how many requests the selected tests send."""
    total = 0
    shards: list[int] = []
    for nodeid in nodeids:
        module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
        if module == PROPERTIES:
            shards.append(int(nodeid.rsplit("generated_cases_", 1)[-1].split("_of_", 1)[0]) - 1)
        elif module == "test_relogin.py":
            total += settings.known_wcid is not None
        else:
            total += REQUESTS_PER_TEST.get(module, 0)
    return total + _generated(sorted(set(shards)), settings)


def _generated(shards: list[int], settings: Settings) -> int:
    if not shards:
        return 0
    # Imported here: the plugin loads this module in every pytest run, and schemathesis takes a while to import.
    from ..suite.alike import FirstOfKind
    from ..suite.generation import fuzzing_cases, generated_requests

    if settings.embedded or settings.seed is None:
        return fuzzing_cases(settings.examples) * len(shards) + (EXPLICIT_PHASE_CASES if 0 in shards else 0)
    total = 0
    for shard in shards:  # alike cases are told apart per shard, as the property tests do
        alike = FirstOfKind()
        cases = generated_requests(examples=settings.examples, run_seed=settings.seed, positive=False, shards=[shard])
        total += sum(alike.first(case) for case in cases)
    return total


def plan_line(requests: int, settings: Settings) -> str:
    """``~N requests, ~T s at R req/s`` (the time the rate cap alone takes), with the requests in flight."""
    pace = (
        "no rate cap"
        if settings.rate_limit is None
        else f"~{requests / settings.rate_limit:.0f} s at {settings.rate_limit:g} req/s"
    )
    return f"ipadlogin-conformance: plan ~{requests} requests, {pace}, up to {settings.concurrency} in flight"
