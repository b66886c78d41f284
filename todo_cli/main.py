"""The `todo` command: `up`, `serve`, `token`, `audit verify`, and the operator's `migrate`,
`topics`, `replay` and `dlq replay`."""

from __future__ import annotations

import argparse
import asyncio
import os
import runpy
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from todo_cli import audit_verify, components, operations
from todo_cli.database import EmbeddedPostgres
from todo_cli.local_extra import LocalExtraMissing
from todo_cli.settings import data_dir, stack_secrets
from todo_cli.up import DEFAULT_BROKER_PORT, StackError, board_link, say, up
from todo_runtime import topics
from todo_runtime.config import ConfigError, Env
from todo_runtime.dead_letters import ReplayError, replay_dead_letters
from todo_runtime.identity import identity_metadata
from todo_runtime.kafka_settings import KafkaConfig
from todo_runtime.outbox import requeue_since
from todo_runtime.tokens import issue_token
from todo_runtime.validation import user_id_problem
from todo_transparency.checkpoints import public_key_text


def serve(name: str) -> int:
    """Runs one component in this process: the entrypoint a container uses."""
    runpy.run_module(components.BY_NAME[name].module, run_name="__main__")
    return 0


def token(user: str, ttl: int, grpc_headers: bool, url: bool) -> int:
    """Prints a JWT for `user` signed with the stack's secret (or grpcurl -H flags for a service,
    or with `url` a link to the task board that signs a browser in as `user`)."""
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
        issued = issue_token(secrets["TODO_JWT_SECRET"], user, ttl)
    except ValueError as error:
        say(f"todo token: {error}")
        return 2
    gateway = components.address(components.BY_NAME["gateway"], Env(os.environ))
    say(board_link(gateway, issued) if url else issued)
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


def run_migrations() -> int:
    """`todo migrate`: the chart's migration Job (post-install and pre-upgrade)."""
    try:
        applied = asyncio.run(operations.migrate_all(_database_url()))
    except (OSError, asyncpg.PostgresError) as error:
        say(f"todo migrate: {error}")
        return 1
    for name, count in applied.items():
        say(f"{name}: {count} migration(s) applied")
    return 0


def run_topic_creation() -> int:
    """`todo topics`: the chart's topic-creation Job."""
    try:
        names = operations.create_topics(_kafka())
    except (ConfigError, topics.TopicError) as error:
        say(f"todo topics: {error}")
        return 1
    say("topics present: " + ", ".join(names))
    return 0


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


def run_up(without: frozenset[str]) -> int:
    """`todo up`, with a setting or port problem reported in one line."""
    try:
        return up(without)
    except (StackError, ConfigError, LocalExtraMissing) as error:
        say(f"todo up: {error}")
        return 1


def verify_audit(url: str | None, token: str | None, user: str | None, key: str | None) -> int:
    """Checks the caller's audit log against the pinned key and the last verified checkpoint:
    0 verified; 1 failed (the log, or the server's answers, contradict what was signed); 2 could
    not run (the API unreachable or unavailable, the token refused, a key or state file)."""
    env = Env()
    directory = data_dir()
    try:
        if token is None and user is not None:  # the local stack: sign a token as `todo token` does
            token = issue_token(stack_secrets(directory)["TODO_JWT_SECRET"], user, 300)
        token = token or env.text(audit_verify.TOKEN_ENV, "")
        if not token:
            raise audit_verify.AuditVerifyError(
                f"give your token: --token, {audit_verify.TOKEN_ENV}, or --user on the local stack"
            )
        public_key = audit_verify.pinned_key(Path(key) if key else None, env, directory)
        outcome = audit_verify.run(
            url=url or audit_verify.default_url(env),
            token=token,
            public_key=public_key,
            data=directory,
        )
    except (audit_verify.AuditVerifyError, ValueError) as error:
        say(f"todo audit verify: {error}")
        return 2
    if outcome.served_key and outcome.served_key != public_key_text(outcome.trusted_key):
        trusted = "you pinned" if outcome.trusted_key == public_key else "its rotations lead to"
        say(f"warning: the server signs with key {outcome.served_key}, not the one {trusted}")
    say(outcome.report())
    return 0 if outcome.failure is None else 1


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
        "--url",
        action="store_true",
        help="print a link to the task board that signs a browser in as USER",
    )
    token_parser.add_argument(
        "--grpc",
        action="store_true",
        help="print grpcurl -H flags for calling a service directly (valid 5 minutes)",
    )
    commands.add_parser(
        "migrate", help="apply every component's database migrations (DATABASE_URL), then exit"
    )
    commands.add_parser(
        "topics", help="create every topic (KAFKA_BOOTSTRAP_SERVERS) that is missing, then exit"
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
    audit_parser = commands.add_parser("audit", help="your task history's audit log")
    audit_commands = audit_parser.add_subparsers(dest="audit_command", required=True)
    verify_parser = audit_commands.add_parser(
        "verify",
        help="check your entries against the signed log, trusting no server (exit 1 if not ok)",
    )
    verify_parser.add_argument("--url", help="the GraphQL endpoint (default: the local gateway)")
    verify_parser.add_argument(
        "--token", help=f"your bearer token (default: ${audit_verify.TOKEN_ENV})"
    )
    verify_parser.add_argument(
        "--user", help="on the local stack: sign a token for USER instead of giving one"
    )
    verify_parser.add_argument(
        "--public-key",
        metavar="FILE",
        help=f"the log's public key to trust (default: ${audit_verify.PUBLIC_KEY_ENV}, else "
        f"{audit_verify.PUBLIC_KEY_FILE} in the data directory, which `todo up` writes)",
    )
    args = parser.parse_args(argv)
    commands_run: dict[str, Callable[[], int]] = {
        "audit": lambda: verify_audit(args.url, args.token, args.user, args.public_key),
        "up": lambda: run_up(frozenset(args.without)),
        "serve": lambda: serve(args.component),
        "migrate": run_migrations,
        "topics": run_topic_creation,
        "replay": lambda: replay(args.since),
        "dlq": lambda: dlq_replay(args.topic),
        "token": lambda: token(args.user, args.ttl, args.grpc, args.url),
    }
    return commands_run[args.command]()


if __name__ == "__main__":
    sys.exit(main())
