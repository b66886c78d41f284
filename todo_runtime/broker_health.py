"""Whether the broker accepts this component: reachable, its certificate trusted, our credentials
and ACLs accepted.

Kept apart from readiness on purpose: the outbox keeps accepting writes while the
broker is away or refuses us, and publishes them once it is back, so a broker
problem never takes a service's gRPC API out of rotation. It shows on a gRPC
health name of its own (`todo.broker`), on the `todo_broker_up` metric, and in
the log: a refusal (TLS, credentials, ACLs) is an operator's mistake to fix, so
each retry logs one line saying which settings to check; an unreachable broker
is an outage, logged when it starts and when it ends.

Two kinds of reports feed it: a watch that asks the broker about the
component's own topics every few seconds (`broker_check`; it needs the Describe
ACL, see docs/operations.md#example-sasl-scram-over-tls-to-redpanda-cloud), and the
clients' own errors (a refused produce or group join), which clear when that client works
again. Clients report from librdkafka's threads; every report is handed to the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

from confluent_kafka import KafkaError

from todo_runtime import metrics
from todo_runtime.backoff import Backoff
from todo_runtime.broker_calls import off_loop
from todo_runtime.broker_check import BrokerCheck, Problem, problem_of
from todo_runtime.kafka_settings import KafkaConfig

log = logging.getLogger(__name__)

HEALTH_NAME: Final = "todo.broker"  # the gRPC health name that follows the broker connection
WATCH: Final = "watch"  # the source name of the watch's own reports
_INTERVAL: Final = 10.0  # seconds between checks while the broker accepts us
_RETRY_MAX: Final = 30.0  # the longest wait between checks while it does not


class BrokerHealth:
    """The broker connection of one component; see the module docstring.

    Parameters: `component` names it in the log; `config` and `topics` (the ones
    it produces and consumes) are what the watch asks about. Construct it on the
    event loop; `report` and `cleared` may be called from any thread.
    """

    def __init__(self, component: str, config: KafkaConfig, topics: Sequence[str]) -> None:
        self._component = component
        self._check = BrokerCheck(config, topics)
        self._loop = asyncio.get_running_loop()
        self._problems: dict[str, Problem] = {}
        self._checked = False  # down until the watch's first check says otherwise
        self._changed = asyncio.Event()
        self._recheck = asyncio.Event()  # a client works again: look now, not after the backoff
        self._publish: Callable[[bool], Awaitable[None]] | None = None
        self._published: bool | None = None
        self._down_since: float | None = None
        metrics.BROKER_UP.set(0)

    @property
    def up(self) -> bool:
        return self._checked and not self._problems

    @property
    def problems(self) -> dict[str, Problem]:
        """What each failing source reported (empty while the broker accepts us)."""
        return dict(self._problems)

    def report(self, source: str, error: KafkaError) -> None:
        """A client's error; only refusals count (outages are the watch's to judge)."""
        problem = problem_of(error)
        if problem.refusal:
            self._loop.call_soon_threadsafe(self._set, source, problem)

    def cleared(self, source: str) -> None:
        """The client works again (it delivered, fetched or was assigned partitions)."""
        if source in self._problems:  # a racy read is fine: _set decides on the loop
            self._loop.call_soon_threadsafe(self._set, source, None)

    def use_publisher(self, publish: Callable[[bool], Awaitable[None]]) -> None:
        """Publishes the verdict through `publish` from now on (the gRPC server, once started)."""
        self._publish = publish
        self._published = None
        self._changed.set()

    async def run(self) -> None:
        """Checks the broker until cancelled: every few seconds while it accepts us, with a
        growing backoff (one log line per retry) while it refuses or cannot be reached."""
        backoff = Backoff(2.0, _RETRY_MAX)
        try:
            while True:
                self._recheck.clear()
                problem = await off_loop(self._check)
                self._set(WATCH, problem)
                if problem is None:
                    backoff.reset()
                delay = _INTERVAL if problem is None else backoff.next_delay()
                if problem is not None and problem.refusal:
                    log.warning(
                        "%s: the broker refuses us: %s; retrying in %.0f s",
                        self._component,
                        problem,
                        delay,
                    )
                await self._wait(delay)
        finally:
            self._check.close()

    async def _wait(self, delay: float) -> None:
        """Publishes each change meanwhile; returns after `delay`, or at once when a client
        recovered while the watch still sees a problem."""
        deadline = time.monotonic() + delay
        while True:
            await self._publish_verdict()
            if self._recheck.is_set():
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                async with asyncio.timeout(remaining):
                    await self._changed.wait()
            except TimeoutError:
                return

    def _set(self, source: str, problem: Problem | None) -> None:
        was_up = self.up
        before = self._problems.get(source)
        if problem is None:
            self._problems.pop(source, None)
            if before is not None and source != WATCH and WATCH in self._problems:
                self._recheck.set()
        else:
            if source == WATCH or before is None:
                metrics.BROKER_FAILURES.labels(problem.reason).inc()
            self._problems[source] = problem
            if self._down_since is None:
                self._down_since = time.monotonic()
            if not problem.refusal and (before is None or before.refusal):  # an outage begins
                log.warning("%s: cannot reach the broker: %s", self._component, problem)
        if source == WATCH:
            self._checked = True
        if self.up != was_up:
            metrics.BROKER_UP.set(1 if self.up else 0)
        self._changed.set()
        if self.up and self._down_since is not None:
            log.info(
                "%s: the broker accepts us again after %.1f s",
                self._component,
                time.monotonic() - self._down_since,
            )
            self._down_since = None

    async def _publish_verdict(self) -> None:
        self._changed.clear()
        if self._publish is not None and self.up != self._published:
            self._published = self.up
            await self._publish(self.up)
