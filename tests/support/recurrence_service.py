"""svc_recur's RecurrenceService alone, served in this process: parsing needs no database or
broker, so its tests and the gateway's need nothing else running."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from svc_recur.service import SERVICE_NAME
from svc_recur.servicer import RecurrenceServicer
from todo_contracts.recur.v1 import recurrence_service_pb2_grpc
from todo_runtime.config import GrpcServerConfig
from todo_runtime.grpc_server import ServiceBinding, start_server
from todo_runtime.offload import Offload


@contextlib.asynccontextmanager
async def serving_recurrence(internal_secret: str) -> AsyncIterator[str]:
    """The service on a free port, serving; yields its address."""
    offload = Offload("recur-test")
    binding = ServiceBinding(
        SERVICE_NAME,
        RecurrenceServicer(offload),
        recurrence_service_pb2_grpc.add_RecurrenceServiceServicer_to_server,
        public=RecurrenceServicer.PUBLIC,
    )
    server = await start_server(GrpcServerConfig("127.0.0.1", 0, 0.1), internal_secret, [binding])
    await server.set_serving(True)
    try:
        yield f"127.0.0.1:{server.port}"
    finally:
        await server.stop(0.1)
        offload.close()
