"""The audit log's settings, read once at start (docs/operations.md#the-audit-logs-signing-key)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from todo_runtime.config import ConfigError, Env
from todo_transparency.checkpoints import BadKey, SigningKey

DEFAULT_ORIGIN = "todo.audit.v1"
SIGNING_KEY_ENV: Final = "TODO_AUDIT_SIGNING_KEY"
PREVIOUS_KEY_ENV: Final = "TODO_AUDIT_PREVIOUS_SIGNING_KEY"
REPLACE_LOST_KEY_ENV: Final = "TODO_AUDIT_REPLACE_LOST_KEY"
_KEY_ID: Final = re.compile(r"[0-9a-f]{8}")


def _key(text: str, name: str) -> SigningKey:
    try:
        return SigningKey(text)
    except BadKey as error:
        raise ConfigError(f"environment variable {name}: {error}") from None


@dataclass(frozen=True)
class AuditSettings:
    """How the log is signed and how often.

    signing_key: the Ed25519 key checkpoints are signed with
        (`TODO_AUDIT_SIGNING_KEY`, base64 of its 32-byte seed; required).
    previous_signing_key: the key it replaces on purpose (`TODO_AUDIT_PREVIOUS_SIGNING_KEY`):
        the first replica to start signs a rotation to `signing_key` with it.
    replace_lost_key: the key id of a lost key that `signing_key` replaces without a
        rotation (`TODO_AUDIT_REPLACE_LOST_KEY`); verifiers must re-pin.
    origin: the log's name, the first line of every checkpoint.
    checkpoint_entries: a checkpoint at least every this many entries.
    checkpoint_seconds: an entry waits at most this long for a checkpoint to cover it.
    batch: entries appended per transaction, at most.
    """

    signing_key: SigningKey
    previous_signing_key: SigningKey | None = None
    replace_lost_key: str | None = None
    origin: str = DEFAULT_ORIGIN
    checkpoint_entries: int = 1000
    checkpoint_seconds: float = 5.0
    batch: int = 2000

    @classmethod
    def from_env(cls, env: Env) -> AuditSettings:
        key = _key(env.text(SIGNING_KEY_ENV), SIGNING_KEY_ENV)
        previous_text = env.text(PREVIOUS_KEY_ENV, "")
        previous = _key(previous_text, PREVIOUS_KEY_ENV) if previous_text else None
        if previous is not None and previous.public_key == key.public_key:
            raise ConfigError(
                f"environment variable {PREVIOUS_KEY_ENV} is the same key as {SIGNING_KEY_ENV}: "
                "set it to the key being replaced, or unset it"
            )
        lost = env.text(REPLACE_LOST_KEY_ENV, "").lower() or None
        if lost is not None and _KEY_ID.fullmatch(lost) is None:
            raise ConfigError(
                f"environment variable {REPLACE_LOST_KEY_ENV} must be a key id (8 hex digits, "
                f"as in the error that named it), got {lost[:40]!r}"
            )
        settings = cls(
            signing_key=key,
            previous_signing_key=previous,
            replace_lost_key=lost,
            origin=env.text("TODO_AUDIT_ORIGIN", DEFAULT_ORIGIN),
            checkpoint_entries=env.integer("TODO_AUDIT_CHECKPOINT_ENTRIES", 1000),
            checkpoint_seconds=env.number("TODO_AUDIT_CHECKPOINT_SECONDS", 5.0),
            batch=env.integer("TODO_AUDIT_BATCH", 2000),
        )
        if settings.checkpoint_entries < 1:
            raise ConfigError("environment variable TODO_AUDIT_CHECKPOINT_ENTRIES must be >= 1")
        if not settings.checkpoint_seconds > 0:
            raise ConfigError("environment variable TODO_AUDIT_CHECKPOINT_SECONDS must be > 0")
        if settings.batch < 1:
            raise ConfigError("environment variable TODO_AUDIT_BATCH must be >= 1")
        return settings
