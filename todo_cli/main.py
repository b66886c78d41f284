"""The `todo` command: `up`, `serve`, `token`, `audit verify`, and the operator's `migrate`,
`topics`, `replay`, `dlq replay` and `check` (its flags and help: `todo_cli.parser`)."""

from __future__ import annotations

import asyncio
import os
import runpy
import sys
from collections import ChainMap
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from todo_cli import audit_verify, check, components, operations, parser
from todo_cli.local_extra import LocalExtraMissing
from todo_cli.settings import data_dir, stack_secrets
from todo_cli.stack_state import (
    BROKER_ENV,
    DATABASE_ENV,
    NoServer,
    running_stack,
    server_setting,
)
from todo_cli.up import StackError, board_link, say, up
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
    """DATABASE_URL, else the running local stack's embedded PostgreSQL (NoServer if neither)."""
    return server_setting(DATABASE_ENV, data_dir(create=False), os.environ)


def _kafka() -> KafkaConfig:
    """KAFKA_BOOTSTRAP_SERVERS, else the running local stack's embedded broker (NoServer if
    neither); the Kafka security settings from the environment."""
    servers = server_setting(BROKER_ENV, data_dir(create=False), os.environ)
    return KafkaConfig.from_env(Env(ChainMap({BROKER_ENV: servers}, os.environ)))


def run_migrations() -> int:
    """`todo migrate`: the chart's migration Job (post-install and pre-upgrade)."""
    try:
        url = _database_url()
    except NoServer as error:
        say(f"todo migrate: {error}")
        return 2
    try:
        applied = asyncio.run(operations.migrate_all(url))
    except (OSError, asyncpg.PostgresError) as error:
        say(f"todo migrate: {error}")
        return 1
    for name, count in applied.items():
        say(f"{name}: {count} migration(s) applied")
    return 0


def run_topic_creation() -> int:
    """`todo topics`: the chart's topic-creation Job."""
    try:
        kafka = _kafka()
    except NoServer as error:
        say(f"todo topics: {error}")
        return 2
    except ConfigError as error:
        say(f"todo topics: {error}")
        return 1
    try:
        names = operations.create_topics(kafka)
    except topics.TopicError as error:
        say(f"todo topics: {error}")
        return 1
    say("topics present: " + ", ".join(names))
    return 0


async def _replay(url: str, since: datetime) -> dict[str, int]:
    conn = await asyncpg.connect(url)
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
        url = _database_url()
    except NoServer as error:
        say(f"todo replay: {error}")
        return 2
    try:
        counts = asyncio.run(_replay(url, moment))
    except (OSError, asyncpg.PostgresError) as error:
        say(f"todo replay: cannot reach the database: {error}")
        return 1
    for name, count in counts.items():
        say(f"{name}: {count} events since {moment.isoformat()} queued for publishing again")
    return 0


def dlq_replay(topic: str | None) -> int:
    """Sends the dead letters of `topic` (default: every consumed topic) back to their topic."""
    wanted = [topic] if topic else sorted({t for s in components.SERVICES for t in s.consumes})
    try:
        kafka = _kafka()
    except NoServer as error:
        say(f"todo dlq replay: {error}")
        return 2
    except ConfigError as error:
        say(f"todo dlq replay: {error}")
        return 1
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


def run_check(timeout: float, skip: frozenset[str]) -> int:
    """`todo check`: one line per check; 0 when every check passed, else 1 (the chart's helm
    test reads nothing but the status and the lines). Given neither a token nor the JWT secret,
    it signs as a running local stack (`todo up`) does, with that stack's own secret."""
    env = dict(os.environ)
    if not env.get(check.CHECK_TOKEN_ENV) and not env.get(check.JWT_SECRET_ENV):
        directory = data_dir()
        if running_stack(directory) is not None:
            env[check.JWT_SECRET_ENV] = stack_secrets(directory)[check.JWT_SECRET_ENV]
    try:
        outcomes = asyncio.run(check.run_checks(Env(env), timeout, skip))
    except ConfigError as error:
        say(f"todo check: {error}")
        return 1
    for outcome in outcomes:
        say(outcome.line())
    return 0 if all(outcome.problem is None for outcome in outcomes) else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = parser.build().parse_args(argv)
    commands_run: dict[str, Callable[[], int]] = {
        "audit": lambda: verify_audit(args.url, args.token, args.user, args.public_key),
        "up": lambda: run_up(frozenset(args.without)),
        "serve": lambda: serve(args.component),
        "migrate": run_migrations,
        "topics": run_topic_creation,
        "replay": lambda: replay(args.since),
        "dlq": lambda: dlq_replay(args.topic),
        "token": lambda: token(args.user, args.ttl, args.grpc, args.url),
        "check": lambda: run_check(args.timeout, frozenset(args.skip)),
    }
    return commands_run[args.command]()


if __name__ == "__main__":
    sys.exit(main())
