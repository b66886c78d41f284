"""Whether a local stack (`todo up`) runs on a data directory, and which servers it started.

`todo up` writes `stack.json` there once its embedded PostgreSQL and broker are ready and removes
it when it stops. The operator commands (`todo migrate`, `todo topics`, `todo replay`,
`todo dlq replay`) use those servers when `DATABASE_URL` / `KAFKA_BOOTSTRAP_SERVERS` are unset,
and otherwise say which variable to set: they never guess an address. A file left behind by a
`todo up` that was killed names a process that is gone, and counts for nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

STATE_FILE: Final = "stack.json"
DATABASE_ENV: Final = "DATABASE_URL"
BROKER_ENV: Final = "KAFKA_BOOTSTRAP_SERVERS"


@dataclass(frozen=True)
class StackState:
    """A running `todo up`: its process id and the servers it runs itself (None for a server of
    yours, named by the variable: its URL may hold a password, and is not copied to disk)."""

    pid: int
    database_url: str | None
    bootstrap_servers: str | None

    def server(self, variable: str) -> str | None:
        return {DATABASE_ENV: self.database_url, BROKER_ENV: self.bootstrap_servers}[variable]


class NoServer(RuntimeError):
    """Neither the variable nor a running local stack names the server a command needs."""

    def __init__(self, variable: str, directory: Path) -> None:
        self.variable = variable
        super().__init__(
            f"set {variable}: it is unset and no local stack (`todo up`) is running on "
            f"{directory} to use instead"
        )


def write_state(directory: Path, state: StackState) -> Path:
    """Records `state` (readable by its owner only, as `secrets.json`)."""
    path = directory / STATE_FILE
    staged = path.with_suffix(".tmp")
    staged.write_text(json.dumps(asdict(state)))
    staged.chmod(0o600)
    staged.replace(path)  # a reader sees the old file or the new one, never half of one
    return path


def remove_state(directory: Path, pid: int) -> None:
    """Removes the record, unless another `todo up` has written its own since."""
    state = _read(directory)
    if state is not None and state.pid == pid:
        (directory / STATE_FILE).unlink(missing_ok=True)


def running_stack(directory: Path) -> StackState | None:
    """The running stack's record, or None (no record, or its `todo up` is gone)."""
    state = _read(directory)
    return state if state is not None and _alive(state.pid) else None


def server_setting(variable: str, directory: Path, environ: Mapping[str, str]) -> str:
    """`variable`'s value; unset, the running local stack's server; else NoServer."""
    given = environ.get(variable, "").strip()
    if given:
        return given
    state = running_stack(directory)
    found = state.server(variable) if state is not None else None
    if found is None:
        raise NoServer(variable, directory)
    return found


def _read(directory: Path) -> StackState | None:
    try:
        data = json.loads((directory / STATE_FILE).read_text())
        return StackState(
            pid=int(data["pid"]),
            database_url=data.get("database_url"),
            bootstrap_servers=data.get("bootstrap_servers"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True
