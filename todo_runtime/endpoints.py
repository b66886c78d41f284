"""Where each component listens, and how its clients find it: one setting moves both.

A server binds `TODO_<NAME>_PORT` (defaults in docs/architecture.md#running-it); its
clients dial `TODO_<NAME>_ADDR` when set (another host, a Kubernetes Service)
and otherwise 127.0.0.1 on that same port, so moving a port on one machine
never leaves a client dialling the old one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from todo_runtime.config import ConfigError, Env

LOCALHOST: Final = "127.0.0.1"


@dataclass(frozen=True)
class Endpoint:
    """A component's listening port setting and its clients' address setting."""

    name: str
    port_env: str
    addr_env: str
    default_port: int

    def port(self, env: Env) -> int:
        port = env.integer(self.port_env, self.default_port)
        if not 0 <= port <= 65535:
            raise ConfigError(f"environment variable {self.port_env} must be 0..65535, got {port}")
        return port

    def address(self, env: Env) -> str:
        """host:port its clients dial."""
        return env.text(self.addr_env, "") or f"{LOCALHOST}:{self.port(env)}"


TASKS: Final = Endpoint("tasks", "TODO_TASKS_PORT", "TODO_TASKS_ADDR", 50051)
NOTIFY: Final = Endpoint("notify", "TODO_NOTIFY_PORT", "TODO_NOTIFY_ADDR", 50052)
RECUR: Final = Endpoint("recur", "TODO_RECUR_PORT", "TODO_RECUR_ADDR", 50053)
AUDIT: Final = Endpoint("audit", "TODO_AUDIT_PORT", "TODO_AUDIT_ADDR", 50054)
LIVE: Final = Endpoint("live", "TODO_LIVE_PORT", "TODO_LIVE_ADDR", 50055)
GATEWAY: Final = Endpoint("gateway", "TODO_GATEWAY_PORT", "TODO_GATEWAY_URL", 8000)
