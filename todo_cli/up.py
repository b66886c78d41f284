"""`todo up`: the whole stack on one machine, each part a supervised process.

Order: PostgreSQL (embedded unless DATABASE_URL), the broker (embedded Tansu
unless KAFKA_BOOTSTRAP_SERVERS; every part inherits the Kafka security settings
meant for a broker of yours), then every component. The embedded servers come
from the `local` extra. Each part that dies is
restarted with backoff; the services ride out the gap (database watch, outbox,
topic epochs). Output is one line per part as it becomes ready (with its
metrics address when TODO_METRICS_PORT is set: each component gets a port of
its own from there), then one ready line. While it runs, `stack.json` in the
data directory names the embedded servers for the operator commands
(`todo_cli.stack_state`). Ctrl-C or SIGTERM stops the parts in reverse order.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import sys
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from todo_cli import components
from todo_cli.broker import EmbeddedBroker
from todo_cli.database import EmbeddedPostgres
from todo_cli.ports import PortClaim, clashing, describe_taken, taken_ports
from todo_cli.settings import data_dir, stack_secrets, write_audit_public_key
from todo_cli.stack_state import StackState, remove_state, write_state
from todo_cli.supervisor import ProcessSpec, Supervised
from todo_runtime import metrics
from todo_runtime.config import RUN_ID_ENV, ConfigError, Env
from todo_runtime.endpoints import LOCALHOST
from todo_runtime.kafka_settings import SECURITY_VARIABLES, KafkaSecurity
from todo_runtime.logs import FORMAT_ENV, configure_logging
from todo_runtime.runner import wait_for_stop_signal
from todo_runtime.service import Component
from todo_runtime.tokens import issue_token

log = logging.getLogger(__name__)

READY_TIMEOUT: Final = 90.0
DEFAULT_BROKER_PORT: Final = 9092
BROKER_PORT_ENV: Final = "TODO_BROKER_PORT"
BIND_HOST_ENV: Final = "TODO_BIND_HOST"
DEV_USER: Final = "dev"
DEV_TOKEN_SECONDS: Final = 24 * 3600  # as `todo token`'s default
SERVERS: Final = frozenset({"postgres", "broker"})  # the parts the components depend on


class StackError(RuntimeError):
    """`todo up` cannot start (a port is taken, a setting is wrong); nothing was started."""


def say(line: str) -> None:
    print(line, flush=True)


@dataclass
class Stack:
    """What this run starts: the environment its children get and the processes in start order."""

    env: dict[str, str]
    run_id: str
    parts: list[Supervised]
    database: EmbeddedPostgres | None
    record: StackState  # what `stack.json` says while it runs (`todo_cli.stack_state`)


def plan(directory: Path, environ: dict[str, str], without: frozenset[str] = frozenset()) -> Stack:
    """Works out every process, address and port of this run, starting nothing.

    `without` names components this run leaves out (to run them by hand, e.g.
    under a debugger, with `todo serve NAME`).
    """
    run_id = secrets.token_hex(8)
    env = dict(environ)
    env.update(stack_secrets(directory, environ))
    write_audit_public_key(directory, env["TODO_AUDIT_SIGNING_KEY"])
    env[RUN_ID_ENV] = run_id
    # A local stack is a developer's: webhooks to a receiver on this machine are the point.
    env.setdefault("TODO_WEBHOOK_ALLOW_PRIVATE", "1")
    settings = Env(env)
    logs = directory / "logs"
    logs.mkdir(exist_ok=True)
    parts: list[Supervised] = []
    claims: list[PortClaim] = []
    database = None
    embedded_broker = None
    if not env.get("DATABASE_URL"):
        database = EmbeddedPostgres(directory)
        env["DATABASE_URL"] = database.url()
        embedded = database

        async def database_ready(pid: int) -> bool:
            return embedded.accepts_connections(pid)

        parts.append(
            Supervised(
                ProcessSpec(
                    "postgres",
                    database.command(),
                    logs / "postgres.log",
                    database_ready,
                    stop_signal=signal.SIGINT,  # fast shutdown
                    address=f"{database.url()} (embedded, data in {database.pgdata})",
                )
            )
        )
    if env.get("KAFKA_BOOTSTRAP_SERVERS"):
        KafkaSecurity.from_env(settings)  # a broker of yours: its security settings must work
    else:
        refuse_security_without_broker(env)
        broker = EmbeddedBroker(LOCALHOST, settings.integer(BROKER_PORT_ENV, DEFAULT_BROKER_PORT))
        env["KAFKA_BOOTSTRAP_SERVERS"] = embedded_broker = broker.bootstrap_servers
        claims.append(PortClaim("broker", broker.host, broker.port, BROKER_PORT_ENV))

        async def broker_ready(_pid: int) -> bool:
            return broker.accepts_connections()

        parts.append(
            Supervised(
                ProcessSpec(
                    "broker",
                    broker.command(),
                    logs / "broker.log",
                    broker_ready,
                    stop_signal=signal.SIGINT,  # Tansu waits ~5 s for clients on SIGTERM
                    address=f"kafka://{broker.bootstrap_servers} (embedded Tansu, in memory)",
                )
            )
        )
    host = settings.text(BIND_HOST_ENV, LOCALHOST)
    metrics_ports = metrics_port_plan(settings)
    for component in components.COMPONENTS:
        if component.name in without:
            continue
        endpoint = component.endpoint
        claims.append(PortClaim(component.name, host, endpoint.port(settings), endpoint.port_env))
        part_env, address = env, components.address(component, settings)
        metrics_port = metrics_ports.get(component.name)
        if metrics_port is not None:
            part_env = {**env, metrics.PORT_ENV: str(metrics_port)}
            address += f"  metrics http://{LOCALHOST}:{metrics_port}/metrics"
            claims.append(
                PortClaim(f"{component.name} metrics", host, metrics_port, metrics.PORT_ENV)
            )

        async def component_ready(_pid: int, component: Component = component) -> bool:
            return await components.ready(component, settings, run_id)

        parts.append(
            Supervised(
                ProcessSpec(
                    component.name,
                    [sys.executable, "-m", component.module],
                    logs / f"{component.name}.log",
                    component_ready,
                    env=part_env,
                    address=address,
                )
            )
        )
    clash = clashing(claims)
    if clash is not None:
        raise StackError(clash)
    taken = taken_ports(claims)
    if taken:
        raise StackError(describe_taken(taken))
    record = StackState(
        pid=os.getpid(),
        database_url=database.url() if database is not None else None,
        bootstrap_servers=embedded_broker,
    )
    return Stack(env, run_id, parts, database, record)


def metrics_port_plan(settings: Env) -> dict[str, int]:
    """Each component's metrics port under `todo up`: `TODO_METRICS_PORT` is the first, and each
    component in start order takes the next (one port would be bound by every process); none
    when it is unset. A component left out keeps its number free, so the others never move."""
    base = settings.integer(metrics.PORT_ENV, 0)
    if not base:
        return {}
    last = base + len(components.COMPONENTS) - 1
    if not 0 < base <= last <= 65535:
        raise ConfigError(
            f"environment variable {metrics.PORT_ENV} must leave room for "
            f"{len(components.COMPONENTS)} ports up to 65535 under `todo up`, got {base}"
        )
    return {component.name: base + index for index, component in enumerate(components.COMPONENTS)}


async def run(stack: Stack, directory: Path) -> None:
    """Starts the parts in order, prints each as it becomes ready, and runs until a stop signal."""
    stop = asyncio.create_task(wait_for_stop_signal())
    runners: list[asyncio.Task[None]] = []
    try:
        ready = True
        for part in stack.parts:
            runners.append(asyncio.create_task(part.run(), name=part.spec.name))
            if part.spec.name == "postgres" and stack.database is not None:
                if not await _until(stop, part.wait_ready(READY_TIMEOUT)):
                    return
                await stack.database.ensure_database()
            elif part.spec.name == "broker" and not await _until(
                stop, part.wait_ready(READY_TIMEOUT)
            ):
                return
        # The operator commands may use this stack's servers from now on.
        write_state(directory, stack.record)
        for part in stack.parts:
            part_ready = await _until(stop, part.wait_ready(READY_TIMEOUT))
            if stop.done():
                return
            note = (
                ""
                if part_ready
                else f"  (not ready after {READY_TIMEOUT:.0f} s, see {part.spec.log_path})"
            )
            ready = ready and part_ready
            say(f"{part.spec.name:<9} {part.spec.address}{note}")
        logs = directory / "logs"
        gateway = next((p.spec.address for p in stack.parts if p.spec.name == "gateway"), None)
        opening = f"open {gateway} " if gateway else ""
        say(
            f"todo stack ready: {opening}(logs in {logs}; Ctrl-C stops)"
            if ready
            else f"todo stack started with errors; not ready (logs in {logs})"
        )
        if ready and gateway:
            token = issue_token(stack.env["TODO_JWT_SECRET"], DEV_USER, DEV_TOKEN_SECONDS)
            say(f"task board: {board_link(gateway, token)} (signs the browser in as {DEV_USER})")
        await stop
    finally:
        remove_state(directory, stack.record.pid)
        stop.cancel()
        # The components together (each stops within STOP_TIMEOUT, whatever is unreachable),
        # then the servers they used, in reverse order.
        components = [part for part in stack.parts if part.spec.name not in SERVERS]
        await asyncio.gather(*(part.stop() for part in components))
        for part in reversed(stack.parts):
            if part.spec.name in SERVERS:
                await part.stop()
        for runner in runners:
            runner.cancel()
        await asyncio.gather(*runners, return_exceptions=True)


def refuse_security_without_broker(env: dict[str, str]) -> None:
    """Kafka security settings meant for a broker of yours, with none named: the embedded broker
    speaks plaintext only, so they would be silently ignored."""
    given = [name for name in SECURITY_VARIABLES if env.get(name, "").strip()]
    if given:
        raise StackError(
            f"{', '.join(given)} set, but KAFKA_BOOTSTRAP_SERVERS is not: the embedded broker "
            "speaks plaintext only; set KAFKA_BOOTSTRAP_SERVERS to the broker they are for, or "
            "unset them"
        )


def board_link(gateway: str, token: str) -> str:
    """The task board at the gateway's `/` (given its /graphql URL), signed in with `token`: in
    the URL fragment, which browsers never send to a server, so no server log holds it."""
    return f"{gateway.removesuffix('/graphql')}/#token={token}"


async def _until(stop: asyncio.Task[None], waiting: Coroutine[Any, Any, bool]) -> bool:
    """The result of `waiting`, or False as soon as a stop signal arrives."""
    task = asyncio.create_task(waiting)
    await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    if stop.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return False
    return bool(task.result())


def up(without: frozenset[str] = frozenset()) -> int:
    """Runs the stack until Ctrl-C; exits non-zero before starting anything if it cannot run."""
    # People read this run's logs (and its children's, which inherit the setting): text, unless
    # asked otherwise. A container's `todo serve` keeps the default, JSON.
    os.environ.setdefault(FORMAT_ENV, "text")
    configure_logging("todo")
    directory = data_dir()
    stack = plan(directory, dict(os.environ), without)
    if stack.database is not None:
        stack.database.prepare()
    asyncio.run(run(stack, directory))
    say("todo stack stopped")
    return 0
