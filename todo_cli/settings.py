"""Where the local stack keeps its state, and the secrets it generates once and reuses."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

import platformdirs

from todo_transparency.checkpoints import SigningKey, public_key_text

# The audit log's public key, written by `todo up` for `todo audit verify` to pin.
AUDIT_PUBLIC_KEY_FILE = "audit-public-key"


DATA_DIR_ENV: Final = "TODO_DATA_DIR"
# The secrets `todo up` generates once when they are not in the environment, and how.
SECRET_VARIABLES: Final[dict[str, Callable[[], str]]] = {
    "TODO_JWT_SECRET": lambda: secrets.token_urlsafe(32),
    "TODO_INTERNAL_SECRET": lambda: secrets.token_urlsafe(32),
    "TODO_AUDIT_SIGNING_KEY": SigningKey.generate_text,
}


def data_dir(*, create: bool = True) -> Path:
    """`TODO_DATA_DIR`, else the user's data directory (e.g. ~/.local/share/todo); made unless
    `create` is False (a command that only looks for a running stack leaves no directory)."""
    path = Path(os.environ.get(DATA_DIR_ENV) or platformdirs.user_data_dir("todo"))
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def stack_secrets(directory: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The JWT and internal secrets and the audit log's signing key: from the environment, else
    generated once into `secrets.json`.

    Keeping them on disk lets `todo token` sign tokens the running stack accepts, and keeps the
    audit log's checkpoints verifiable with the same key across restarts.
    """
    environ = os.environ if environ is None else environ
    path = directory / "secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    values = {
        name: environ.get(name) or stored.get(name) or generate()
        for name, generate in SECRET_VARIABLES.items()
    }
    if values != stored:
        path.write_text(json.dumps(values))
        path.chmod(0o600)
    return values


def write_audit_public_key(directory: Path, signing_key: str) -> Path:
    """Writes the public half of the audit signing key to `directory` (it is not secret)."""
    path = directory / AUDIT_PUBLIC_KEY_FILE
    text = public_key_text(SigningKey(signing_key).public_key) + "\n"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path
