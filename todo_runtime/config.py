"""Typed configuration read once from the environment.

Each service declares a frozen dataclass and builds it with an `Env`; a missing
or malformed value fails at start-up naming the variable, never later.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final


class ConfigError(RuntimeError):
    """A required environment variable is missing or has a malformed value."""


class _Missing:
    pass


MISSING: Final = _Missing()
# Set by `todo up` on every process it starts; readiness probes check it (see endpoints).
RUN_ID_ENV: Final = "TODO_RUN_ID"


class Env:
    """Reads typed values from an environment mapping (default `os.environ`)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def _raw(self, key: str) -> str | None:
        value = self._environ.get(key)
        return None if value is None or value.strip() == "" else value.strip()

    def text(self, key: str, default: str | _Missing = MISSING) -> str:
        value = self._raw(key)
        if value is not None:
            return value
        if isinstance(default, _Missing):
            raise ConfigError(f"environment variable {key} is required")
        return default

    def integer(self, key: str, default: int | _Missing = MISSING) -> int:
        value = self._raw(key)
        if value is None:
            if isinstance(default, _Missing):
                raise ConfigError(f"environment variable {key} is required")
            return default
        try:
            return int(value)
        except ValueError:
            raise ConfigError(
                f"environment variable {key} must be an integer, got {value!r}"
            ) from None

    def number(self, key: str, default: float | _Missing = MISSING) -> float:
        value = self._raw(key)
        if value is None:
            if isinstance(default, _Missing):
                raise ConfigError(f"environment variable {key} is required")
            return default
        try:
            return float(value)
        except ValueError:
            raise ConfigError(
                f"environment variable {key} must be a number, got {value!r}"
            ) from None

    def flag(self, key: str, default: bool) -> bool:
        value = self._raw(key)
        if value is None:
            return default
        if value.lower() in {"1", "true", "yes", "on"}:
            return True
        if value.lower() in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"environment variable {key} must be true or false, got {value!r}")


@dataclass(frozen=True)
class DatabaseConfig:
    """Where a service's Postgres schema lives and how big its pool is."""

    url: str
    pool_min: int
    pool_max: int

    @classmethod
    def from_env(cls, env: Env) -> DatabaseConfig:
        return cls(
            url=env.text("DATABASE_URL"),
            pool_min=env.integer("TODO_DB_POOL_MIN", 1),
            pool_max=env.integer("TODO_DB_POOL_MAX", 10),
        )


@dataclass(frozen=True)
class GrpcServerConfig:
    """Where a service listens and how long it drains in-flight calls on stop."""

    host: str
    port: int
    grace_seconds: float


def internal_secret(env: Env) -> str:
    """The key services share to sign and verify the caller identity in gRPC metadata."""
    secret = env.text("TODO_INTERNAL_SECRET")
    if len(secret) < 16:
        raise ConfigError(
            "environment variable TODO_INTERNAL_SECRET must be at least 16 characters"
        )
    return secret
