"""Several login requests in flight, within the limits that protect a live target.

Against a live target a run is bounded by latency × requests when requests go
one at a time; :class:`InFlight` keeps up to ``--concurrency`` of them in flight
while the limits hold exactly as for one request at a time:

- one dispatcher admits the requests **in the order they were submitted**
  (:meth:`~.target.Target.admit`): the rate cap's slots, the stall rule and the
  success budget's reservations are decided in that order, and a worker thread
  then sends the request with the usual per-exchange deadline;
- a request that may succeed is admitted only once the budget, with this
  batch's own reservations in flight, leaves room for it; while it does not,
  the dispatcher waits for those to be answered before deciding, so the same
  requests are refused as in a sequential run (across xdist workers the budget
  is shared as always, and who is refused depends on the race, as before);
- the first request goes alone: a host that hangs from the start sees that one
  request only. Once a request to the host gets no complete answer in time, no
  further one is dispatched: at most ``concurrency - 1`` others are in flight,
  and they end by their own deadline, so a stalled host costs one timeout, not
  one per request.

Results are read back in submission order (:meth:`InFlight.results`), and
counted then on the Target's usage (so the test reading one counts it); the
reader applies the stall rule in that order (:meth:`~.target.Target.adopt_stall`)
and drops the answers to requests that a sequential run would not have sent
after the stall. Judgements, records and the cassette therefore come out as
in a sequential run with the same seed.

With ``concurrency`` 1 the requests are sent inline, exactly as before.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from ..core.exchange import Exchange
from .budget import BudgetExhausted
from .target import VALID_TOKEN, Target, TargetStalled


@dataclass(frozen=True)
class LoginCall:
    """One request to /iPadLogin, as :meth:`~.target.Target.login` takes it."""

    body: bytes | None
    token: object = VALID_TOKEN
    token_header: str = "Authorization"
    content_type: str | None = "application/json"
    content_type_header: str = "Content-Type"
    method: str = "POST"
    may_succeed: bool = True
    """False: the request must fail, and is sent even when the success budget is spent."""

    def send(self, target: Target) -> Exchange:
        """One at a time, the way every request went before."""
        return target.login(
            self.body,
            token=self.token,
            token_header=self.token_header,
            content_type=self.content_type,
            content_type_header=self.content_type_header,
            method=self.method,
            may_succeed=self.may_succeed,
        )


@dataclass
class Sent:
    """What became of one submitted request: its exchange, or why it was not sent."""

    exchange: Exchange | None = None
    not_sent: BudgetExhausted | None = None
    """BudgetExhausted (the success budget) or TargetStalled."""
    requests: int = 0
    successes: int = 0
    refused: int = 0
    """Not sent because the success budget was spent. These three are credited to the Target's usage when read."""

    def exchange_or_raise(self) -> Exchange:
        if self.exchange is None:
            raise self.not_sent or TargetStalled("not sent")
        return self.exchange


@dataclass
class _Item:
    call: LoginCall
    future: Future[Sent] = field(default_factory=Future)


