"""Examples for the vendor guide: for each requirement, a response that passes and one that fails.

Nothing here is written by hand. The suite's own requests (cases.yaml, the
other methods, the QR fetch) are sent to the reference server and to the
reference server with a fault of :data:`.server.faults.CATALOG` that
``breaks`` the requirement; both answers are judged by the suite's checks
(:func:`.judgement.judge_labeled`), and the first request whose answer the
checks fail on the faulty server and pass on the correct one is the example.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ipadlogin_conformance.checks import Policy, created_a_login
from ipadlogin_conformance.client.budget import BudgetExhausted
from ipadlogin_conformance.client.target import Target, TargetConfig
from ipadlogin_conformance.contract.catalog import load_catalog
from ipadlogin_conformance.contract.spec import seed_example_wcid
from ipadlogin_conformance.core.exchange import Exchange
from ipadlogin_conformance.core.redaction import Redactor
from ipadlogin_conformance.core.verdict import Finding, Outcome
from ipadlogin_conformance.results.judgement import judge_labeled
from ipadlogin_conformance.server import CATALOG, Fault
from ipadlogin_conformance.suite.probes import Probe, probes

TOKEN = "vendor-guide-token"
REQUEST_TIMEOUT_S = 2.0
"""Short, so a hanging fault shows TIME-1 quickly; every other answer comes in milliseconds."""
POLICY = Policy(request_timeout_s=REQUEST_TIMEOUT_S)


@dataclass
class Answer:
    server_url: str
    exchange: Exchange
    findings: list[Finding]

    def about(self, requirement_id: str) -> list[Finding]:
        return [finding for finding in self.findings if finding.requirement == requirement_id]


@dataclass
class Example:
    requirement_id: str
    faults: list[Fault]
    """Every fault that breaks the requirement, the one shown first."""
    probe: Probe | None = None
    passing: Answer | None = None
    failing: Answer | None = None
    """None: no single response shows it (a run-level requirement), or no fault breaks it."""
    run_level: bool = False
    notes: list[str] = field(default_factory=list)


def _preferred(all_probes: list[Probe], requirement_id: str) -> list[Probe]:
    """The probes written for the requirement first, then the plainest requests, then the rest."""
    return sorted(all_probes, key=lambda probe: (requirement_id not in probe.requirements, not probe.plain))


class InProcessServer:
    """The reference app on a loopback port, in a thread of this process.

    Not :func:`.server.start_reference_server`'s subprocess: the guide (and the
    comparison tests) need a server per fault, and starting a Python process for
    each costs seconds.
    """

    def __init__(self, faults: tuple[str, ...], token: str = TOKEN) -> None:
        import uvicorn

        from ipadlogin_conformance.server.app import create_app
        from ipadlogin_conformance.server.config import ServerConfig

        self.socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        app = create_app(ServerConfig(tokens=(token,), faults=faults, access_log=False))
        config = uvicorn.Config(
            app, log_config=None, log_level="critical", access_log=False, lifespan="off", timeout_graceful_shutdown=1
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)
        self.thread.start()
        while not self.server.started and self.thread.is_alive():
            time.sleep(0.005)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.socket.close()


class Servers:
    """The reference server, correct and with single faults, started on demand; answers memoized."""

    def __init__(self) -> None:
        self.running: dict[str | None, InProcessServer] = {}
        self.targets: dict[str | None, Target] = {}
        self.answers: dict[tuple[str | None, str], Answer | None] = {}

    def start(self, fault: str | None) -> InProcessServer:
        if fault not in self.running:
            self.running[fault] = InProcessServer(() if fault is None else (fault,))
        return self.running[fault]

    def stop(self) -> None:
        for target in self.targets.values():
            target.close()
        for server in self.running.values():
            server.server.should_exit = True  # all at once: each may wait out a hanging request
        for server in self.running.values():
            server.stop()

    def answer(self, fault: str | None, probe: Probe) -> Answer | None:
        key = (fault, probe.name)
        if key not in self.answers:
            target = self._target(fault)
            try:
                exchange = probe.send(target)
            except BudgetExhausted:
                exchange = None
            if exchange is None:
                self.answers[key] = None
            else:  # judged as sent, shown with the token redacted
                redactor = Redactor(TOKEN)
                findings = [redactor.finding(finding) for finding in judge_labeled(exchange, POLICY)]
                self.answers[key] = Answer(target.config.base_url, redactor.exchange(exchange), findings)
        return self.answers[key]

    def _target(self, fault: str | None) -> Target:
        """The client of a server; a new one after a timeout (a client stops sending to a server that hung)."""
        target = self.targets.get(fault)
        if target is None or target.stalled():
            if target is not None:
                target.close()
            url = self.start(fault).url
            target = self.targets[fault] = Target(
                TargetConfig(base_url=url, token=TOKEN, request_timeout_s=REQUEST_TIMEOUT_S),
                succeeded=created_a_login,
            )
        return target


@contextmanager
def reference_servers() -> Iterator[Servers]:
    servers = Servers()
    try:
        yield servers
    finally:
        servers.stop()


def faults_breaking(requirement_id: str) -> list[Fault]:
    """The catalog's faults that break a requirement (or make a SHOULD warn), the most specific first."""
    order = list(CATALOG)
    faults = [
        fault for fault in CATALOG.values() if fault.kind == "fault" and requirement_id in (*fault.breaks, *fault.warns)
    ]
    return sorted(faults, key=lambda fault: (len(fault.breaks), order.index(fault.name)))


def collect() -> list[Example]:
    """One example per requirement of the catalog, in catalog order."""
    all_probes = probes(known_wcid=seed_example_wcid())
    examples = []
    with reference_servers() as servers:
        for requirement in load_catalog():
            examples.append(_example(requirement.id, servers, all_probes))
    return examples


def _example(requirement_id: str, servers: Servers, all_probes: list[Probe]) -> Example:
    example = Example(requirement_id, faults_breaking(requirement_id))
    judged = [(probe, servers.answer(None, probe)) for probe in _preferred(all_probes, requirement_id)]
    judged = [(probe, answer) for probe, answer in judged if answer is not None and answer.about(requirement_id)]
    if not judged:
        example.run_level = True
        return example
    for fault in example.faults:
        for probe, passing in judged:
            if not all(f.outcome is Outcome.PASS for f in passing.about(requirement_id)):
                continue
            failing = servers.answer(fault.name, probe)
            if failing is not None and any(f.is_problem for f in failing.about(requirement_id)):
                example.faults.remove(fault)
                example.faults.insert(0, fault)
                example.probe, example.passing, example.failing = probe, passing, failing
                return example
        example.notes.append(
            f"fault `{fault.name}` is listed as breaking it, but no answer to the suite's requests shows it"
        )
    example.probe, example.passing = next(
        (
            (probe, answer)
            for probe, answer in judged
            if all(f.outcome is Outcome.PASS for f in answer.about(requirement_id))
        ),
        (None, None),
    )
    return example
