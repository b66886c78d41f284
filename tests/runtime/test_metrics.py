"""Prometheus metrics move with real traffic: gRPC calls by method and status, GraphQL operations
by root field and errors by code, and the /metrics endpoint serves them."""

from __future__ import annotations

import uuid

import grpc
import pytest
from prometheus_client import REGISTRY

from gateway.schema import build_schema
from tests.support.infra import RunningTasks, eventually
from tests.support.metrics_endpoint import scraped
from todo_contracts.tasks.v1 import tasks_service_pb2, tasks_service_pb2_grpc
from todo_runtime.config import Env
from todo_runtime.identity import identity_metadata
from todo_runtime.metrics import serve_metrics

GET_TASK = "/todo.tasks.v1.TaskService/GetTask"


def sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_grpc_calls_are_counted_by_method_and_status(tasks_service: RunningTasks) -> None:
    not_found = {"method": GET_TASK, "code": "NOT_FOUND"}
    unauthenticated = {"method": GET_TASK, "code": "UNAUTHENTICATED"}
    before = sample("todo_grpc_requests_total", not_found)
    before_anonymous = sample("todo_grpc_requests_total", unauthenticated)
    timed = sample("todo_grpc_request_seconds_count", {"method": GET_TASK})
    async with grpc.aio.insecure_channel(tasks_service.address) as channel:
        stub = tasks_service_pb2_grpc.TaskServiceStub(channel)
        request = tasks_service_pb2.GetTaskRequest(id=str(uuid.uuid4()))
        for metadata in (identity_metadata(tasks_service.secret, "alice"), ()):
            with pytest.raises(grpc.aio.AioRpcError):
                await stub.GetTask(request, metadata=metadata, timeout=10)
    # The client has its status before the server's handler has finished: wait for the count.
    await eventually(lambda: sample("todo_grpc_requests_total", not_found) == before + 1)
    await eventually(
        lambda: sample("todo_grpc_requests_total", unauthenticated) == before_anonymous + 1
    )
    await eventually(
        lambda: sample("todo_grpc_request_seconds_count", {"method": GET_TASK}) == timed + 2
    )


async def test_graphql_operations_are_counted_by_root_field_and_errors_by_code() -> None:
    schema = build_schema()
    typename = {"operation": "query __typename"}
    invalid = {"operation": "invalid"}
    before = sample("todo_graphql_operations_total", typename)
    before_invalid = sample("todo_graphql_operations_total", invalid)
    bad_input = sample("todo_graphql_errors_total", {"code": "BAD_USER_INPUT"})

    assert (await schema.execute("query Anything { __typename }")).errors is None
    assert (await schema.execute("{ noSuchField }")).errors

    assert sample("todo_graphql_operations_total", typename) == before + 1
    assert sample("todo_graphql_operations_total", invalid) == before_invalid + 1
    assert sample("todo_graphql_errors_total", {"code": "BAD_USER_INPUT"}) == bad_input + 1


async def test_metrics_are_served_on_their_own_port_only_when_asked() -> None:
    assert serve_metrics(Env({}), "127.0.0.1") is None
    response = await scraped({})
    assert response.status_code == 200
    assert "todo_grpc_requests_total" in response.text
    assert "todo_graphql_operations_total" in response.text
