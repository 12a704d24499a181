"""The requests a comparison sends: the suite's own, in a fixed order, each labeled for judgement.

The same list goes to both targets: the hand-written cases of
``suite/cases.yaml``, the other methods (METH-1), the QR fetch, the re-login
of ``--known-wcid`` (all through :func:`~ipadlogin_conformance.suite.probes.probes`)
and the property tests' generated cases for a fixed seed
(:func:`~ipadlogin_conformance.suite.generation.generated_requests`). Against a live
target the suite generates only cases that must fail (its politeness rule),
so a comparison does too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from ..client.target import Target
from ..core.exchange import Exchange
from ..results.judgement import label_login
from ..suite.generation import GeneratedRequest, generated_requests, send
from ..suite.probes import probes

COMPARE_SEED = 20240601
"""The generated cases' seed unless --hypothesis-seed says otherwise: a comparison is the same every time."""
COMPARE_EXAMPLES = 25
"""Generated cases unless --examples says otherwise: with the cases and methods about 110 requests per target."""


@dataclass(frozen=True)
class ComparedRequest:
    id: str
    requirements: tuple[str, ...]
    """The request class: the requirements that say which outcome this request must get."""
    description: str
    send: Callable[[Target], Exchange | None]
    """Sends it and labels the exchange for judgement; None when it cannot be made (no QR URL to fetch)."""

    @property
    def request_class(self) -> str:
        return ", ".join(self.requirements)


def suite_requests(*, examples: int, seed: int, known_wcid: str | None) -> list[ComparedRequest]:
    """The suite's requests for a comparison of two live targets."""
    found = [
        ComparedRequest(probe.key, probe.requirements, probe.description, probe.send) for probe in probes(known_wcid)
    ]
    found += [
        ComparedRequest(f"generated-{number}", request.requirements, _describe(request), _sender(request))
        for number, request in enumerate(_generated(examples, seed), 1)
    ]
    return found


@cache
def _generated(examples: int, seed: int) -> tuple[GeneratedRequest, ...]:
    """The same for the same arguments (Hypothesis with a fixed seed), and about 2 s of CPU: made once."""
    return tuple(generated_requests(examples=examples, run_seed=seed, positive=False))


def _sender(request: GeneratedRequest) -> Callable[[Target], Exchange]:
    return lambda target: label_login(send(request, target), request.expect, request.requirements)


def _describe(request: GeneratedRequest) -> str:
    body = "no body" if request.body is None else request.body[:80].decode("utf-8", "backslashreplace")
    return f"generated case {request.case_id}: {body}" + ("" if request.with_token else " (no Authorization)")


def numbered(names: Iterable[str]) -> list[str]:
    """Unique ids from names: a name met more than once gets -1, -2, ... on every occurrence."""
    names = list(names)
    total = {name: names.count(name) for name in names}
    seen: dict[str, int] = {}
    ids = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        ids.append(name if total[name] == 1 else f"{name}-{seen[name]}")
    return ids
