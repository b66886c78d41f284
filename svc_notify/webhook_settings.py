"""The operator's webhook settings, read once at start (docs/guide.md#webhooks)."""

from __future__ import annotations

from dataclasses import dataclass

from todo_runtime.config import ConfigError, Env


@dataclass(frozen=True)
class WebhookSettings:
    """How deliveries are made.

    allow_private: also send to loopback, private and link-local targets (a
    development machine or a trusted network); cloud metadata stays refused.
    timeout: seconds one attempt may take, name lookup to response headers.
    retry_scale: factor on the retry schedule's delays (tests shorten it).
    concurrency: attempts in flight at once per replica.
    ca_file: PEM bundle that https targets are verified against, instead of
    the bundled public roots (a private CA).
    """

    allow_private: bool = False
    timeout: float = 15.0
    retry_scale: float = 1.0
    concurrency: int = 16
    ca_file: str = ""

    @classmethod
    def from_env(cls, env: Env) -> WebhookSettings:
        settings = cls(
            allow_private=env.flag("TODO_WEBHOOK_ALLOW_PRIVATE", False),
            timeout=env.number("TODO_WEBHOOK_TIMEOUT_SECONDS", 15.0),
            retry_scale=env.number("TODO_WEBHOOK_RETRY_SCALE", 1.0),
            concurrency=env.integer("TODO_WEBHOOK_CONCURRENCY", 16),
            ca_file=env.text("TODO_WEBHOOK_CA_FILE", ""),
        )
        if not settings.timeout > 0:
            raise ConfigError("environment variable TODO_WEBHOOK_TIMEOUT_SECONDS must be > 0")
        if not settings.retry_scale > 0:
            raise ConfigError("environment variable TODO_WEBHOOK_RETRY_SCALE must be > 0")
        if settings.concurrency < 1:
            raise ConfigError("environment variable TODO_WEBHOOK_CONCURRENCY must be >= 1")
        return settings
