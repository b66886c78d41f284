"""The audit log's settings, read once at start (README, "A task's history")."""

from __future__ import annotations

from dataclasses import dataclass

from todo_runtime.config import ConfigError, Env
from todo_transparency.checkpoints import BadKey, SigningKey

DEFAULT_ORIGIN = "todo.audit.v1"


@dataclass(frozen=True)
class AuditSettings:
    """How the log is signed and how often.

    signing_key: the Ed25519 key checkpoints are signed with
        (`TODO_AUDIT_SIGNING_KEY`, base64 of its 32-byte seed; required).
    origin: the log's name, the first line of every checkpoint.
    checkpoint_entries: a checkpoint at least every this many entries.
    checkpoint_seconds: an entry waits at most this long for a checkpoint to cover it.
    batch: entries appended per transaction, at most.
    """

    signing_key: SigningKey
    origin: str = DEFAULT_ORIGIN
    checkpoint_entries: int = 1000
    checkpoint_seconds: float = 5.0
    batch: int = 2000

    @classmethod
    def from_env(cls, env: Env) -> AuditSettings:
        try:
            key = SigningKey(env.text("TODO_AUDIT_SIGNING_KEY"))
        except BadKey as error:
            raise ConfigError(f"environment variable TODO_AUDIT_SIGNING_KEY: {error}") from None
        settings = cls(
            signing_key=key,
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
