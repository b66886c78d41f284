"""Where the local stack keeps its state, and the secrets it generates once and reuses."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

import platformdirs


def data_dir() -> Path:
    """`TODO_DATA_DIR`, else the user's data directory (e.g. ~/.local/share/todo)."""
    path = Path(os.environ.get("TODO_DATA_DIR") or platformdirs.user_data_dir("todo"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def stack_secrets(directory: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The JWT and internal secrets: from the environment, else generated once into `secrets.json`.

    Keeping them on disk lets `todo token` sign tokens the running stack accepts.
    """
    environ = os.environ if environ is None else environ
    path = directory / "secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    values = {
        "TODO_JWT_SECRET": environ.get("TODO_JWT_SECRET")
        or stored.get("TODO_JWT_SECRET")
        or secrets.token_urlsafe(32),
        "TODO_INTERNAL_SECRET": environ.get("TODO_INTERNAL_SECRET")
        or stored.get("TODO_INTERNAL_SECRET")
        or secrets.token_urlsafe(32),
    }
    if values != stored:
        path.write_text(json.dumps(values))
        path.chmod(0o600)
    return values
