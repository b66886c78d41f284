"""The faults the suite injects: each breaks one thing, holds it broken while the client works,
and heals it (a restart, a resumed process, a restored link)."""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from tests.support.faults.stack import FaultStack

# Longer than every client timeout it affects: the Kafka session (6 s), gRPC deadlines (5 s),
# the gateways' WebSocket ping (5 s).
BROKER_PAUSE_SECONDS = 12.0
CUT_SECONDS = 6.0  # longer than the services' gRPC deadlines (5 s)
KILL_SECONDS = 3.0  # how long a killed process stays down before it is restarted

Step = Callable[[FaultStack], Awaitable[None]]


@dataclass(frozen=True)
class Fault:
    """`inject`, then `hold` seconds of the client working against the broken stack, then `heal`."""

    name: str
    inject: Step
    heal: Step
    hold: float


async def _nothing(_stack: FaultStack) -> None:
    return None


def broker_kill() -> Fault:
    async def kill(stack: FaultStack) -> None:
        await stack.kill_broker()

    async def restart(stack: FaultStack) -> None:
        await stack.restart_broker()  # empty: Tansu keeps nothing

    return Fault("broker SIGKILL, back empty", kill, restart, KILL_SECONDS)


def broker_pause() -> Fault:
    async def pause(stack: FaultStack) -> None:
        stack.pause_broker()

    async def resume(stack: FaultStack) -> None:
        stack.resume_broker()

    return Fault(
        f"broker SIGSTOP {BROKER_PAUSE_SECONDS:.0f} s", pause, resume, BROKER_PAUSE_SECONDS
    )


def postgres_kill() -> Fault:
    async def kill(stack: FaultStack) -> None:
        await stack.kill_postgres()

    async def restart(stack: FaultStack) -> None:
        await stack.restart_postgres()

    return Fault("PostgreSQL SIGKILL, restart", kill, restart, KILL_SECONDS)


def process_kill(name: str) -> Fault:
    """SIGKILL of one replica (`notify-1`, `gateway-2`) while the client works; then a restart."""

    async def kill(stack: FaultStack) -> None:
        await stack.kill(stack.replica(name))

    async def restart(stack: FaultStack) -> None:
        await stack.restart(stack.replica(name))

    return Fault(f"{name} SIGKILL", kill, restart, KILL_SECONDS)


def database_cut(name: str) -> Fault:
    """Every connection of one replica to PostgreSQL dropped, and new ones refused, for a while."""

    async def cut(stack: FaultStack) -> None:
        link = stack.replica(name).link
        assert link is not None, f"{name} has no database link"
        await link.cut()

    async def restore(stack: FaultStack) -> None:
        link = stack.replica(name).link
        assert link is not None
        await link.start()

    return Fault(f"{name} database cut {CUT_SECONDS:.0f} s", cut, restore, CUT_SECONDS)


def replay(since: datetime) -> Fault:
    """`todo replay --since`: every retained event published again, from the run's start."""

    async def run(stack: FaultStack) -> None:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "todo_cli",
            "replay",
            "--since",
            since.isoformat(),
            env={**stack.replicas[0].env, "DATABASE_URL": stack.database_url},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
        assert process.returncode == 0, output.decode()

    return Fault("replay every topic from the start", run, _nothing, 0.0)


def every_fault(since: datetime) -> list[Fault]:
    """One of each, in the order the CI run injects them."""
    return [
        broker_kill(),
        broker_pause(),
        postgres_kill(),
        process_kill("tasks-1"),
        process_kill("notify-1"),
        process_kill("recur-2"),
        process_kill("audit-1"),
        process_kill("live-1"),
        process_kill("gateway-2"),
        process_kill("gateway-1"),
        database_cut("notify-2"),
        database_cut("tasks-1"),
        replay(since),
    ]


def random_fault(rng: random.Random, since: datetime) -> Fault:
    """One fault for the soak: any kind, on any replica."""
    index = rng.randint(1, 2)
    choices: list[Callable[[], Fault]] = [
        broker_kill,
        broker_pause,
        postgres_kill,
        lambda: process_kill(
            f"{rng.choice(['tasks', 'notify', 'recur', 'audit', 'live', 'gateway'])}-{index}"
        ),
        lambda: database_cut(f"{rng.choice(['tasks', 'notify', 'recur', 'audit'])}-{index}"),
        lambda: replay(since),
    ]
    return rng.choice(choices)()
