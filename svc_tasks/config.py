"""svc_tasks settings, read once from the environment at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from todo_runtime.config import DatabaseConfig, Env, GrpcServerConfig, KafkaConfig, internal_secret

SCHEMA = "tasks"
DEFAULT_PORT = 50051


@dataclass(frozen=True)
class TasksConfig:
    database: DatabaseConfig
    kafka: KafkaConfig
    grpc: GrpcServerConfig
    internal_secret: str

    @classmethod
    def from_env(cls, env: Env | None = None) -> TasksConfig:
        env = env or Env()
        return cls(
            database=DatabaseConfig.from_env(env),
            kafka=KafkaConfig.from_env(env),
            grpc=GrpcServerConfig.from_env(env, "TODO_TASKS_PORT", DEFAULT_PORT),
            internal_secret=internal_secret(env),
        )
