"""The processes of the stack, in start order, and how to tell each is ready."""

from __future__ import annotations

import os
from dataclasses import dataclass

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc


@dataclass(frozen=True)
class Component:
    """`todo serve <name>` runs `python -m <module>`; it listens on `port_env` (default `default_port`)."""

    name: str
    module: str
    port_env: str
    default_port: int
    http: bool = False

    def port(self) -> int:
        return int(os.environ.get(self.port_env) or self.default_port)

    def address(self) -> str:
        port = self.port()
        return f"http://127.0.0.1:{port}/graphql" if self.http else f"grpc://127.0.0.1:{port}"

    async def ready(self) -> bool:
        """gRPC health SERVING, or the gateway's /readyz answering 200."""
        try:
            if self.http:
                async with httpx.AsyncClient(timeout=1.0) as client:
                    return (
                        await client.get(f"http://127.0.0.1:{self.port()}/readyz")
                    ).status_code == 200
            async with grpc.aio.insecure_channel(f"127.0.0.1:{self.port()}") as channel:
                reply = await health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=1.0
                )
                return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
        except (TimeoutError, grpc.aio.AioRpcError, httpx.HTTPError):
            return False


COMPONENTS = (
    Component("tasks", "svc_tasks", "TODO_TASKS_PORT", 50051),
    Component("recur", "svc_recur", "TODO_RECUR_PORT", 50053),
    Component("gateway", "gateway", "TODO_GATEWAY_PORT", 8000, http=True),
)
BY_NAME = {component.name: component for component in COMPONENTS}
