"""The suite's tests with several requests in flight (:mod:`.concurrency`), still one test, one JUnit entry per case.

- A deterministic test (a hand-written case, another method) carries its
  request on a ``login_call`` marker. When the first test of a row of such
  tests runs, the requests of the whole row (up to the next test of another
  kind) are submitted at once; each test then takes its own answer, in test
  order, and judges it as before (fixture ``sent_ahead``). Under xdist a worker
  does not know which tests it runs next, and with ``--concurrency 1`` there is
  nothing to gain: each such test sends its own request.
- A property test hands each generated case to ``send_later`` instead of waiting
  for its answer: answers are judged in order as they arrive, and the rest
  when the test's body returns (:func:`settle`, called by the plugin before it
  decides whether the test failed).

Either way the answers are judged in the order a sequential run sends them,
and the stall rule and the budget apply in that order (see :mod:`.concurrency`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator

import pytest

from ..client.concurrency import InFlight, LoginCall, Sent
from ..client.target import Target
from ..core.exchange import Exchange
from ..core.settings import Settings

LOGIN_CALL = "login_call"
MARKER_LINE = f"{LOGIN_CALL}(call): the test's one login request, sent ahead with the tests beside it (see prefetch.py)"
OnAnswer = Callable[[Exchange], None]
_LATER = pytest.StashKey["_Later"]()


class Ahead:
    """The requests of rows of deterministic tests, submitted together and taken back in test order."""

    def __init__(self, target: Target, concurrency: int) -> None:
        self._flight = InFlight(target, concurrency)
        self._order: deque[str] = deque()
        """Node ids of the submitted requests not taken yet, in order."""

    def take(self, item: pytest.Item) -> Sent:
        """The answer to ``item``'s request; the row it starts is submitted first when it is not yet."""
        if item.nodeid not in self._order:
            self._submit_row(item)
        while (
            self._order[0] != item.nodeid
        ):  # a test before it did not take its answer (skipped, deselected by a crash)
            self._order.popleft()
            self._flight.next_result()
        self._order.popleft()
        sent = self._flight.next_result()
        assert sent is not None
        return sent

    def close(self) -> None:
        self._flight.close()

    def _submit_row(self, item: pytest.Item) -> None:
        while self._order:  # answers to an earlier row nobody took: read (the stall rule) and drop
            self._order.popleft()
            self._flight.next_result()
        items = item.session.items
        start = items.index(item) if item in items else len(items)
        row = [item] if start == len(items) else []
        for following in items[start:]:
            if following.get_closest_marker(LOGIN_CALL) is None:
                break
            row.append(following)
        for member in row:
            self._flight.submit(login_call_of(member))
            self._order.append(member.nodeid)


def login_call_of(item: pytest.Item) -> LoginCall:
    marker = item.get_closest_marker(LOGIN_CALL)
    if marker is None:
        raise LookupError(f"{item.nodeid} has no {LOGIN_CALL} marker")
    return marker.args[0]


@pytest.fixture(scope="session")
def ipadlogin_ahead(
    target: Target, ipadlogin_settings: Settings, pytestconfig: pytest.Config
) -> Iterator[Ahead | None]:
    """Requests sent ahead for the deterministic tests; None where each test sends its own (see the module)."""
    if ipadlogin_settings.concurrency < 2 or hasattr(pytestconfig, "workerinput"):
        yield None
        return
    ahead = Ahead(target, ipadlogin_settings.concurrency)
    try:
        yield ahead
    finally:
        ahead.close()


@pytest.fixture
def sent_ahead(
    request: pytest.FixtureRequest, target: Target, judge: object, ipadlogin_ahead: Ahead | None
) -> Callable[[], Exchange]:
    """The exchange of the test's ``login_call``; raises BudgetExhausted or TargetStalled when it was not sent.

    (``judge`` first: it skips a test once the host stalled, and counts what the test reads.)
    """

    def exchange() -> Exchange:
        if ipadlogin_ahead is None:
            return login_call_of(request.node).send(target)
        return ipadlogin_ahead.take(request.node).exchange_or_raise()

    return exchange


class _Later:
    """A property test's requests in flight and what to do with each answer, in order."""

    def __init__(self, flight: InFlight) -> None:
        self.flight = flight
        self.on_answer: deque[OnAnswer] = deque()

    def submit(self, call: LoginCall, on_answer: OnAnswer) -> None:
        self.flight.submit(call)
        self.on_answer.append(on_answer)
        self.judge_ready(wait=False)

    def judge_ready(self, *, wait: bool) -> None:
        while True:
            sent = self.flight.next_result(wait=wait)
            if sent is None:
                return
            handle = self.on_answer.popleft()
            if sent.exchange is not None:
                handle(sent.exchange)


@pytest.fixture
def send_later(
    request: pytest.FixtureRequest, target: Target, judge: object, ipadlogin_settings: Settings
) -> Iterator[Callable[[LoginCall, OnAnswer], None]]:
    """Submit a request and what to do with its answer; answers are handled in order (a request not sent: nothing)."""
    later = _Later(InFlight(target, ipadlogin_settings.concurrency))
    request.node.stash[_LATER] = later
    try:
        yield later.submit
    finally:
        later.flight.close()


def settle(item: pytest.Item) -> None:
    """Judge every answer a property test still has in flight (the plugin calls it when the test's body returned)."""
    later = item.stash.get(_LATER, None)
    if later is not None:
        later.judge_ready(wait=True)
