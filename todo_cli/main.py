"""The `todo` command: `up`, `serve`, `token`, and the operator's `replay` and `dlq replay`."""

from __future__ import annotations

import argparse
import asyncio
import os
import runpy
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg

from todo_cli import components
from todo_cli.database import EmbeddedPostgres
from todo_cli.settings import data_dir, stack_secrets
from todo_cli.up import DEFAULT_BROKER_PORT, StackError, say, up
from todo_runtime import topics
from todo_runtime.config import ConfigError, Env, KafkaConfig
from todo_runtime.dlq_replay import ReplayError, replay_dead_letters
from todo_runtime.identity import identity_metadata
from todo_runtime.outbox import requeue_since
from todo_runtime.tokens import issue_token
from todo_runtime.validation import user_id_problem


def serve(name: str) -> int:
    """Runs one component in this process: the entrypoint a container uses."""
    runpy.run_module(components.BY_NAME[name].module, run_name="__main__")
    return 0


def token(user: str, ttl: int, grpc_headers: bool) -> int:
    """Prints a JWT for `user` signed with the stack's secret (or grpcurl -H flags for a service)."""
    secrets = stack_secrets(data_dir())
    if grpc_headers:
        problem = user_id_problem(user)
        if problem is not None:
            say(f"todo token: user id {user!r}: {problem}")
            return 2
        metadata = identity_metadata(secrets["TODO_INTERNAL_SECRET"], user)
        say(" ".join(f"-H {key}:{value}" for key, value in metadata))
        return 0
    try:
        say(issue_token(secrets["TODO_JWT_SECRET"], user, ttl))
    except ValueError as error:
        say(f"todo token: {error}")
        return 2
    return 0


def _database_url() -> str:
    """DATABASE_URL, else the local stack's embedded server (which must be running)."""
    return os.environ.get("DATABASE_URL") or EmbeddedPostgres(data_dir()).url()


def _kafka() -> KafkaConfig:
    """KAFKA_BOOTSTRAP_SERVERS, else the local stack's embedded broker."""
    env = dict(os.environ)
    env.setdefault(
        "KAFKA_BOOTSTRAP_SERVERS",
        f"127.0.0.1:{Env(env).integer('TODO_BROKER_PORT', DEFAULT_BROKER_PORT)}",
    )
    return KafkaConfig.from_env(Env(env))


async def _replay(since: datetime) -> dict[str, int]:
    conn = await asyncpg.connect(_database_url())
    counts: dict[str, int] = {}
    try:
        for service in components.SERVICES:
            if not service.produces:
                continue
            await conn.execute(f'SET search_path TO "{service.schema}"')
            async with conn.transaction():
                counts[service.name] = await requeue_since(conn, since)
    finally:
        await conn.close()
    return counts


def replay(since: str) -> int:
    """Queues every retained event created since `since` for publishing again."""
    try:
        moment = datetime.fromisoformat(since)
    except ValueError:
        say(
            f"todo replay: --since must be an ISO 8601 time such as 2026-11-30T08:00:00Z, got {since!r}"
        )
        return 2
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        counts = asyncio.run(_replay(moment))
    except (OSError, asyncpg.PostgresError) as error:
        say(f"todo replay: cannot reach the database: {error}")
        return 1
    for name, count in counts.items():
        say(f"{name}: {count} events since {moment.isoformat()} queued for publishing again")
    return 0


def dlq_replay(topic: str | None) -> int:
    """Sends the dead letters of `topic` (default: every consumed topic) back to their topic."""
    wanted = [topic] if topic else sorted({t for s in components.SERVICES for t in s.consumes})
    kafka = _kafka()
    try:
        for name in wanted:
            say(f"{name}: {replay_dead_letters(kafka, name)} dead letters replayed")
    except ReplayError as error:
        say(f"todo dlq replay: {error}")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="todo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up_parser = commands.add_parser("up", help="run the whole stack on this machine")
    up_parser.add_argument(
        "--without",
        action="append",
        default=[],
        choices=sorted(components.BY_NAME),
        help="leave this component out (run it yourself with `todo serve`); repeatable",
    )
    serve_parser = commands.add_parser("serve", help="run one component (as a container does)")
    serve_parser.add_argument("component", choices=sorted(components.BY_NAME))
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
    replay_parser = commands.add_parser(
        "replay", help="publish again every retained event created since a time"
    )
    replay_parser.add_argument(
        "--since", required=True, help="ISO 8601 time, e.g. 2026-11-30T08:00Z"
    )
    dlq_parser = commands.add_parser("dlq", help="dead-letter topics")
    dlq_commands = dlq_parser.add_subparsers(dest="dlq_command", required=True)
    dlq_replay_parser = dlq_commands.add_parser(
        "replay", help="send dead letters back to their topic"
    )
    dlq_replay_parser.add_argument(
        "--topic", choices=sorted(set(topics.ALL_TOPICS)), help="default: every consumed topic"
    )
    args = parser.parse_args(argv)
    if args.command == "up":
        try:
            return up(frozenset(args.without))
        except (StackError, ConfigError) as error:
            say(f"todo up: {error}")
            return 1
    if args.command == "serve":
        return serve(args.component)
    if args.command == "replay":
        return replay(args.since)
    if args.command == "dlq":
        return dlq_replay(args.topic)
    return token(args.user, args.ttl, args.grpc)


if __name__ == "__main__":
    sys.exit(main())
