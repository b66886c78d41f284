"""The one table from domain errors to gRPC status codes (todo_runtime.grpc_server.status_of)."""

from __future__ import annotations

import grpc
import pytest

from todo_runtime.errors import (
    Conflict,
    DataDamaged,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    TooSlow,
    Unauthenticated,
)
from todo_runtime.grpc_server import status_of


class NoSuchWebhook(NotFound):
    """A service's own kind of an error the table knows."""


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidArgument("task.title", "must not be empty"), grpc.StatusCode.INVALID_ARGUMENT),
        (NotFound("task 1 not found"), grpc.StatusCode.NOT_FOUND),
        (FailedPrecondition("the webhook is disabled"), grpc.StatusCode.FAILED_PRECONDITION),
        (Conflict("task 1 is at version 2, not 1"), grpc.StatusCode.ABORTED),
        (Unauthenticated("no x-todo-user"), grpc.StatusCode.UNAUTHENTICATED),
        (NoSuchWebhook("webhook 1 not found"), grpc.StatusCode.NOT_FOUND),
        (DataDamaged("the log lost entry 3"), grpc.StatusCode.DATA_LOSS),
        (TooSlow("the stream's buffer overflowed"), grpc.StatusCode.RESOURCE_EXHAUSTED),
        (DomainError("a kind the table does not know"), grpc.StatusCode.INTERNAL),
    ],
)
def test_each_kind_of_domain_error_has_one_status(
    error: DomainError, status: grpc.StatusCode
) -> None:
    assert status_of(error) is status
