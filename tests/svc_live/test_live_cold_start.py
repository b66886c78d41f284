"""Streams opened while svc_live's fan-out consumer is still joining (at start, and as a replica
comes back) miss nothing: every change committed after the stream pinned its user's latest one
arrives, in order, with the heartbeat's re-read of the log pushed out of reach."""

from __future__ import annotations

from tests.support.infra import eventually
from tests.svc_live.conftest import Live, Reader, new_user
from todo_runtime.runner import RunningService

AFTER_READY = 5  # changes made once the replica is ready, besides those made while it joined
QUIET = "600"  # heartbeat seconds: far beyond the test, so only the live path can deliver
ARRIVES_WITHIN = 10.0  # seconds for one change to arrive (about 0.05 s here; ten times a second)


async def every_change_arrives(
    live: Live, reader: Reader, user: str, replica: RunningService
) -> None:
    """One change at a time, each awaited before the next, from before the replica is ready until
    a few after: a change that does not come on its own (nothing later to reveal the gap, the
    heartbeat's re-read out of reach) fails the test."""
    await reader.live()  # pinned at the user's latest change (none yet)
    made, after = 0, 0
    while after < AFTER_READY:
        if replica.readiness.ready:
            after += 1
        await live.create(user, f"change {made}")
        made += 1
        await eventually(reader.holds(made), ARRIVES_WITHIN)
    assert reader.sequences == list(range(1, made + 1))
    print(f"{made - AFTER_READY} change(s) before the replica was ready, {AFTER_READY} after")


async def test_a_stream_opened_while_svc_live_starts_misses_nothing(live: Live) -> None:
    replica = await live.start(TODO_LIVE_HEARTBEAT_SECONDS=QUIET)
    user = new_user()
    reader = live.subscribe(user, replica, from_latest=True)
    await every_change_arrives(live, reader, user, replica)


async def test_a_stream_opened_while_a_replica_comes_back_misses_nothing(live: Live) -> None:
    first = await live.start(TODO_LIVE_HEARTBEAT_SECONDS=QUIET)
    await eventually(lambda: first.readiness.ready, 60)
    await first.stop()
    live.replicas.remove(first)
    second = await live.start(TODO_LIVE_HEARTBEAT_SECONDS=QUIET)
    user = new_user()
    reader = live.subscribe(user, second, from_latest=True)
    await every_change_arrives(live, reader, user, second)
