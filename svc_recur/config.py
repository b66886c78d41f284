"""svc_recur settings, read once from the environment at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from svc_recur.recurrence import CatchUp
from todo_runtime.config import (
    ConfigError,
    DatabaseConfig,
    Env,
    GrpcServerConfig,
    KafkaConfig,
    internal_secret,
)

SCHEMA = "recur"
DEFAULT_PORT = 50053


@dataclass(frozen=True)
class RecurConfig:
    database: DatabaseConfig
    kafka: KafkaConfig
    grpc: GrpcServerConfig
    internal_secret: str
    tasks_address: str
    grpc_timeout: float
    catch_up: CatchUp

    @classmethod
    def from_env(cls, env: Env | None = None) -> RecurConfig:
        env = env or Env()
        policy = env.text("TODO_RECUR_CATCH_UP", CatchUp.NEXT_AFTER_NOW.value)
        try:
            catch_up = CatchUp(policy)
        except ValueError:
            raise ConfigError(
                f"environment variable TODO_RECUR_CATCH_UP must be one of {[c.value for c in CatchUp]}"
            ) from None
        return cls(
            database=DatabaseConfig.from_env(env),
            kafka=KafkaConfig.from_env(env),
            grpc=GrpcServerConfig.from_env(env, "TODO_RECUR_PORT", DEFAULT_PORT),
            internal_secret=internal_secret(env),
            tasks_address=env.text("TODO_TASKS_ADDR", "127.0.0.1:50051"),
            grpc_timeout=env.number("TODO_GRPC_TIMEOUT_SECONDS", 5.0),
            catch_up=catch_up,
        )
