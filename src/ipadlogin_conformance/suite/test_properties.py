"""Property tests generated from openapi.yaml by schemathesis: examples, coverage and fuzzing phases.

Every generated case is sent and judged like a hand-written one; nothing
raises inside the Hypothesis loop, so one broken case neither stops the
exploration nor triggers shrinking (each shrink step would be another call
to a live server). The test fails afterwards, with the evidence and the seed.
The cases are split into shards (see generation.SHARDS) so xdist can run
them on several cores; the run's seed replays all of them. Cases go out
through ``send_later`` (up to --concurrency in flight, judged in order, see
prefetch.py); against a live target a case alike an earlier one is not sent
(alike.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ipadlogin_conformance.core.settings import active as active_settings
from ipadlogin_conformance.suite.alike import FirstOfKind
from ipadlogin_conformance.suite.generation import SHARDS, fuzzing_cases, labeled, load_schema, login_call, to_request

_settings = active_settings()


def _shard_test(shard: int) -> Callable[..., None]:
    schema = load_schema(examples=_settings.examples, run_seed=_settings.seed, shard=shard, positive=_settings.embedded)
    # Against a live target a case alike an earlier one of the shard is not sent (see alike.py): per shard, so that
    # a run split over xdist workers sends what a serial one sends.
    alike = FirstOfKind()

    @pytest.mark.requirement("AUTH-1", "AUTH-3", "REQ-1", "REQ-2", "REQ-3", "REQ-4", "REQ-5", "REQ-6", "REQ-7", "REQ-8")
    @schema.parametrize()
    def test_generated_cases(case: Any, judge: Any, send_later: Any) -> None:
        judge.record.seed = _settings.seed
        judge.progress.plan(fuzzing_cases(_settings.examples), "fuzzing")
        request = to_request(case)
        if not _settings.embedded and not alike.first(request):
            return

        def judged(exchange: Any) -> None:  # in order, as answers arrive (a request not sent: never called)
            judge.login(labeled(exchange, request), request.expect, *request.requirements)
            judge.progress.tick(request.phase)

        send_later(login_call(request), judged)

    return test_generated_cases


for _shard in range(SHARDS):
    globals()[f"test_generated_cases_{_shard + 1}_of_{SHARDS}"] = _shard_test(_shard)