class InFlight:
    """Sends login requests through ``target`` with up to ``concurrency`` in flight (see the module's docstring)."""

    def __init__(self, target: Target, concurrency: int) -> None:
        self.target = target
        self.concurrency = concurrency
        self._view = target.view()
        self._items: deque[_Item] = deque()
        """Submitted and not read back yet, in order."""
        self._backlog: deque[_Item] = deque()
        """Submitted and not dispatched yet."""
        self._changed = threading.Condition()
        self._in_flight = 0
        self._answered = False
        """Whether the first request has ended: until then it is alone in flight."""
        self._reserved = 0
        """Reservations against the success budget held by this batch's requests in flight."""
        self._closing = False
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="ipadlogin-send") if concurrency > 1 else None
        self._dispatcher: threading.Thread | None = None
        self._stalled_after = False
        """A result read back timed out: the rest of the batch is dropped, as a sequential run would not have sent it."""

    def submit(self, call: LoginCall) -> None:
        item = _Item(call)
        self._items.append(item)
        if self._pool is None:
            item.future.set_result(_sent_inline(self._view, call))
            return
        with self._changed:
            self._backlog.append(item)
            self._changed.notify_all()
        if self._dispatcher is None:
            self._dispatcher = threading.Thread(target=self._dispatch, name="ipadlogin-dispatch", daemon=True)
            self._dispatcher.start()

    def pending(self) -> int:
        return len(self._items)

    def next_result(self, *, wait: bool = True) -> Sent | None:
        """The oldest submitted request's result, read in order; None when none is ready (``wait=False``) or left.

        After a result that stalled the host, the rest read as not sent (the stall rule, applied in order).
        """
        if not self._items or (not wait and not self._items[0].future.done()):
            return None
        sent = self._items.popleft().future.result()
        self.target.budget.credit(sent.requests, sent.successes, sent.refused)  # the test reading it counts it
        if self._stalled_after:
            return Sent(
                not_sent=TargetStalled(self.target.stalled() or "an earlier request got no complete answer in time")
            )
        if sent.exchange is not None and sent.exchange.timed_out:
            self._stalled_after = True
            self.target.adopt_stall(sent.exchange)
        return sent

    def results(self) -> Iterator[Sent]:
        """Every result left, in order, each as soon as it is there."""
        while True:
            sent = self.next_result()
            if sent is None:
                return
            yield sent

    def close(self) -> None:
        """Stop dispatching what is left (it reads as not sent) and wait for the requests in flight."""
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        if self._dispatcher is not None:
            self._dispatcher.join()
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def __enter__(self) -> InFlight:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _dispatch(self) -> None:
        while True:
            with self._changed:
                while not self._closing and (not self._backlog or self._in_flight >= self._room()):
                    self._changed.wait()
                if self._closing:
                    for item in self._backlog:
                        item.future.set_result(Sent(not_sent=TargetStalled("the run ended before it was sent")))
                    self._backlog.clear()
                    return
                item = self._backlog.popleft()
                if item.call.may_succeed:
                    # Decide as a sequential run would: wait for this batch's possible successes before a refusal.
                    while self._reserved and self._view.budget.taken():
                        self._changed.wait()
            try:
                self._admit_and_send(item)
            except BaseException as error:  # never leave a reader waiting
                if not item.future.done():
                    item.future.set_exception(error)

    def _room(self) -> int:
        return self.concurrency if self._answered else 1

    def _admit_and_send(self, item: _Item) -> None:
        refused_before = self._view.budget.usage.refused
        try:
            reserved = self._view.admit(item.call.may_succeed)
        except BudgetExhausted as error:  # also TargetStalled
            item.future.set_result(Sent(not_sent=error, refused=self._view.budget.usage.refused - refused_before))
            return
        headers = self._view.login_headers(
            item.call.token, item.call.token_header, item.call.content_type, item.call.content_type_header
        )
        with self._changed:
            self._in_flight += 1
            self._reserved += reserved
        assert self._pool is not None
        self._pool.submit(self._send, item, headers, reserved)

    def _send(self, item: _Item, headers: dict[str, str], reserved: bool) -> None:
        try:
            exchange = self._view.deliver(item.call.method, headers, item.call.body, reserved)
            item.future.set_result(Sent(exchange, requests=1, successes=int(self._view.succeeded(exchange))))
        except BaseException as error:  # never leave a reader waiting
            item.future.set_exception(error)
        finally:
            with self._changed:
                self._in_flight -= 1
                self._reserved -= reserved
                self._answered = True
                self._changed.notify_all()


def _sent_inline(target: Target, call: LoginCall) -> Sent:
    """One request as before, on this thread (the view's usage is this thread's alone: its change is the request's)."""
    usage = target.budget.usage
    successes_before, refused_before = usage.successes, usage.refused
    try:
        exchange = call.send(target)
    except BudgetExhausted as error:
        return Sent(not_sent=error, refused=usage.refused - refused_before)
    return Sent(exchange, requests=1, successes=usage.successes - successes_before)
