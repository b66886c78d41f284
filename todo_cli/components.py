"""The processes of the stack in start order, from the services' own declarations, and their probes.

Every probe checks that it reached this run's process: gRPC services report
SERVING for the health name `todo.run.<run id>` only, and the gateway echoes
the run id on /readyz. A second stack on the same ports can never pass.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from typing import Final

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.app import RUN_ID_HEADER
from gateway.component import COMPONENT as GATEWAY
from svc_audit.service import SERVICE as AUDIT
from svc_live.service import SERVICE as LIVE
from svc_notify.service import SERVICE as NOTIFY
from svc_recur.service import SERVICE as RECUR
from svc_tasks.service import SERVICE as TASKS
from todo_runtime.config import Env
from todo_runtime.endpoints import LOCALHOST
from todo_runtime.service import Component, ServiceDefinition

SERVICES: Final[tuple[ServiceDefinition, ...]] = (TASKS, NOTIFY, RECUR, AUDIT, LIVE)
COMPONENTS: Final[tuple[Component, ...]] = (*(s.component for s in SERVICES), GATEWAY)
BY_NAME: Final = {component.name: component for component in COMPONENTS}


def address(component: Component, env: Env) -> str:
    port = component.endpoint.port(env)
    if component.http:
        return f"http://{LOCALHOST}:{port}/graphql"
    return f"grpc://{LOCALHOST}:{port}"


async def ready(component: Component, env: Env, run_id: str) -> bool:
    """Whether this run's `component` serves: gRPC health, or the gateway's /readyz."""
    port = component.endpoint.port(env)
    if component.http:
        return await asyncio.to_thread(_http_ready, port, run_id)
    try:
        async with grpc.aio.insecure_channel(f"{LOCALHOST}:{port}") as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=f"todo.run.{run_id}"), timeout=1.0
            )
    except grpc.aio.AioRpcError:
        return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def _http_ready(port: int, run_id: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{LOCALHOST}:{port}/readyz", timeout=1.0) as response:
            return bool(response.status == 200 and response.headers.get(RUN_ID_HEADER) == run_id)
    except (OSError, urllib.error.URLError):
        return False
