"""Per-request context: who is calling (or why nobody is) and the stubs to call services with."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.config import GatewayConfig
from gateway.errors import unauthenticated
from todo_contracts.recur.v1.recurrence_service_pb2_grpc import RecurrenceServiceStub
from todo_contracts.tasks.v1.tasks_service_pb2_grpc import TaskServiceStub
from todo_runtime.grpc_client import CallContext, open_channel

if TYPE_CHECKING:
    from todo_contracts.recur.v1.recurrence_service_pb2_grpc import RecurrenceServiceAsyncStub
    from todo_contracts.tasks.v1.tasks_service_pb2_grpc import TaskServiceAsyncStub

log = logging.getLogger(__name__)


class Services:
    """The gRPC channels every request shares.

    Channels belong to the event loop that serves requests, so they are opened
    in the app's lifespan (`open`) rather than at construction.
    """

    def __init__(self, config: GatewayConfig) -> None:
        self._config = config
        self.call = CallContext(config.internal_secret, config.grpc_timeout)
        self._channels: list[grpc.aio.Channel] = []
        self._stubs: _Stubs | None = None

    def open(self) -> None:
        tasks_channel = open_channel(self._config.tasks_address)
        recur_channel = open_channel(self._config.recur_address)
        self._channels = [tasks_channel, recur_channel]
        self._stubs = _Stubs(
            tasks=TaskServiceStub(tasks_channel),
            recur=RecurrenceServiceStub(recur_channel),
            tasks_health=health_pb2_grpc.HealthStub(tasks_channel),
        )

    async def close(self) -> None:
        channels, self._channels, self._stubs = self._channels, [], None
        for channel in channels:
            await channel.close(None)

    @property
    def tasks(self) -> TaskServiceAsyncStub:
        return self._opened().tasks

    @property
    def recur(self) -> RecurrenceServiceAsyncStub:
        return self._opened().recur

    async def tasks_serving(self, within: float) -> bool:
        """Whether svc_tasks answers its gRPC health check with SERVING within `within` seconds."""
        request = health_pb2.HealthCheckRequest(service="")
        try:
            response = await self._opened().tasks_health.Check(request, timeout=within)
        except grpc.aio.AioRpcError as error:
            log.debug("svc_tasks not ready: %s", error.code().name)
            return False
        return bool(response.status == health_pb2.HealthCheckResponse.SERVING)

    def _opened(self) -> _Stubs:
        if self._stubs is None:
            raise RuntimeError("gRPC channels are not open: run the app with its lifespan")
        return self._stubs


@dataclass(frozen=True)
class _Stubs:
    tasks: TaskServiceAsyncStub
    recur: RecurrenceServiceAsyncStub
    tasks_health: Any  # grpc_health ships no stubs for health_pb2_grpc


@dataclass
class GatewayContext:
    """What resolvers get as `info.context`.

    user_id is None when the caller is not authenticated; `auth_error` then says
    why, and every field that needs a user fails with UNAUTHENTICATED. Fields
    that need no user (introspection) still work. On WebSocket the context lives
    for the whole connection: `connection_params` is the `connection_init`
    payload and `user_id` is set when it is accepted.
    """

    services: Services
    max_page_size: int
    user_id: str | None = None
    auth_error: str = "missing bearer token"
    connection_params: dict[str, object] | None = None

    def user(self) -> str:
        """The authenticated user id; raises UNAUTHENTICATED otherwise."""
        if self.user_id is None:
            raise unauthenticated(self.auth_error)
        return self.user_id

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """Signed identity metadata for a call made on the caller's behalf."""
        return self.services.call.metadata(self.user())

    @property
    def timeout(self) -> float:
        return self.services.call.timeout

    @property
    def tasks(self) -> TaskServiceAsyncStub:
        """svc_tasks; UNAUTHENTICATED before any call is made when nobody is signed in."""
        self.user()
        return self.services.tasks

    @property
    def recur(self) -> RecurrenceServiceAsyncStub:
        """svc_recur; UNAUTHENTICATED before any call is made when nobody is signed in."""
        self.user()
        return self.services.recur
