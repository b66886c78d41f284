"""The whole stack as `todo up` runs it (every part its own process), for benchmarks under load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from todo_cli.broker import free_port
from todo_cli.database import EmbeddedPostgres
from todo_cli.die_with_parent import tied
from todo_cli.settings import stack_secrets
from todo_runtime.tokens import issue_token


@dataclass(frozen=True)
class LocalStack:
    """A running `todo up`: where its gateway listens and how to sign in."""

    env: dict[str, str]
    process: subprocess.Popen[str]

    @property
    def base_url(self) -> str:
        """The gateway's origin; GraphQL is at /graphql."""
        return f"http://127.0.0.1:{self.env['TODO_GATEWAY_PORT']}"

    def token(self, user: str) -> str:
        """A token for `user` signed with the stack's secret, as `todo token` mints it."""
        secret = stack_secrets(Path(self.env["TODO_DATA_DIR"]), self.env)["TODO_JWT_SECRET"]
        return issue_token(secret, user, 3600)

    def users_file(self, users: list[str], path: Path) -> Path:
        """`path` with one "<user> <token>" line per user."""
        path.write_text("".join(f"{user} {self.token(user)}\n" for user in users))
        return path


@contextmanager
def local_stack(
    postgres_conf: Mapping[str, str] | None = None, **settings: str
) -> Iterator[LocalStack]:
    """`todo up` on free ports in a scratch data directory; `settings` are more variables, and
    `postgres_conf` lines for the embedded PostgreSQL's postgresql.conf (settings only a
    restart applies, such as `shared_preload_libraries`)."""
    with tempfile.TemporaryDirectory(prefix="todo-bench-stack-") as data:
        if postgres_conf:
            server = EmbeddedPostgres(Path(data) / "data")
            server.prepare()  # `todo up` starts the cluster it finds
            with (server.pgdata / "postgresql.conf").open("a") as conf:
                conf.writelines(f"{name} = '{value}'\n" for name, value in postgres_conf.items())
        env = {k: v for k, v in os.environ.items() if not k.startswith("TODO_")}
        env.pop("DATABASE_URL", None)
        env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
        env.update(
            TODO_DATA_DIR=str(Path(data) / "data"),
            TODO_BROKER_PORT=str(free_port()),
            TODO_TASKS_PORT=str(free_port()),
            TODO_RECUR_PORT=str(free_port()),
            TODO_NOTIFY_PORT=str(free_port()),
            TODO_AUDIT_PORT=str(free_port()),
            TODO_LIVE_PORT=str(free_port()),
            TODO_GATEWAY_PORT=str(free_port()),
            TODO_LOG_LEVEL="WARNING",
            **settings,
        )
        process = subprocess.Popen(
            tied([sys.executable, "-m", "todo_cli", "up"]),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            for line in process.stdout or []:
                if "todo stack ready" in line:
                    break
                if "not ready" in line:
                    raise RuntimeError(f"todo up did not become ready: {line}")
            else:
                raise RuntimeError("todo up exited before it was ready")
            # Keep reading its output, so a chatty stack never blocks on a full pipe.
            threading.Thread(
                target=lambda: [None for _ in process.stdout or []], daemon=True
            ).start()
            yield LocalStack(env, process)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(60)
